"""The base coordinator: what goes to the history store, and the update path."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
from typing import Any, ClassVar, override

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.home_monitor.const import (
    CONF_SOURCE,
    DOMAIN,
    LATE_DELIVERY_PERIOD,
)
from custom_components.home_monitor.coordinator import (
    HomeMonitorConfigEntry,
    HomeMonitorCoordinator,
    SourceDevice,
)
from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.retry import BackoffPolicy, RetryEvent, RetryOutcome
from custom_components.home_monitor.sources.hue.coordinator import HueCoordinator
from custom_components.home_monitor.store import HistoryStore, StoreSettings
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.contents import stored_events, stored_readings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEVICE = "test:bridge:sensor"
OTHER = "test:bridge:other"


def _device(key: str) -> SourceDevice:
    return SourceDevice(
        DeviceRecord(key, "test", key.rsplit(":", 1)[-1]),
        frozenset({Metric.TEMPERATURE}),
    )


class _Coordinator(HomeMonitorCoordinator):
    """A source whose poll returns whatever the test put in `devices`."""

    source: ClassVar[str] = "test"
    remove_stale_devices: ClassVar[bool] = True

    def __init__(
        self, hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
    ) -> None:
        super().__init__(hass, entry, store, update_interval=None)
        self.devices: dict[str, SourceDevice] = {DEVICE: _device(DEVICE)}

    @override
    async def _async_poll(self) -> dict[str, SourceDevice]:
        return dict(self.devices)


def _reading(value: float, at: datetime, *, device_time: bool = True) -> Reading:
    return Reading(DEVICE, Metric.TEMPERATURE, value, "°C", at, device_time)


@pytest.fixture
async def store(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[HistoryStore]:
    """Return a real store on a file of the test's own."""
    history = HistoryStore(tmp_path / "history.db", StoreSettings())
    await hass.async_add_executor_job(history.open)
    yield history
    await hass.async_add_executor_job(history.close, 10)


@pytest.fixture
def coordinator(
    hass: HomeAssistant, store: HistoryStore, freezer: FrozenDateTimeFactory
) -> _Coordinator:
    """Return the test source's coordinator, at a fixed time."""
    freezer.move_to(NOW)
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_SOURCE: "test"}, title="Test")
    entry.add_to_hass(hass)
    return _Coordinator(hass, entry, store)


async def _stored(coordinator: _Coordinator) -> list[Reading]:
    return await coordinator.hass.async_add_executor_job(
        stored_readings, coordinator.store
    )


async def _clock_events(coordinator: _Coordinator) -> list[dict[str, Any]]:
    events = await coordinator.hass.async_add_executor_job(
        stored_events, coordinator.store
    )
    return [detail for kind, _, detail in events if kind == "clock"]


async def test_a_reading_from_the_future_does_not_stop_the_history(
    coordinator: _Coordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    future = datetime(2099, 1, 1, tzinfo=UTC)
    coordinator.mirror([_reading(20.0, future)])
    # The bridge repeats the future sample: a repeat, stored once.
    coordinator.mirror([_reading(20.0, future)])
    freezer.tick(timedelta(seconds=30))
    coordinator.mirror([_reading(21.0, NOW + timedelta(seconds=30))])
    freezer.tick(timedelta(seconds=30))
    coordinator.mirror([_reading(22.0, NOW + timedelta(minutes=1))])

    assert [(r.value, r.measured_at) for r in await _stored(coordinator)] == [
        (20.0, NOW),
        (21.0, NOW + timedelta(seconds=30)),
        (22.0, NOW + timedelta(minutes=1)),
    ]
    assert await _clock_events(coordinator) == [
        {
            "device_key": DEVICE,
            "metric": "temperature",
            "device_time": future.isoformat(),
            "stored_at": NOW.isoformat(),
        }
    ]
    assert coordinator.diagnostics()["readings_retimed"] == 1
    assert caplog.text.count("storing it at the time Home Assistant received") == 1


async def test_a_time_just_ahead_is_trusted(coordinator: _Coordinator) -> None:
    ahead = NOW + timedelta(minutes=4)
    coordinator.mirror([_reading(20.0, ahead)])
    assert [r.measured_at for r in await _stored(coordinator)] == [ahead]
    assert coordinator.gate.retimed == 0


async def test_a_clock_stepped_back_keeps_every_reading(
    coordinator: _Coordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator.mirror([_reading(20.0, NOW)])
    # The bridge clock steps back ten minutes; its readings keep coming.
    received = []
    for minute in range(1, 4):
        freezer.tick(timedelta(minutes=1))
        received.append(NOW + timedelta(minutes=minute))
        coordinator.mirror(
            [_reading(20.0 + minute, NOW + timedelta(minutes=minute - 10))]
        )
    # Much later the device is back on time, and trusted again.
    freezer.tick(timedelta(hours=2))
    coordinator.mirror([_reading(30.0, NOW + timedelta(hours=2, minutes=3))])

    assert [(r.value, r.measured_at) for r in await _stored(coordinator)] == [
        (20.0, NOW),
        (21.0, received[0]),
        (22.0, received[1]),
        (23.0, received[2]),
        (30.0, NOW + timedelta(hours=2, minutes=3)),
    ]
    events = await _clock_events(coordinator)
    assert [e["device_time"] for e in events] == [
        (NOW + timedelta(minutes=m)).isoformat() for m in (-9, -8, -7)
    ]
    assert coordinator.gate.retimed == 3
    # Three retimed readings within an hour: one log line.
    assert caplog.text.count("storing it at the time Home Assistant received") == 1


async def test_the_clock_warning_repeats_hourly_per_device(
    coordinator: _Coordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    future = datetime(2099, 1, 1, tzinfo=UTC)
    for step in range(4):
        coordinator.mirror(
            [
                _reading(float(step), future),
                Reading(OTHER, Metric.TEMPERATURE, float(step), "°C", future),
            ]
        )
        freezer.tick(timedelta(minutes=40))
    assert coordinator.gate.retimed == 8
    # At 0, 80 and 120 minutes... 0 and 80 for each device: 2 x 2 lines.
    assert caplog.text.count("storing it at the time Home Assistant received") == 4


async def test_repeats_are_stored_once_and_changes_always(
    coordinator: _Coordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    later = NOW + timedelta(seconds=10)
    coordinator.mirror([_reading(20.0, NOW), _reading(20.0, NOW)])
    coordinator.mirror([_reading(20.0, NOW)])
    # A changed value at the same device time is stored too (a millisecond on).
    coordinator.mirror([_reading(20.5, NOW)])
    # The same value at a new device time is a new sample.
    coordinator.mirror([_reading(20.5, later)])
    # Without a device time, only a changed value is new.
    freezer.tick(timedelta(seconds=20))
    untimed = NOW + timedelta(seconds=20)
    coordinator.mirror([Reading(OTHER, Metric.BATTERY, 90.0, "%", untimed, False)])
    freezer.tick(timedelta(seconds=20))
    coordinator.mirror(
        [
            Reading(
                OTHER, Metric.BATTERY, 90.0, "%", untimed + timedelta(seconds=20), False
            )
        ]
    )

    stored = await _stored(coordinator)
    assert [(r.device_key, r.value, r.measured_at) for r in stored] == [
        (DEVICE, 20.0, NOW),
        (DEVICE, 20.5, NOW + timedelta(milliseconds=1)),
        (DEVICE, 20.5, later),
        (OTHER, 90.0, untimed),
    ]
    assert coordinator.readings_mirrored == 4
    assert coordinator.gate.retimed == 0


async def test_a_good_poll_ends_the_retry_streak_and_removes_stale_devices(
    coordinator: _Coordinator,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = coordinator.config_entry
    for key in (DEVICE, OTHER):
        device_registry.async_get_or_create(
            config_entry_id=entry.entry_id, identifiers={(DOMAIN, key)}
        )
    coordinator.record_retry(
        RetryEvent("test", "poll", 1, "http_429", RetryOutcome.RATE_LIMITED, 60.0)
    )
    assert coordinator.retry_stats.consecutive_rate_limits == 1

    await coordinator.async_refresh()

    assert coordinator.last_update_success
    assert coordinator.retry_stats.consecutive_rate_limits == 0
    assert {
        key
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        for _, key in device.identifiers
    } == {DEVICE}


async def test_a_replay_after_an_outage_keeps_its_time_and_only_then(
    coordinator: _Coordinator, freezer: FrozenDateTimeFactory
) -> None:
    coordinator.mirror([_reading(20.0, NOW)])
    coordinator.gate.delivery_stopped()
    freezer.tick(timedelta(minutes=3))
    # A poll during the outage stores the newest value.
    coordinator.mirror([_reading(22.0, NOW + timedelta(minutes=2))])
    coordinator.gate.delivery_resumed()
    # The source replays what it could not push: both keep their device time.
    coordinator.mirror(
        [
            _reading(21.0, NOW + timedelta(minutes=1)),
            _reading(22.0, NOW + timedelta(minutes=2)),
        ]
    )
    # Live readings may come first (a resync poll): replays are still taken.
    coordinator.mirror([_reading(23.0, NOW + timedelta(minutes=3))])
    coordinator.mirror([_reading(21.5, NOW + timedelta(minutes=1, seconds=15))])
    # Once the replay period is over, a time going back again is a clock step.
    freezer.tick(LATE_DELIVERY_PERIOD)
    coordinator.mirror([_reading(24.0, NOW + timedelta(minutes=1, seconds=30))])

    assert [(r.value, r.measured_at) for r in await _stored(coordinator)] == [
        (20.0, NOW),
        (21.0, NOW + timedelta(minutes=1)),
        (21.5, NOW + timedelta(minutes=1, seconds=15)),
        (22.0, NOW + timedelta(minutes=2)),
        (23.0, NOW + timedelta(minutes=3)),
        (24.0, NOW + timedelta(minutes=3) + LATE_DELIVERY_PERIOD),
    ]
    assert coordinator.gate.retimed == 1


class _Failing(_Coordinator):
    """A source that fails while `down` is set."""

    down = False

    @override
    async def _async_poll(self) -> dict[str, SourceDevice]:
        if self.down:
            raise UpdateFailed("the source does not answer")
        return await super()._async_poll()


def _logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """Return (level, message) of the integration's records at INFO and above."""
    return [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if record.name.startswith("custom_components.home_monitor")
        and record.levelno >= logging.INFO
    ]


async def test_a_persistent_failure_is_logged_once_at_its_start_and_its_end(
    hass: HomeAssistant,
    store: HistoryStore,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    freezer.move_to(NOW)
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_SOURCE: "test"}, title="Test")
    entry.add_to_hass(hass)
    coordinator = _Failing(hass, entry, store)
    await coordinator.async_refresh()
    assert coordinator.last_success_at == NOW
    caplog.clear()

    coordinator.down = True
    for _ in range(50):
        freezer.tick(timedelta(seconds=10))
        await coordinator.async_refresh()
    assert coordinator.consecutive_failures == 50
    assert coordinator.failing_since == NOW + timedelta(seconds=10)
    assert _logged(caplog) == [
        (
            "WARNING",
            (
                "home_monitor test Test cannot be updated: the source does not "
                "answer; retrying, and logging again only when it works"
            ),
        )
    ]
    coordinator.down = False
    await coordinator.async_refresh()
    logged = _logged(caplog)
    assert len(logged) == 2
    assert logged[1] == ("INFO", "Fetching home_monitor test Test data recovered")
    assert coordinator.failing_since is None
    assert coordinator.consecutive_failures == 0

    # A push source's recovery is logged by the coordinator itself.
    caplog.clear()
    coordinator.down = True
    for _ in range(5):
        await coordinator.async_refresh()
    coordinator.async_publish(coordinator.devices, [])
    assert [level for level, _ in _logged(caplog)] == ["WARNING", "INFO"]
    assert "works again after 5 failed updates" in _logged(caplog)[1][1]


async def test_a_bridge_down_for_many_polls_logs_one_warning_and_one_info(
    hass: HomeAssistant,
    *,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through aiohue and the retry loop, 60 failed polls over 10 minutes."""
    monkeypatch.setattr(
        HueCoordinator, "policy", BackoffPolicy(base_delay=0, max_delay=0, jitter=0)
    )
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    await bridge.go_down()
    for _ in range(60):
        freezer.tick(timedelta(seconds=10))
        async_fire_time_changed(hass, dt_util.utcnow())
        await hass.async_block_till_done(wait_background_tasks=True)
    coordinator = loaded_v1.runtime_data.coordinator
    assert coordinator.consecutive_failures >= 55
    await bridge.come_up()
    freezer.tick(timedelta(seconds=10))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.last_update_success
    logged = [
        (record.name, record.levelname)
        for record in caplog.records
        if record.levelno >= logging.INFO
        and record.name.startswith(("custom_components.home_monitor", "aiohue"))
    ]
    assert logged == [
        ("custom_components.home_monitor", "WARNING"),
        ("custom_components.home_monitor", "INFO"),
    ]
