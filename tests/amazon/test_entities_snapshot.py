"""Snapshots of an Amazon account's entities: registry entries and states."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from .conftest import setup_entry


@pytest.mark.usefixtures("without_health_entities")
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    entry: MockConfigEntry,
    platform: Platform,
) -> None:
    """Two monitors (one reporting in °F) on the simulated account."""
    with patch("custom_components.home_monitor.PLATFORMS", [platform]):
        await setup_entry(hass, entry)
        await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
