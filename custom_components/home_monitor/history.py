"""The one history store per Home Assistant instance, shared by every entry.

The first entry to set up opens the store, the last one to unload closes it.
Home Assistant does not unload entries when it stops, so the store is also
flushed and closed at HA's final-write stage, inside its shutdown budget.
All blocking work runs in the executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import (
    DOMAIN,
    LOGGER,
    STORE_DIRECTORY,
    STORE_FILENAME,
    STORE_SHUTDOWN_TIMEOUT,
)
from .store import HistoryStore, SchemaTooNewError, StoreSettings

SETTINGS_VERSION = 1


@dataclass(slots=True)
class StoreHandle:
    """The open store and the entries using it."""

    store: HistoryStore
    users: set[str] = field(default_factory=set)
    unsub_final_write: CALLBACK_TYPE | None = None


STORE_KEY: HassKey[StoreHandle] = HassKey(f"{DOMAIN}_store")
SETTINGS_KEY: HassKey[Store[dict[str, Any]]] = HassKey(f"{DOMAIN}_settings")
LOCK_KEY: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_store_lock")


def get_store(hass: HomeAssistant) -> HistoryStore | None:
    """Return the open store, or None when no entry is loaded."""
    handle = hass.data.get(STORE_KEY)
    return handle.store if handle else None


def store_path(hass: HomeAssistant) -> Path:
    """Return where the history database lives."""
    return Path(hass.config.path(STORE_DIRECTORY, STORE_FILENAME))


def _settings_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
    if (store := hass.data.get(SETTINGS_KEY)) is None:
        store = hass.data[SETTINGS_KEY] = Store(
            hass, SETTINGS_VERSION, f"{DOMAIN}.history_settings"
        )
    return store


def _settings_from(data: dict[str, Any] | None) -> StoreSettings:
    if not data:
        return StoreSettings()
    known = StoreSettings.__dataclass_fields__
    return StoreSettings(**{k: v for k, v in data.items() if k in known})


async def async_get_settings(hass: HomeAssistant) -> StoreSettings:
    """Return the saved store settings (defaults when never saved)."""
    return _settings_from(await _settings_store(hass).async_load())


async def async_save_settings(hass: HomeAssistant, settings: StoreSettings) -> None:
    """Save the store settings and apply them to the open store."""
    await _settings_store(hass).async_save(asdict(settings))
    if (store := get_store(hass)) is not None:
        store.apply_settings(settings)


async def async_acquire_store(hass: HomeAssistant, entry_id: str) -> HistoryStore:
    """Return the shared store, opening it for the first entry."""
    async with hass.data.setdefault(LOCK_KEY, asyncio.Lock()):
        if (handle := hass.data.get(STORE_KEY)) is None:
            store = HistoryStore(store_path(hass), await async_get_settings(hass))
            try:
                await hass.async_add_executor_job(store.open)
            except SchemaTooNewError as err:
                raise ConfigEntryError(
                    translation_domain=DOMAIN,
                    translation_key="store_too_new",
                    translation_placeholders={"path": str(store_path(hass))},
                ) from err
            handle = StoreHandle(store)
            handle.unsub_final_write = hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_FINAL_WRITE, _final_write_listener(hass)
            )
            hass.data[STORE_KEY] = handle
            LOGGER.debug("History store opened at %s", store.status().path)
        handle.users.add(entry_id)
        return handle.store


async def async_release_store(hass: HomeAssistant, entry_id: str) -> None:
    """Stop using the store; the last entry to leave closes it."""
    async with hass.data.setdefault(LOCK_KEY, asyncio.Lock()):
        if (handle := hass.data.get(STORE_KEY)) is None:
            return
        handle.users.discard(entry_id)
        if handle.users:
            return
        del hass.data[STORE_KEY]
        if handle.unsub_final_write is not None:
            handle.unsub_final_write()
        await _async_close(hass, handle.store)


def _final_write_listener(hass: HomeAssistant) -> Callable[[Event], None]:
    @callback
    def _on_final_write(event: Event) -> None:
        if (handle := hass.data.pop(STORE_KEY, None)) is None:
            return
        handle.unsub_final_write = None
        hass.async_create_task(
            _async_close(hass, handle.store), f"{DOMAIN} close history store"
        )

    return _on_final_write


async def _async_close(hass: HomeAssistant, store: HistoryStore) -> None:
    await hass.async_add_executor_job(
        store.close, STORE_SHUTDOWN_TIMEOUT.total_seconds()
    )
    LOGGER.debug("History store closed")
