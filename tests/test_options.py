"""Options: a source's settings and the shared history store's settings."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.history import async_get_settings, get_store
from custom_components.home_monitor.const import CONF_POLL_INTERVAL
from custom_components.home_monitor.store import StoreSettings
from tests.hue.fixtures import make_entry
from tests.simulators.hue_bridge import HueBridgeSimulator


async def _loaded(hass: HomeAssistant, bridge: HueBridgeSimulator) -> MockConfigEntry:
    entry = make_entry(bridge, bridge.add_app_key(), 1)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_options_save_source_and_history_settings(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    entry = await _loaded(hass, bridge)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hue"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_POLL_INTERVAL: 30,
            "history": {"retention_days": 365, "size_budget_mb": 500},
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {CONF_POLL_INTERVAL: 30}
    expected = StoreSettings(retention_days=365, size_budget_bytes=500_000_000)
    assert await async_get_settings(hass) == expected
    # The entry was reloaded with the new interval, and the store uses the settings.
    assert entry.runtime_data.coordinator.update_interval.total_seconds() == 30  # type: ignore[union-attr]
    store = get_store(hass)
    assert store is not None
    assert store.settings == expected

    # Clearing the retention keeps everything again.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_POLL_INTERVAL: 30, "history": {"size_budget_mb": 500}},
    )
    await hass.async_block_till_done()
    assert (await async_get_settings(hass)).retention_days is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_settings_saved_without_an_open_store_are_used_at_open(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    entry = await _loaded(hass, bridge)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_POLL_INTERVAL: 10,
            "history": {"retention_days": 7, "size_budget_mb": 50},
        },
    )
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    store = get_store(hass)
    assert store is not None
    assert store.settings == StoreSettings(
        retention_days=7, size_budget_bytes=50_000_000
    )
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_option_warning_is_shown_once_then_accepted(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    entry = await _loaded(hass, bridge)
    user_input = {CONF_POLL_INTERVAL: 2, "history": {"size_budget_mb": 1000}}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(user_input)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "hue_poll_interval_short"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(user_input)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {CONF_POLL_INTERVAL: 2}
    assert await hass.config_entries.async_unload(entry.entry_id)
