"""The Amazon Smart Air Quality Monitor source (through the Alexa cloud)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant

from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator
from . import const
from .account import AmazonAccount
from .client import AmazonClient
from .coordinator import AmazonCoordinator
from .credentials import AmazonCredentials
from .transport import async_create_http

if TYPE_CHECKING:
    from ...store import HistoryStore


async def async_create_coordinator(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
) -> HomeMonitorCoordinator:
    """Return the coordinator of an Amazon account entry."""
    credentials = AmazonCredentials(entry.data[const.CONF_LOGIN_DATA])
    client = AmazonClient(
        async_create_http(hass), credentials, timeout=const.REQUEST_TIMEOUT
    )
    return AmazonCoordinator(hass, entry, store, AmazonAccount(client))
