"""Options: a source's settings and the shared history store's settings."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType, section
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import CONF_POLL_INTERVAL, vol
from custom_components.home_monitor.history import async_get_settings, get_store
from custom_components.home_monitor.store import StoreSettings
from tests.hue.fixtures import make_entry
from tests.simulators.hue_bridge import HueBridgeSimulator


def _displayed(schema: vol.Schema) -> dict[str, Any]:
    """Return what a form shows: each field's default or suggested value."""
    shown: dict[str, Any] = {}
    for key, value in schema.schema.items():
        if isinstance(value, section):
            shown[str(key)] = _displayed(value.schema)
        elif (default := key.default) is not vol.UNDEFINED:
            shown[str(key)] = default()
        elif (suggested := (key.description or {}).get("suggested_value")) is not None:
            shown[str(key)] = suggested
    return shown


def _shown(result: FlowResult) -> dict[str, Any]:
    schema = result["data_schema"]
    assert schema is not None
    return _displayed(schema)


@pytest.fixture
async def entry(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> AsyncGenerator[MockConfigEntry]:
    """Return a loaded Hue entry; unload it afterwards."""
    loaded = make_entry(bridge, bridge.add_app_key(), 1)
    loaded.add_to_hass(hass)
    assert await hass.config_entries.async_setup(loaded.entry_id)
    await hass.async_block_till_done()
    yield loaded
    assert await hass.config_entries.async_unload(loaded.entry_id)


async def _submit(
    hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, Any]
) -> FlowResult:
    """Open the options and submit `user_input` once."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hue"
    return await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )


async def _confirm(
    hass: HomeAssistant, result: FlowResult, user_input: dict[str, Any]
) -> None:
    """Submit the form again; the options are saved and the entry reloaded."""
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_options_save_source_and_history_settings(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    result = await _submit(
        hass,
        entry,
        {
            CONF_POLL_INTERVAL: 30,
            "history": {
                "retention_days": 365,
                "size_budget_mb": 500,
                "inactive_days": 14,
            },
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {CONF_POLL_INTERVAL: 30}
    expected = StoreSettings(
        retention_days=365, size_budget_bytes=500_000_000, inactive_days=14
    )
    assert await async_get_settings(hass) == expected
    # The entry was reloaded with the new interval, and the store uses the settings.
    assert entry.runtime_data.coordinator.update_interval.total_seconds() == 30  # type: ignore[union-attr]
    store = get_store(hass)
    assert store is not None
    assert store.settings == expected

    # Clearing the retention keeps everything again.
    await _submit(hass, entry, {CONF_POLL_INTERVAL: 30, "history": {}})
    await hass.async_block_till_done()
    assert (await async_get_settings(hass)).retention_days is None


async def test_settings_saved_without_an_open_store_are_used_at_open(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    history = {"retention_days": 7, "size_budget_mb": 50}
    await _submit(hass, entry, {CONF_POLL_INTERVAL: 10, "history": history})
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    store = get_store(hass)
    assert store is not None
    assert store.settings == StoreSettings(
        retention_days=7, size_budget_bytes=50_000_000
    )


async def test_option_warning_is_shown_once_then_accepted(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    user_input = {CONF_POLL_INTERVAL: 2, "history": {"size_budget_mb": 1000}}
    result = await _submit(hass, entry, dict(user_input))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "hue_poll_interval_short"}
    await _confirm(hass, result, dict(user_input))
    assert entry.options == {CONF_POLL_INTERVAL: 2}


@pytest.mark.parametrize(
    ("saved", "submitted", "expected"),
    [
        (
            {},
            {"retention_days": 30, "size_budget_mb": 200, "spool_max_readings": 20_000},
            StoreSettings(
                retention_days=30,
                size_budget_bytes=200_000_000,
                spool_max_readings=20_000,
            ),
        ),
        # A retention cleared in the same form stays cleared.
        (
            {"retention_days": 90},
            {"size_budget_mb": 300},
            StoreSettings(size_budget_bytes=300_000_000),
        ),
    ],
)
async def test_history_edits_survive_the_warning(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    saved: dict[str, int],
    submitted: dict[str, int],
    expected: StoreSettings,
) -> None:
    await _submit(hass, entry, {CONF_POLL_INTERVAL: 10, "history": saved})
    await hass.async_block_till_done()

    result = await _submit(
        hass, entry, {CONF_POLL_INTERVAL: 2, "history": dict(submitted)}
    )
    assert result["errors"] == {"base": "hue_poll_interval_short"}
    # The form shows what was submitted, and the user confirms it as shown.
    shown = _shown(result)
    assert shown[CONF_POLL_INTERVAL] == 2
    assert shown["history"] == {
        "size_budget_mb": expected.size_budget_bytes // 1_000_000,
        "spool_max_readings": expected.spool_max_readings,
        "inactive_days": expected.inactive_days,
        **submitted,
    }
    await _confirm(hass, result, shown)
    assert entry.options == {CONF_POLL_INTERVAL: 2}
    assert await async_get_settings(hass) == expected
