"""A v1 bridge: `/sensors` polled (never the whole configuration), faults, recovery."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.models import Metric
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.contents import stored_readings

from .fixtures import poll, retry_events

TEMPERATURE = "sensor.motion_sensor_1_temperature"


def rows(entry: MockConfigEntry, metric: Metric) -> list[float]:
    store = entry.runtime_data.store
    return sorted(r.value for r in stored_readings(store) if r.metric is metric)


async def test_entities_and_next_poll(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
) -> None:
    assert loaded_v1.state is ConfigEntryState.LOADED
    assert hass.states.get(TEMPERATURE).state == "19.0"
    assert hass.states.get(TEMPERATURE).attributes["unit_of_measurement"] == "°C"
    illuminance = hass.states.get("sensor.motion_sensor_2_illuminance")
    assert float(illuminance.state) == 15.85  # light level 12000
    assert illuminance.attributes["unit_of_measurement"] == "lx"
    assert (
        hass.states.get("binary_sensor.motion_sensor_1_connectivity").state == STATE_ON
    )
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), loaded_v1.entry_id)
    by_name = {device.name: device for device in devices}
    sensor = by_name["Motion sensor 1"]
    assert (
        "home_monitor",
        f"hue:{bridge.bridge_id}:{bridge.sensor(0).uniqueid_prefix[:23]}",
    ) in sensor.identifiers
    assert sensor.via_device_id == by_name["Hue Bridge"].id

    bridge.set_value(0, "temperature", 21.5)
    bridge.set_value(0, "motion", True)
    assert hass.states.get(TEMPERATURE).state == "19.0"  # not before the next poll
    await poll(hass)
    assert hass.states.get(TEMPERATURE).state == "21.5"
    assert hass.states.get("binary_sensor.motion_sensor_1_motion").state == STATE_ON
    assert rows(loaded_v1, Metric.TEMPERATURE) == [19.0, 19.5, 21.5]

    await poll(hass)  # nothing changed: nothing new stored
    coordinator = loaded_v1.runtime_data.coordinator
    assert coordinator.readings_mirrored == len(
        stored_readings(loaded_v1.runtime_data.store)
    )
    gets = set(bridge.paths("GET"))
    assert gets == {"/api/<key>/sensors"}


async def test_503_burst_is_retried_inside_the_cycle(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
    fast_retries: object,
) -> None:
    bridge.fail(503, count=2, path="/api/")
    bridge.set_value(1, "temperature", 18.25)
    await poll(hass)
    assert hass.states.get("sensor.motion_sensor_2_temperature").state == "18.25"
    events = retry_events(loaded_v1)
    assert [(e["reason"], e["outcome"]) for e in events] == [
        ("HTTP 503", "retrying"),
        ("HTTP 503", "retrying"),
        ("HTTP 503", "recovered"),
    ]
    assert all(e["endpoint"] == "sensors" for e in events)


async def test_faults_make_entities_unavailable_then_recover(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
    fast_retries: object,
) -> None:
    coordinator = loaded_v1.runtime_data.coordinator

    bridge.fail(429, count=3, path="/api/")  # three attempts, all rate limited
    await poll(hass)
    assert hass.states.get(TEMPERATURE).state == STATE_UNAVAILABLE
    assert coordinator.retry_stats.exhausted == 1

    await poll(hass)  # next cycle starts fresh
    assert hass.states.get(TEMPERATURE).state == "19.0"

    await bridge.go_down()  # down for minutes: refused every cycle
    for _ in range(6):
        await poll(hass, 30)
        assert hass.states.get(TEMPERATURE).state == STATE_UNAVAILABLE
    bridge.set_value(0, "temperature", 20.0)
    await bridge.come_up()
    await poll(hass)
    assert hass.states.get(TEMPERATURE).state == "20.0"
    reasons = {e["reason"] for e in retry_events(loaded_v1)}
    assert {"HTTP 429", "connection refused"} <= reasons

    bridge.malformed(count=1, path="/api/")  # truncated JSON, then a good answer
    bridge.set_value(0, "temperature", 20.5)
    await poll(hass)
    assert hass.states.get(TEMPERATURE).state == "20.5"
    assert "malformed response" in {e["reason"] for e in retry_events(loaded_v1)}
    assert coordinator.readings_mirrored == len(
        stored_readings(loaded_v1.runtime_data.store)
    )


async def test_wrong_types_and_missing_fields_affect_one_entity(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
) -> None:
    bridge.corrupt_value(0, "temperature", "warm")
    bridge.omit_field(0, "light_level")
    bridge.corrupt_value(1, "battery", 250)  # out of range
    await poll(hass)
    assert hass.states.get(TEMPERATURE).state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.motion_sensor_1_illuminance").state == STATE_UNKNOWN
    assert hass.states.get("sensor.motion_sensor_2_battery").state == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.motion_sensor_1_motion").state == "off"
    assert hass.states.get("sensor.motion_sensor_2_temperature").state == "19.5"

    bridge.set_value(0, "temperature", 22.0)
    await poll(hass)
    assert hass.states.get(TEMPERATURE).state == "22.0"


async def test_revoked_key_starts_reauth(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    app_key: str,
    loaded_v1: MockConfigEntry,
) -> None:
    bridge.revoke_app_key(app_key)
    await poll(hass)
    assert hass.states.get(TEMPERATURE).state == STATE_UNAVAILABLE
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert retry_events(loaded_v1)[-1]["outcome"] == "auth"


async def test_answers_of_the_wrong_shape_are_retried(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
    fast_retries: object,
) -> None:
    bridge.replace_body('"sensors"', count=1, path="/api/")
    bridge.replace_body("[]", count=1, path="/api/")
    bridge.set_value(0, "temperature", 23.0)
    await poll(hass)
    assert hass.states.get(TEMPERATURE).state == "23.0"
    reasons = [(e["reason"], e["outcome"]) for e in retry_events(loaded_v1)]
    assert reasons == [
        ("malformed response", "retrying"),
        ("malformed response", "retrying"),
        ("malformed response", "recovered"),
    ]
