"""Home Monitor: Hue motion sensors and Amazon air-quality monitors, with a history store."""

from __future__ import annotations

from functools import partial
import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType
from homeassistant.loader import async_get_integration

from .const import CONF_SOURCE, DOMAIN
from .coordinator import HomeMonitorConfigEntry, HomeMonitorRuntime
from .device_actions import async_setup_device_services
from .entity import async_hand_over_store_entities
from .health_checks import check_entry_data
from .health_monitor import async_get_monitor
from .history import async_acquire_store, async_release_store
from .services import async_setup_services
from .sources import SOURCE_FACTORIES
from .websocket import async_register_commands

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [Platform.BINARY_SENSOR, Platform.SENSOR]

# The history card: one ES module with no build step. Its folder is served by Home
# Assistant's HTTP server and its URL (with the version and a digest of the file, so a
# browser never keeps an old copy) is an extra module of the frontend, so the card is in
# the card picker without a dashboard resource to add.
CARD_FILENAME: Final = "home-monitor-history-card.js"
CARD_DIRECTORY: Final = Path(__file__).parent / "frontend"
CARD_URL_BASE: Final = f"/{DOMAIN}/frontend"


def _digest() -> str:
    return hashlib.sha256((CARD_DIRECTORY / CARD_FILENAME).read_bytes()).hexdigest()[:8]


async def async_register_card(hass: HomeAssistant) -> str | None:
    """Serve the card and load it in every dashboard; return its URL.

    Does nothing (returns None) without Home Assistant's frontend, for
    example in a configuration without `default_config` or `frontend:`.
    """
    if "frontend" not in hass.config.components or hass.http is None:
        return None
    integration = await async_get_integration(hass, DOMAIN)
    digest = await hass.async_add_executor_job(_digest)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL_BASE, str(CARD_DIRECTORY), cache_headers=True)]
    )
    url = f"{CARD_URL_BASE}/{CARD_FILENAME}?v={integration.version}-{digest}"
    add_extra_js_url(hass, url)
    return url


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, so automations validate even with no entry loaded."""
    async_setup_services(hass)
    async_setup_device_services(hass)
    # The history card and its websocket commands.
    async_register_commands(hass)
    await async_register_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HomeMonitorConfigEntry) -> bool:
    """Set up one Hue bridge or Amazon account."""
    check_entry_data(entry)
    store = await async_acquire_store(hass, entry.entry_id)
    # Home Assistant runs these after an unload and after a failed set-up alike.
    entry.async_on_unload(partial(async_release_store, hass, entry.entry_id))
    coordinator = SOURCE_FACTORIES[entry.data[CONF_SOURCE]](hass, entry, store)
    entry.runtime_data = HomeMonitorRuntime(coordinator, store)
    await coordinator.async_config_entry_first_refresh()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # The devices now exist in HA's registry: the store follows their names and areas.
    for unsubscribe in coordinator.device_sync.async_start():
        entry.async_on_unload(unsubscribe)
    entry.async_on_unload(await async_get_monitor(hass).async_add_entry(entry))
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry
) -> bool:
    """Unload an entry; the last one out closes the history store."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a device the source no longer reports."""
    coordinator = entry.runtime_data.coordinator
    kept = set(coordinator.data or {}) | coordinator.kept_device_keys()
    return not any(
        domain == DOMAIN and key in kept for domain, key in device.identifiers
    )


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Give the history store's entities to the next entry when their owner goes."""
    async_hand_over_store_entities(hass, entry)
