"""Philips Hue source: v2 event stream or v1 sensors-only polling, through aiohue."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator
from ...store import HistoryStore
from .coordinator import HueCoordinator


async def async_create_coordinator(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
) -> HomeMonitorCoordinator:
    """Return the coordinator of one Hue bridge entry."""
    return HueCoordinator(hass, entry, store)
