"""A v2 bridge under faults: dropped streams, outages, malformed events, new sensors."""

from __future__ import annotations

import asyncio
import json
import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.home_monitor.models import Metric
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.contents import stored_readings

from .fixtures import poll, retry_events, wait_for

TEMPERATURE = "sensor.motion_sensor_1_temperature"


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    found = hass.states.get(entity_id)
    return found.state if found else None


async def set_up(
    hass: HomeAssistant, bridge: HueBridgeSimulator, entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)


async def test_set_up_retries_a_busy_bridge(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    v2_entry: MockConfigEntry,
    fast_retries: object,
) -> None:
    bridge.fail(503, count=1, path="/clip/v2/resource/temperature")
    bridge.fail(429, count=1, path="/clip/v2/resource/motion")
    await set_up(hass, bridge, v2_entry)
    assert state(hass, TEMPERATURE) == "19.0"
    outcomes = [
        (e["endpoint"], e["reason"], e["outcome"]) for e in retry_events(v2_entry)
    ]
    assert ("clip/v2/resource/temperature", "HTTP 503", "retrying") in outcomes
    assert ("clip/v2/resource/motion", "HTTP 429", "recovered") in outcomes
    assert await hass.config_entries.async_unload(v2_entry.entry_id)


async def test_dropped_stream_reconnects_and_resyncs(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    coordinator = loaded_v2.runtime_data.coordinator
    bridge.drop_streams()
    await wait_for(hass, lambda: coordinator.polling)
    bridge.set_value(0, "temperature", 24.0)  # missed while the stream is down
    # aiohue reconnects after 2 s; the resync reads the sensor types once.
    await wait_for(hass, lambda: state(hass, TEMPERATURE) == "24.0", within=10)
    assert not coordinator.polling
    assert coordinator.update_interval is None
    outcomes = [(e["endpoint"], e["outcome"]) for e in retry_events(loaded_v2)]
    assert outcomes == [
        ("eventstream/clip/v2", "retrying"),
        ("eventstream/clip/v2", "recovered"),
    ]


async def test_bridge_down_polls_until_back(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
    fast_retries: object,
) -> None:
    coordinator = loaded_v2.runtime_data.coordinator
    await bridge.go_down()
    await wait_for(hass, lambda: coordinator.polling)
    for _ in range(3):
        await poll(hass, 30)
        assert state(hass, TEMPERATURE) == STATE_UNAVAILABLE
    assert coordinator.retry_stats.exhausted >= 3
    await bridge.come_up()
    bridge.set_value(0, "temperature", 17.5)
    await poll(hass, 30)
    assert state(hass, TEMPERATURE) == "17.5"
    store = loaded_v2.runtime_data.store
    stored = stored_readings(store)
    assert coordinator.readings_mirrored == len(stored)  # nothing twice
    first = bridge.sensor(0).ids["device"]
    assert sorted(
        r.value
        for r in stored
        if r.metric is Metric.TEMPERATURE and r.device_key.endswith(first)
    ) == [17.5, 19.0]


async def test_malformed_events_are_ignored(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bridge.events.push_raw("data: [{not json\n\n")
    bridge.events.push_raw('data: [{"type": "update", "id": "x"}]\n\n')  # no data list
    bridge.events.publish(
        "update", [{"temperature": {"temperature": 1.0}}]
    )  # no id/type
    bridge.corrupt_value(0, "temperature", "warm")  # wrong type
    bridge.corrupt_value(0, "temperature", [21])  # again: logged once
    bridge.set_value(1, "motion", True)  # a good event after the bad ones
    await wait_for(
        hass, lambda: state(hass, "binary_sensor.motion_sensor_2_motion") == "on"
    )
    assert state(hass, TEMPERATURE) == STATE_UNAVAILABLE
    assert state(hass, "sensor.motion_sensor_1_illuminance") != STATE_UNAVAILABLE
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "malformed temperature" in r.getMessage()
    ]
    assert len(warnings) == 1
    bridge.set_value(0, "temperature", 21.0)
    await wait_for(hass, lambda: state(hass, TEMPERATURE) == "21.0")


async def test_invalid_and_missing_values_are_unknown(
    hass: HomeAssistant, bridge: HueBridgeSimulator, v2_entry: MockConfigEntry
) -> None:
    bridge.omit_field(1, "light_level")
    await set_up(hass, bridge, v2_entry)
    assert state(hass, "sensor.motion_sensor_2_illuminance") == STATE_UNAVAILABLE
    bridge.set_value(0, "temperature", 20.0, valid=False)
    await wait_for(hass, lambda: state(hass, TEMPERATURE) == "unknown")
    bridge.set_value(0, "connected", False)
    await wait_for(
        hass, lambda: state(hass, "binary_sensor.motion_sensor_1_connectivity") == "off"
    )
    assert state(hass, "binary_sensor.motion_sensor_1_motion") == STATE_UNAVAILABLE
    assert await hass.config_entries.async_unload(v2_entry.entry_id)


async def test_new_sensor_appears_and_removed_one_can_be_deleted(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    bridge.add_sensor("Hallway")
    await wait_for(hass, lambda: state(hass, "sensor.hallway_temperature") is not None)
    assert state(hass, "binary_sensor.hallway_motion") == "off"

    removed = bridge.sensor(0)
    bridge.remove_sensor(0)
    await wait_for(hass, lambda: state(hass, TEMPERATURE) == STATE_UNAVAILABLE)
    registry = dr.async_get(hass)
    device = next(
        d
        for d in dr.async_entries_for_config_entry(registry, loaded_v2.entry_id)
        if d.name == removed.name
    )
    integration = hass.data["integrations"]["home_monitor"]
    module = integration.get_component()
    assert await module.async_remove_config_entry_device(hass, loaded_v2, device)


@pytest.mark.usefixtures("fast_retries")
async def test_no_app_key_in_logs_diagnostics_or_events(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    app_key: str,
    v2_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bridge.fail(503, count=1)
    await set_up(hass, bridge, v2_entry)
    bridge.drop_streams()
    bridge.revoke_app_key(app_key)
    await wait_for(
        hass, lambda: bool(hass.config_entries.flow.async_progress()), within=10
    )
    diagnostics = await async_get_config_entry_diagnostics(hass, v2_entry)
    measurements = diagnostics["coordinator"]["source_details"]["measurements"]
    text = json.dumps(diagnostics, default=str)
    assert app_key not in text
    assert app_key not in caplog.text
    assert app_key not in json.dumps(retry_events(v2_entry))
    assert measurements["total_requests"] >= 8
    assert measurements["last_cycle"]["kind"] in {"setup", "poll", "resync"}
    assert await hass.config_entries.async_unload(v2_entry.entry_id)


async def test_stream_refused_falls_back_to_polling_then_restarts(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = loaded_v2.runtime_data.coordinator
    bridge.fail(404, count=1, path="/eventstream")  # as a bridge without CLIP v2 would
    bridge.drop_streams()
    bridge.set_value(0, "temperature", 26.0)
    # aiohue's reader gets the 404 on reconnecting and ends: one poll runs at once,
    # then the stream is started again.
    await wait_for(hass, lambda: state(hass, TEMPERATURE) == "26.0", within=10)
    await wait_for(
        hass, lambda: bridge.events.open_streams == 1 and not coordinator.polling
    )
    assert "The Hue event stream stopped (InvalidAPIVersion)" in caplog.text
    bridge.set_value(1, "temperature", 16.0)
    await wait_for(
        hass, lambda: state(hass, "sensor.motion_sensor_2_temperature") == "16.0"
    )


async def test_revoked_key_on_stream_stops_reconnecting(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    app_key: str,
    loaded_v2: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bridge.revoke_app_key(app_key)
    await wait_for(
        hass,
        lambda: "rejected the app key on the event stream" in caplog.text,
        within=10,
    )
    await wait_for(hass, lambda: bool(hass.config_entries.flow.async_progress()))
    connections = bridge.events.connections
    streams = len([p for p in bridge.paths() if p.startswith("/eventstream")])
    await asyncio.sleep(2.5)  # no reconnect storm: aiohue's reader has stopped
    assert len([p for p in bridge.paths() if p.startswith("/eventstream")]) == streams
    assert bridge.events.connections == connections


async def test_sensor_removed_while_stream_down_is_dropped_on_poll(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
) -> None:
    coordinator = loaded_v2.runtime_data.coordinator
    await bridge.go_down()
    await wait_for(hass, lambda: coordinator.polling)
    bridge.home.sensors.pop(1)  # gone, and no stream to say so
    await bridge.come_up()
    await poll(hass, 30)
    assert len(coordinator.data) == 1
    assert state(hass, "sensor.motion_sensor_2_temperature") == STATE_UNAVAILABLE
    assert state(hass, TEMPERATURE) == "19.0"


@pytest.mark.usefixtures("fast_retries")
async def test_resource_list_of_the_wrong_shape_is_retried(
    hass: HomeAssistant, bridge: HueBridgeSimulator, v2_entry: MockConfigEntry
) -> None:
    bridge.replace_body(
        '{"errors": [], "data": {"id": "x"}}', path="/clip/v2/resource/motion"
    )
    await set_up(hass, bridge, v2_entry)
    assert ("clip/v2/resource/motion", "malformed response", "recovered") in [
        (e["endpoint"], e["reason"], e["outcome"]) for e in retry_events(v2_entry)
    ]
    assert state(hass, "binary_sensor.motion_sensor_1_motion") == "off"
    assert await hass.config_entries.async_unload(v2_entry.entry_id)


@pytest.mark.usefixtures("fast_retries")
async def test_bridge_unreachable_at_start_is_retried_by_home_assistant(
    hass: HomeAssistant, bridge: HueBridgeSimulator, v2_entry: MockConfigEntry
) -> None:
    await bridge.go_down()
    assert not await hass.config_entries.async_setup(v2_entry.entry_id)
    assert v2_entry.state is ConfigEntryState.SETUP_RETRY
    await bridge.come_up()
    assert await hass.config_entries.async_reload(v2_entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)
    assert state(hass, TEMPERATURE) == "19.0"
    assert await hass.config_entries.async_unload(v2_entry.entry_id)
