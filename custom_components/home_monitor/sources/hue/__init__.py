"""Philips Hue source: v2 event stream or v1 sensors-only polling, through aiohue."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant

if TYPE_CHECKING:
    from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator
    from ...store import HistoryStore

# Entry data (the same key Home Assistant's own hue integration stores).
CONF_API_VERSION: Final = "api_version"
# Poll interval option, in seconds.
DEFAULT_POLL_INTERVAL: Final = 10
MIN_POLL_INTERVAL: Final = 2
MAX_POLL_INTERVAL: Final = 300
# Faster polling adds load that can make a bridge refuse requests.
SHORT_POLL_WARNING: Final = 5

HUE_DOMAIN: Final = "hue"  # Home Assistant's own Hue integration
DEVICE_TYPE_PREFIX: Final = "home-monitor#"
MANUFACTURER: Final = "Signify Netherlands B.V."
# One request never takes longer than this; a cycle's deadline may cut it shorter.
REQUEST_TIMEOUT: Final = 10.0
# Budget for the first state read of a v2 bridge (several requests).
SETUP_BUDGET: Final = timedelta(seconds=30)

# The modules below read the constants above from this package.
from .coordinator import HueCoordinator  # noqa: E402
from .flow import HueFlowMixin  # noqa: E402

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
