"""A bridge with a wrong clock: every change the entity shows is stored.

The coordinator's `mirror` stores a reading whose device time is implausible (far ahead,
or behind the last stored time) at the time Home Assistant received it; these tests run
that path end to end, from the simulated bridge's event stream to the history file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.models import Metric, Reading
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.contents import stored_events, stored_readings

from .fixtures import poll, wait_for

TEMPERATURE = "sensor.motion_sensor_1_temperature"


def temperatures(entry: MockConfigEntry, bridge: HueBridgeSimulator) -> list[Reading]:
    device = bridge.sensor(0).ids["device"]
    return [
        r
        for r in stored_readings(entry.runtime_data.store)
        if r.metric is Metric.TEMPERATURE and r.device_key.endswith(device)
    ]


async def change(hass: HomeAssistant, bridge: HueBridgeSimulator, value: float) -> None:
    bridge.set_value(0, "temperature", value)
    await wait_for(hass, lambda: hass.states.get(TEMPERATURE).state == str(value))


async def test_reading_from_the_future_does_not_stop_the_history(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    clock = bridge.home.clock
    normal = dt_util.utcnow() + timedelta(minutes=1)  # a bridge clock about right
    clock.now = datetime(2099, 1, 1, tzinfo=UTC)
    await change(hass, bridge, 22.0)
    clock.now = normal  # the bridge's clock is right again
    for value in (23.0, 24.0, 25.0):
        await change(hass, bridge, value)
    stored = temperatures(loaded_v2, bridge)
    assert [r.value for r in stored] == [19.0, 22.0, 23.0, 24.0, 25.0]
    assert all(r.measured_at.year < 2099 for r in stored)
    clock_events = [
        detail
        for kind, _, detail in stored_events(loaded_v2.runtime_data.store)
        if kind == "clock"
    ]
    assert [e["device_time"][:4] for e in clock_events] == ["2099"]


async def test_clock_stepped_back_loses_nothing(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    clock = bridge.home.clock
    await change(hass, bridge, 21.0)
    clock.advance(60)
    await change(hass, bridge, 21.5)
    clock.now -= timedelta(minutes=10)
    for value in (22.0, 22.5, 23.0):
        clock.advance(30)
        await change(hass, bridge, value)
    values = [r.value for r in temperatures(loaded_v2, bridge)]
    assert values == [19.0, 21.0, 21.5, 22.0, 22.5, 23.0]


async def test_v1_clock_stepped_back_loses_nothing(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v1: MockConfigEntry
) -> None:
    clock = bridge.home.clock
    for step, value in enumerate((21.0, 22.0, 23.0)):
        if step == 1:
            clock.now -= timedelta(minutes=10)
        bridge.set_value(0, "temperature", value)
        await poll(hass)
        assert hass.states.get(TEMPERATURE).state == str(value)
    store = loaded_v1.runtime_data.store
    values = [
        r.value
        for r in stored_readings(store)
        if r.metric is Metric.TEMPERATURE
        and r.device_key.endswith(bridge.sensor(0).uniqueid_prefix[:23])
    ]
    assert values[-3:] == [21.0, 22.0, 23.0]


async def cut_the_stream(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    entry: MockConfigEntry,
    *,
    path: str,
) -> None:
    """Let the stream settle, then fail every request to `path` until cleared."""
    coordinator = entry.runtime_data.coordinator
    bridge.home.clock.advance(30)
    bridge.set_value(1, "temperature", 19.7)
    sent = bridge.events.sent_events
    await wait_for(hass, lambda: bridge.events.sent_events == sent)
    await poll(hass, 1)
    bridge.fail(503, count=10**6, path=path)
    bridge.drop_streams()
    await wait_for(hass, lambda: coordinator.polling)


async def test_events_replayed_after_an_outage_keep_their_time(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    """Events the bridge replays on reconnecting are late, not from a wrong clock."""
    coordinator = loaded_v2.runtime_data.coordinator
    # The stream cannot come back for now: the coordinator polls instead.
    await cut_the_stream(hass, bridge, loaded_v2, path="/eventstream")
    bridge.home.clock.advance(60)
    bridge.set_value(0, "temperature", 21.5)  # missed: only a replay brings it
    missed = bridge.sensor(0).changed["temperature"]
    bridge.home.clock.advance(60)
    bridge.set_value(0, "temperature", 22.0)
    latest = bridge.sensor(0).changed["temperature"]
    await poll(hass, 11)  # the fallback poll stores 22.0
    bridge.clear_faults()  # the reconnect replays both events after the last one seen
    await wait_for(hass, lambda: bridge.events.open_streams == 1, within=15)
    await wait_for(hass, lambda: not coordinator.polling, within=15)
    await poll(hass, 1)

    stored = [(r.measured_at, r.value) for r in temperatures(loaded_v2, bridge)]
    assert (missed, 21.5) in stored
    assert stored.count((latest, 22.0)) == 1
    assert [value for _, value in stored].count(22.0) == 1
    assert coordinator.gate.retimed == 0


async def test_events_replayed_after_a_storm_keep_their_time(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    """Every request fails for a while; the resync and the replay both come after."""
    coordinator = loaded_v2.runtime_data.coordinator
    await cut_the_stream(hass, bridge, loaded_v2, path="/")
    missed = []
    for value in (21.5, 22.0, 22.5):
        bridge.home.clock.advance(60)
        bridge.set_value(0, "temperature", value)
        missed.append((bridge.sensor(0).changed["temperature"], value))
        await poll(hass, 11)  # the fallback poll fails
    bridge.clear_faults()
    await wait_for(hass, lambda: bridge.events.open_streams == 1, within=15)
    await wait_for(hass, lambda: not coordinator.polling, within=15)
    await poll(hass, 1)

    stored = [(r.measured_at, r.value) for r in temperatures(loaded_v2, bridge)]
    for reading in missed:
        assert stored.count(reading) == 1
    assert coordinator.gate.retimed == 0
