"""The Amazon Smart Air Quality Monitor source (through the Alexa cloud)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant

from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator
from .account import AmazonAccount
from .client import AmazonClient
from .const import (
    CONF_LOGIN_DATA,
    DEFAULT_POLL_INTERVAL,
    MAX_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    REQUEST_TIMEOUT,
    SHORT_POLL_WARNING,
)
from .coordinator import AmazonCoordinator
from .credentials import AmazonCredentials
from .flow import AmazonFlowMixin
from .transport import async_create_http

if TYPE_CHECKING:
    from ...store import HistoryStore

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "MAX_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "SHORT_POLL_WARNING",
    "AmazonFlowMixin",
    "create_coordinator",
]


def create_coordinator(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
) -> HomeMonitorCoordinator:
    """Return the coordinator of an Amazon account entry."""
    credentials = AmazonCredentials(entry.data[CONF_LOGIN_DATA])
    client = AmazonClient(async_create_http(hass), credentials, timeout=REQUEST_TIMEOUT)
    return AmazonCoordinator(hass, entry, store, AmazonAccount(client))


async def async_create_coordinator(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
) -> HomeMonitorCoordinator:
    """Return the coordinator (kept until the source table calls `create_coordinator`)."""
    return create_coordinator(hass, entry, store)
