"""Diagnostics: useful state, no secret."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.hue.fixtures import make_entry
from tests.simulators.hue_bridge import HueBridgeSimulator


async def test_diagnostics_show_state_and_hide_the_app_key(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    bridge: HueBridgeSimulator,
) -> None:
    app_key = bridge.add_app_key()
    entry = make_entry(bridge, app_key, 1)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert app_key not in json.dumps(diagnostics)
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    coordinator = diagnostics["coordinator"]
    assert coordinator["source"] == "hue"
    assert coordinator["last_update_success"] is True
    assert len(coordinator["devices"]) == 2
    assert diagnostics["store"]["open"] is True
    assert await hass.config_entries.async_unload(entry.entry_id)
