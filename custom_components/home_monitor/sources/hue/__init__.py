"""Philips Hue source: v2 event stream or v1 sensors-only polling, through aiohue."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator
from ...store import HistoryStore
from .const import (
    CONF_API_VERSION,
    DEFAULT_POLL_INTERVAL,
    MAX_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    SHORT_POLL_WARNING,
)
from .coordinator import HueCoordinator
from .flow import HueFlowMixin

__all__ = [
    "CONF_API_VERSION",
    "DEFAULT_POLL_INTERVAL",
    "MAX_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "SHORT_POLL_WARNING",
    "HueFlowMixin",
    "create_coordinator",
]


def create_coordinator(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
) -> HomeMonitorCoordinator:
    """Return the coordinator of one Hue bridge entry."""
    return HueCoordinator(hass, entry, store)


async def async_create_coordinator(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
) -> HomeMonitorCoordinator:
    """Return the coordinator (kept until the caller uses `create_coordinator`)."""
    return create_coordinator(hass, entry, store)
