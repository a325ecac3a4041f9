"""The store's devices follow Home Assistant's device and area registries."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
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
    # The first set-up's stream may still count as open at the bridge.
    await wait_for(hass, lambda: bridge.events.open_streams >= 1)
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


async def _list_devices(hass: HomeAssistant) -> dict[str, dict[str, Any]]:
    response = await hass.services.async_call(
        DOMAIN, "list_devices", {}, blocking=True, return_response=True
    )
    assert response is not None
    devices: list[dict[str, Any]] = response["devices"]  # type: ignore[assignment]
    return {device["device_key"]: device for device in devices}


async def test_list_devices_follows_renames_and_areas(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    key = _sensor_key(bridge, 0)
    store = loaded_v2.runtime_data.store
    await hass.async_add_executor_job(store.flush, 10)
    listed = (await _list_devices(hass))[key]
    assert listed["ha_device_id"] == _device(hass, key).id
    assert (listed["name"], listed["location"], listed["source"]) == (
        "Motion sensor 1",
        "Room 1",
        "hue",
    )
    assert listed["model"]
    assert listed["active"] is True
    assert listed["removed"] is False
    assert isinstance(listed["id"], int)
    assert listed["reading_count"] > 0
    assert listed["last_reading_at"] is not None
    assert listed["first_seen"] <= listed["last_seen"]

    registry = dr.async_get(hass)
    registry.async_update_device(_device(hass, key).id, name_by_user="Porch")
    await hass.async_block_till_done()
    assert (await _list_devices(hass))[key]["name"] == "Porch"

    areas = ar.async_get(hass)
    porch = areas.async_create("Porch area")
    registry.async_update_device(_device(hass, key).id, area_id=porch.id)
    await hass.async_block_till_done()
    assert (await _list_devices(hass))[key]["location"] == "Porch area"

    areas.async_update(porch.id, name="Veranda")
    await hass.async_block_till_done()
    listed = (await _list_devices(hass))[key]
    assert (listed["name"], listed["location"], listed["id"]) == (
        "Porch",
        "Veranda",
        (await _list_devices(hass))[key]["id"],
    )


async def _history(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        DOMAIN,
        "get_history",
        {"start": "2000-01-01 00:00:00", "end": "2100-01-01 00:00:00", "limit": 10_000}
        | data,
        blocking=True,
        return_response=True,
    )
    assert response is not None
    readings: list[dict[str, Any]] = response["readings"]  # type: ignore[assignment]
    return readings


async def test_rename_device_action_names_the_device_and_rewrites_its_history(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    key, other = _sensor_key(bridge, 0), _sensor_key(bridge, 1)
    device_id = _device(hass, key).id
    store = loaded_v2.runtime_data.store
    await hass.async_add_executor_job(store.flush, 10)
    before = await _history(hass, device_id=device_id)
    assert before
    assert {row["name"] for row in before} == {"Motion sensor 1"}

    # Without a rewrite, past readings keep the name they were taken under.
    response = await hass.services.async_call(
        DOMAIN,
        "rename_device",
        {"device_id": device_id, "name": "Hall"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert (response["relabelled"], response["complete"]) == (0, True)
    assert _device(hass, key).name_by_user == "Hall"
    rows = await _history(hass, device_id=device_id)
    assert {(row["name"], row["current_name"]) for row in rows} == {
        ("Motion sensor 1", "Hall")
    }
    assert {row["current_location"] for row in rows} == {"Room 1"}

    # With it, every past reading takes the new name and the current area.
    name = 'Bureau "Nord" 🛋️ غرفة'
    response = await hass.services.async_call(
        DOMAIN,
        "rename_device",
        {"device_id": device_id, "name": name, "rewrite_history": True},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["complete"] is True
    assert response["relabelled"] == len(rows)
    assert _device(hass, key).name_by_user == name
    rows = await _history(hass, device_id=device_id)
    assert {(row["name"], row["location"], row["current_name"]) for row in rows} == {
        (name, "Room 1", name)
    }
    # The other sensor's readings are untouched.
    others = await _history(hass, device_id=_device(hass, other).id)
    assert {row["name"] for row in others} == {"Motion sensor 2"}
    assert (await _list_devices(hass))[key]["name"] == name


async def test_history_of_an_area(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    key, other = _sensor_key(bridge, 0), _sensor_key(bridge, 1)
    await hass.async_add_executor_job(loaded_v2.runtime_data.store.flush, 10)
    room = ar.async_get(hass).async_get_area_by_name("Room 1")
    assert room is not None
    by_name = await _history(hass, area="Room 1")
    assert by_name
    assert {row["device_key"] for row in by_name} == {key}
    assert await _history(hass, area=room.id) == by_name

    # The area's devices now: the other sensor moves in.
    dr.async_get(hass).async_update_device(_device(hass, other).id, area_id=room.id)
    await hass.async_block_till_done()
    rows = await _history(hass, area=room.id)
    assert {row["device_key"] for row in rows} == {key, other}
    # Its readings were taken in "Room 2"; it is in "Room 1" now.
    moved = [row for row in rows if row["device_key"] == other]
    assert {(row["location"], row["current_location"]) for row in moved} == {
        ("Room 2", "Room 1")
    }

    empty = ar.async_get(hass).async_create("Cellar")
    assert await _history(hass, area=empty.id) == []
    with pytest.raises(ServiceValidationError) as err:
        await _history(hass, area="Nowhere")
    assert err.value.translation_key == "unknown_area"


async def test_a_removed_device_keeps_its_history_and_comes_back_with_its_id(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    key = _sensor_key(bridge, 1)
    store = loaded_v2.runtime_data.store
    await hass.async_add_executor_job(store.flush, 10)
    before = (await _list_devices(hass))[key]
    assert before["reading_count"] > 0

    sensor = bridge.sensor(1)
    bridge.remove_sensor(1)
    coordinator = loaded_v2.runtime_data.coordinator
    await wait_for(hass, lambda: key not in (coordinator.data or {}))
    device = _device(hass, key)
    module = hass.data["integrations"][DOMAIN].get_component()
    assert await module.async_remove_config_entry_device(hass, loaded_v2, device)
    dr.async_get(hass).async_remove_device(device.id)
    await hass.async_block_till_done()

    removed = (await _list_devices(hass))[key]
    assert removed["removed"] is True
    assert removed["ha_device_id"] is None
    assert removed["id"] == before["id"]
    assert removed["reading_count"] >= before["reading_count"]

    # The same physical sensor is paired again; Home Assistant finds it at the
    # next set-up.
    bridge.home.sensors.insert(1, sensor)
    entry_id = loaded_v2.entry_id
    assert await hass.config_entries.async_reload(entry_id)
    await wait_for(
        hass,
        lambda: (
            dr.async_get(hass).async_get_device_by_identifier((DOMAIN, key), entry_id)
            is not None
        ),
    )
    await hass.async_block_till_done()
    back = (await _list_devices(hass))[key]
    assert back["removed"] is False
    assert back["id"] == before["id"]
    assert back["ha_device_id"] == _device(hass, key).id
    assert back["reading_count"] >= before["reading_count"]


async def test_service_devices_are_not_store_devices(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> None:
    history = next(
        device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), loaded_v2.entry_id
        )
        if device.entry_type is dr.DeviceEntryType.SERVICE
    )
    listed = await _list_devices(hass)
    assert all((DOMAIN, key) not in history.identifiers for key in listed), (
        "the history store's own device is not one of its devices"
    )
    assert {device["source"] for device in listed.values()} == {"hue"}
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "rename_device",
            {"device_id": history.id, "name": "Store"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "unknown_device"
