"""Entry set-up and unload, and the shared history store's life cycle."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import closing
from dataclasses import replace
import sqlite3

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor import async_remove_config_entry_device
from custom_components.home_monitor.const import DOMAIN, SOURCE_HUE
from custom_components.home_monitor.history import get_store, store_path
from custom_components.home_monitor.sources import SOURCE_FACTORIES
from custom_components.home_monitor.store import HistoryStore
from tests.hue.fixtures import SMALL_HOME, make_entry
from tests.simulators.hue_bridge import HueBridgeSimulator


@pytest.fixture
async def second_bridge(socket_enabled: None) -> AsyncGenerator[HueBridgeSimulator]:
    """Run another simulated bridge, with its own bridge id."""
    simulator = HueBridgeSimulator(replace(SMALL_HOME, seed=2))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def store_opens(monkeypatch: pytest.MonkeyPatch) -> list[HistoryStore]:
    """Record every store that gets opened (the real open still runs)."""
    opened: list[HistoryStore] = []
    real_open = HistoryStore.open

    def _open(self: HistoryStore) -> None:
        opened.append(self)
        real_open(self)

    monkeypatch.setattr(HistoryStore, "open", _open)
    return opened


async def test_set_up_through_the_menu_and_unload(
    hass: HomeAssistant, bridge: HueBridgeSimulator, entity_registry: er.EntityRegistry
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_HUE}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: bridge.host}
    )
    bridge.link_button = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert {e.domain for e in entities} == {"sensor", "binary_sensor"}
    # Diagnostic health entities disabled by default have no state.
    assert all(hass.states.get(e.entity_id) for e in entities if not e.disabled_by)
    assert get_store(hass) is entry.runtime_data.store

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert get_store(hass) is None
    assert all(
        hass.states.get(e.entity_id).state == "unavailable"  # type: ignore[union-attr]
        for e in entities
        if not e.disabled_by
    )


async def test_store_is_shared_and_closed_after_the_last_entry(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    second_bridge: HueBridgeSimulator,
    store_opens: list[HistoryStore],
) -> None:
    first = make_entry(bridge, bridge.add_app_key(), 1)
    second = make_entry(second_bridge, second_bridge.add_app_key(), 1)
    for entry in (first, second):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert len(store_opens) == 1
    store = store_opens[0]
    assert first.runtime_data.store is second.runtime_data.store is store
    assert store.status().open

    assert await hass.config_entries.async_unload(first.entry_id)
    assert store.status().open
    assert get_store(hass) is store

    assert await hass.config_entries.async_unload(second.entry_id)
    assert not store.status().open
    assert get_store(hass) is None

    # Loading again opens a fresh store.
    assert await hass.config_entries.async_setup(first.entry_id)
    await hass.async_block_till_done()
    assert len(store_opens) == 2
    assert await hass.config_entries.async_unload(first.entry_id)


async def test_store_closes_when_home_assistant_stops(
    hass: HomeAssistant, bridge: HueBridgeSimulator, store_opens: list[HistoryStore]
) -> None:
    entry = make_entry(bridge, bridge.add_app_key(), 1)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    store = store_opens[0]

    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert not store.status().open
    assert get_store(hass) is None
    # Unloading afterwards does not close it twice or fail.
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_failed_set_up_releases_the_store(
    hass: HomeAssistant, bridge: HueBridgeSimulator, store_opens: list[HistoryStore]
) -> None:
    entry = make_entry(bridge, bridge.add_app_key(), 1)
    entry.add_to_hass(hass)
    await bridge.go_down()
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert len(store_opens) == 1
    assert not store_opens[0].status().open
    assert get_store(hass) is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_set_up_that_raises_releases_the_store(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    store_opens: list[HistoryStore],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def _broken(*args: object) -> None:
        raise RuntimeError("broken source")

    monkeypatch.setitem(SOURCE_FACTORIES, SOURCE_HUE, _broken)
    entry = make_entry(bridge, bridge.add_app_key(), 1)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(store_opens) == 1
    assert not store_opens[0].status().open
    assert get_store(hass) is None


async def test_only_devices_gone_from_the_bridge_can_be_removed(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry: MockConfigEntry = make_entry(bridge, bridge.add_app_key(), 1)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    hub = next(d for d in devices if d.via_device_id is None)
    sensor = next(d for d in devices if d.via_device_id is not None)
    assert sensor.via_device_id == hub.id

    assert not await async_remove_config_entry_device(hass, entry, hub)
    assert not await async_remove_config_entry_device(hass, entry, sensor)
    gone = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "hue:gone")}
    )
    assert await async_remove_config_entry_device(hass, entry, gone)
    assert coordinator.data
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_history_file_from_a_newer_version_stops_set_up_clearly(
    hass: HomeAssistant, bridge: HueBridgeSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    path = store_path(hass)

    def _write_future_file() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA user_version = 99")

    await hass.async_add_executor_job(_write_future_file)
    entry = make_entry(bridge, bridge.add_app_key(), 1)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "written by a newer version of Home Monitor" in caplog.text
    assert get_store(hass) is None
