"""A v2 bridge: one state read, entities with the right units, pushed changes."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.models import Metric
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.contents import stored_readings

from .fixtures import wait_for


async def test_set_up_reads_sensor_types_only(
    hass: HomeAssistant, bridge: HueBridgeSimulator, v2_entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_setup(v2_entry.entry_id)
    await hass.async_block_till_done()
    assert v2_entry.state is ConfigEntryState.LOADED
    gets = bridge.paths("GET")
    assert "/clip/v2/resource" not in gets
    assert set(gets) >= {
        "/clip/v2/resource/device",
        "/clip/v2/resource/temperature",
        "/clip/v2/resource/light_level",
        "/clip/v2/resource/motion",
        "/clip/v2/resource/device_power",
        "/clip/v2/resource/zigbee_connectivity",
        "/clip/v2/resource/geofence_client",
    }
    await wait_for(hass, lambda: bridge.events.open_streams == 1)

    registry = er.async_get(hass)
    temperature = hass.states.get("sensor.motion_sensor_1_temperature")
    assert temperature is not None
    assert temperature.state == "19.0"
    assert temperature.attributes["unit_of_measurement"] == "°C"
    illuminance = hass.states.get("sensor.motion_sensor_1_illuminance")
    assert illuminance is not None
    assert illuminance.attributes["unit_of_measurement"] == "lx"
    assert float(illuminance.state) == round(10 ** ((12000 - 1) / 10000), 2)
    battery = hass.states.get("sensor.motion_sensor_2_battery")
    assert battery is not None
    assert float(battery.state) == 100
    assert battery.attributes["unit_of_measurement"] == "%"
    assert battery.attributes["device_class"] == "battery"
    assert temperature.attributes["device_class"] == "temperature"
    assert illuminance.attributes["device_class"] == "illuminance"
    assert (
        registry.async_get("sensor.motion_sensor_2_battery").entity_category
        == "diagnostic"
    )
    assert hass.states.get("binary_sensor.motion_sensor_1_motion").state == STATE_OFF
    connectivity = hass.states.get("binary_sensor.motion_sensor_2_connectivity")
    assert connectivity is not None
    assert connectivity.state == STATE_ON

    bridge.set_value(0, "temperature", 23.25)
    bridge.set_value(1, "motion", True)
    await wait_for(
        hass,
        lambda: hass.states.get("sensor.motion_sensor_1_temperature").state == "23.25",
    )
    await wait_for(
        hass,
        lambda: (
            hass.states.get("binary_sensor.motion_sensor_2_motion").state == STATE_ON
        ),
    )
    store = v2_entry.runtime_data.store
    temps = sorted(
        r.value for r in stored_readings(store) if r.metric is Metric.TEMPERATURE
    )
    assert 23.25 in temps
    # No polling while the stream is up.
    assert not [
        p for p in bridge.paths() if p.startswith("/clip/v2/resource/temperature")
    ][1:]
    assert await hass.config_entries.async_unload(v2_entry.entry_id)
