"""The store's devices follow Home Assistant's device and area registries."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import replace

from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import DOMAIN
from custom_components.home_monitor.sources.hue.mapping import device_key
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.contents import stored_devices

from .hue.fixtures import SMALL_HOME, unload, wait_for


@pytest.fixture
async def bridge(socket_enabled: None) -> AsyncGenerator[HueBridgeSimulator]:
    """Run a simulated bridge whose two sensors are in "Room 1" and "Room 2"."""
    simulator = HueBridgeSimulator(replace(SMALL_HOME, sensors_in_rooms=True))
    await simulator.start()
    yield simulator
    await simulator.stop()


def _sensor_key(bridge: HueBridgeSimulator, index: int) -> str:
    return device_key(bridge.bridge_id, bridge.sensor(index).ids["device"])


def _device(hass: HomeAssistant, key: str) -> dr.DeviceEntry:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, key), entry.entry_id
    )
    assert device is not None
    return device


async def test_rename_in_ha_updates_the_store(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    key = _sensor_key(bridge, 0)
    store = loaded_v2.runtime_data.store
    assert stored_devices(store)[key].name == "Motion sensor 1"

    dr.async_get(hass).async_update_device(
        _device(hass, key).id, name_by_user="Hall sensor"
    )
    await hass.async_block_till_done()
    assert stored_devices(store)[key].name == "Hall sensor"

    # The source renaming the device later does not undo the user's name.
    device_id = bridge.sensor(0).ids["device"]
    bridge.events.publish(
        "update",
        [{"id": device_id, "type": "device", "metadata": {"name": "Renamed in Hue"}}],
    )
    bridge.set_value(0, "temperature", 21.5)
    await wait_for(
        hass,
        lambda: (
            loaded_v2.runtime_data.coordinator.data[key].record.name == "Renamed in Hue"
        ),
    )
    assert stored_devices(store)[key].name == "Hall sensor"

    # Clearing the user's name goes back to the name Home Assistant shows.
    dr.async_get(hass).async_update_device(_device(hass, key).id, name_by_user=None)
    await hass.async_block_till_done()
    assert stored_devices(store)[key].name == "Motion sensor 1"


async def test_area_change_and_area_rename_update_the_store(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    key, other = _sensor_key(bridge, 0), _sensor_key(bridge, 1)
    store = loaded_v2.runtime_data.store
    areas = ar.async_get(hass)
    kitchen = areas.async_create("Kitchen")

    dr.async_get(hass).async_update_device(_device(hass, key).id, area_id=kitchen.id)
    await hass.async_block_till_done()
    devices = stored_devices(store)
    assert devices[key].location == "Kitchen"
    assert devices[other].location == "Room 2"

    areas.async_update(kitchen.id, name="Cuisine")
    await hass.async_block_till_done()
    devices = stored_devices(store)
    assert devices[key].location == "Cuisine"
    assert devices[other].location == "Room 2"

    dr.async_get(hass).async_update_device(_device(hass, key).id, area_id=None)
    await hass.async_block_till_done()
    assert stored_devices(store)[key].location is None


async def test_names_and_areas_are_reconciled_at_set_up(
    hass: HomeAssistant, bridge: HueBridgeSimulator, v2_entry: MockConfigEntry
) -> None:
    registry_events = (dr.EVENT_DEVICE_REGISTRY_UPDATED, ar.EVENT_AREA_REGISTRY_UPDATED)
    before = {e: hass.bus.async_listeners().get(e, 0) for e in registry_events}
    assert await hass.config_entries.async_setup(v2_entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)
    key = _sensor_key(bridge, 1)
    study = ar.async_get(hass).async_create("Study")
    await unload(hass, v2_entry)
    # Changed while the entry is not loaded: nobody is listening.
    assert {e: hass.bus.async_listeners().get(e, 0) for e in registry_events} == before
    dr.async_get(hass).async_update_device(
        _device(hass, key).id, name_by_user="Desk sensor", area_id=study.id
    )
    await hass.async_block_till_done()

    assert await hass.config_entries.async_setup(v2_entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)
    stored = stored_devices(v2_entry.runtime_data.store)[key]
    assert (stored.name, stored.location) == ("Desk sensor", "Study")
    await unload(hass, v2_entry)


async def test_hue_rooms_become_suggested_areas(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    areas = ar.async_get(hass)
    for index, room in ((0, "Room 1"), (1, "Room 2")):
        key = _sensor_key(bridge, index)
        area_id = _device(hass, key).area_id
        assert area_id is not None
        area = areas.async_get_area(area_id)
        assert area is not None
        assert area.name == room
        assert stored_devices(loaded_v2.runtime_data.store)[key].location == room
    assert "/clip/v2/resource/room" in bridge.paths("GET")
