"""The health model's diagnostic entities: per entry, and the "Home Monitor history" device."""

from __future__ import annotations

from dataclasses import replace

from freezegun import freeze_time
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import DOMAIN
from custom_components.home_monitor.coordinator import STORE_DEVICE_KEY
from custom_components.home_monitor.entity import STORE_DEVICE_NAME, store_owner
from custom_components.home_monitor.health_monitor import async_get_monitor
from tests.hue.fixtures import SMALL_HOME, make_entry, wait_for
from tests.simulators.alexa import AlexaSimulator
from tests.simulators.hue_bridge import HueBridgeSimulator

from . import test_health

_tls_context = test_health._tls_context
simulator = test_health.simulator
credentials = test_health.credentials
amazon_env = test_health.amazon_env
amazon_entry = test_health.amazon_entry

ENABLED = {"health", "store_status", "file_size", "free_space"}
DISABLED = {
    "last_success",
    "consecutive_failures",
    "retries_24h",
    "readings_stored",
    "readings_waiting",
    "last_commit",
}


def health_entities(
    entity_registry: er.EntityRegistry, entry_id: str
) -> dict[str, er.RegistryEntry]:
    """Return the entry's health entities by their description key."""
    return {
        e.translation_key: e
        for e in er.async_entries_for_config_entry(entity_registry, entry_id)
        if e.translation_key in ENABLED | DISABLED
    }


async def test_entities_of_both_sources_and_the_store(
    hass: HomeAssistant,
    *,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    loaded_v2: MockConfigEntry,
    simulator: AlexaSimulator,
    amazon_entry: MockConfigEntry,
) -> None:
    await test_health.amazon.setup_entry(hass, amazon_entry)
    # The Hue entry was created first: it owns the store's entities.
    assert store_owner(hass) is loaded_v2
    hue = health_entities(entity_registry, loaded_v2.entry_id)
    amazon = health_entities(entity_registry, amazon_entry.entry_id)
    entry_keys = {"health", "last_success", "consecutive_failures", "retries_24h"}
    store_keys = (ENABLED | DISABLED) - entry_keys
    assert set(hue) == entry_keys | store_keys
    assert set(amazon) == entry_keys
    unique_ids = [e.unique_id for e in [*hue.values(), *amazon.values()]]
    assert len(unique_ids) == len(set(unique_ids))
    for key, entity in [*hue.items(), *amazon.items()]:
        assert entity.entity_category is EntityCategory.DIAGNOSTIC
        expected = None if key in ENABLED else er.RegistryEntryDisabler.INTEGRATION
        assert entity.disabled_by is expected, key

    # Health sensors: enum, on the bridge and on the account's service device.
    state = hass.states.get(hue["health"].entity_id)
    assert state is not None
    assert state.state == "ok"
    assert state.attributes["options"] == ["ok", "degraded", "critical"]
    assert state.attributes["problems"] == []
    bridge_device = device_registry.async_get(hue["health"].device_id or "")
    assert bridge_device is not None
    assert bridge_device.model == "Hue Bridge"
    account = device_registry.async_get(amazon["health"].device_id or "")
    assert account is not None
    assert account.entry_type is dr.DeviceEntryType.SERVICE
    assert account.manufacturer == "Amazon"
    amazon_state = hass.states.get(amazon["health"].entity_id)
    assert amazon_state is not None
    assert amazon_state.state == "ok"

    # One "Home Monitor history" device with the store's figures.
    [store_device] = device_registry.async_get_devices(
        identifiers={(DOMAIN, STORE_DEVICE_KEY)}
    )
    assert store_device.name == STORE_DEVICE_NAME
    assert store_device.config_entry_id == loaded_v2.entry_id
    assert {hue[key].device_id for key in store_keys} == {store_device.id}
    status = hass.states.get(hue["store_status"].entity_id)
    assert status is not None
    assert status.state == "ok"
    free = hass.states.get(hue["free_space"].entity_id)
    assert free is not None
    assert float(free.state) > 0
    assert free.attributes["unit_of_measurement"] == "GB"


async def test_disabled_figures_when_enabled(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    bridge: HueBridgeSimulator,
    app_key: str,
) -> None:
    entry = make_entry(bridge, app_key, 2)
    entry.add_to_hass(hass)
    # Registered enabled before set-up, as after a user enabled them.
    for key in DISABLED:
        device_key = "history_store" if key in {
            "readings_stored", "readings_waiting", "last_commit"
        } else f"hue:{bridge.bridge_id}:bridge"  # fmt: skip
        entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{device_key}_{key}",
            config_entry=entry,
            translation_key=key,
        )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)
    store = entry.runtime_data.store
    assert await hass.async_add_executor_job(store.flush, 10)
    monitor = async_get_monitor(hass)
    await monitor.async_refresh()
    await wait_for(hass, lambda: monitor.readings_stored is not None)
    await monitor.async_refresh()

    entities = health_entities(entity_registry, entry.entry_id)

    def value(key: str) -> str:
        state = hass.states.get(entities[key].entity_id)
        assert state is not None, key
        return state.state

    assert value("consecutive_failures") == "0"
    assert value("retries_24h") == "0"
    assert value("last_success") != "unknown"
    assert value("last_commit") != "unknown"
    assert value("readings_waiting") == "0"
    stored = int(value("readings_stored"))
    assert stored == store.status().readings_written > 0
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_the_next_entry_takes_the_store_entities_when_the_owner_goes(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    bridge: HueBridgeSimulator,
    app_key: str,
) -> None:
    other = HueBridgeSimulator(replace(SMALL_HOME, seed=2))
    await other.start()
    try:
        first = make_entry(bridge, app_key, 2)
        second = make_entry(other, other.add_app_key("home-monitor#test"), 2)
        first.add_to_hass(hass)
        second.add_to_hass(hass)
        assert await hass.config_entries.async_setup(first.entry_id)
        await hass.async_block_till_done()
        assert store_owner(hass) is first
        assert "store_status" in health_entities(entity_registry, first.entry_id)
        assert "store_status" not in health_entities(entity_registry, second.entry_id)

        assert await hass.config_entries.async_remove(first.entry_id)
        await hass.async_block_till_done()
        assert store_owner(hass) is second
        entities = health_entities(entity_registry, second.entry_id)
        assert "store_status" in entities
        state = hass.states.get(entities["store_status"].entity_id)
        assert state is not None
        assert state.state == "ok"
        assert await hass.config_entries.async_unload(second.entry_id)
    finally:
        await other.stop()


def _entry_with_id(
    sim: HueBridgeSimulator, app_key: str, entry_id: str
) -> MockConfigEntry:
    template = make_entry(sim, app_key, 2)
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=entry_id,
        unique_id=template.unique_id,
        title=template.title,
        data=dict(template.data),
        options=dict(template.options),
    )


async def test_an_entry_added_later_that_sorts_first_leaves_the_store_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    bridge: HueBridgeSimulator,
    app_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two entries made at the same moment: the one set up first keeps the entities."""
    other = HueBridgeSimulator(replace(SMALL_HOME, seed=2))
    await other.start()
    try:
        with freeze_time(dt_util.utcnow()):
            running = _entry_with_id(bridge, app_key, "b-entry")
            added = _entry_with_id(
                other, other.add_app_key("home-monitor#test"), "a-entry"
            )
        assert added.created_at == running.created_at
        running.add_to_hass(hass)
        assert await hass.config_entries.async_setup(running.entry_id)
        await hass.async_block_till_done()
        added.add_to_hass(hass)
        assert await hass.config_entries.async_setup(added.entry_id)
        await hass.async_block_till_done()

        assert "does not generate unique IDs" not in caplog.text
        assert "store_status" in health_entities(entity_registry, running.entry_id)
        assert "store_status" not in health_entities(entity_registry, added.entry_id)
        status = health_entities(entity_registry, running.entry_id)["store_status"]
        state = hass.states.get(status.entity_id)
        assert state is not None
        assert state.state == "ok"
        for entry in (added, running):
            assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await other.stop()
