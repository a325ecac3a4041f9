"""Snapshots of the entities of a v2 and a v1 bridge: registry entries and states."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from tests.simulators.hue_bridge import HueBridgeSimulator

from .fixtures import make_entry, unload, wait_for


@pytest.mark.usefixtures("without_health_entities")
@pytest.mark.parametrize("api_version", [2, 1])
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    *,
    snapshot: SnapshotAssertion,
    bridge: HueBridgeSimulator,
    app_key: str,
    api_version: int,
    platform: Platform,
) -> None:
    bridge.supports_v2 = api_version == 2
    entry = make_entry(bridge, app_key, api_version)
    entry.add_to_hass(hass)
    with patch("custom_components.home_monitor.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        if api_version == 2:
            await wait_for(hass, lambda: bridge.events.open_streams == 1)
        await hass.async_block_till_done()
        await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
        await unload(hass, entry)
