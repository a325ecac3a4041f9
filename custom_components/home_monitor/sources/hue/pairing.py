"""Finding a bridge, pairing with it, and checking an app key, for the config flow."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from aiohue import (
    HueBridgeV1,
    HueBridgeV2,
    LinkButtonNotPressed,
    Unauthorized,
    create_app_key,
)
from aiohue.discovery import discover_bridge
from aiohue.errors import AiohueException
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import slugify

from . import CONF_API_VERSION, DEVICE_TYPE_PREFIX, HUE_DOMAIN, REQUEST_TIMEOUT

__all__ = ["LinkButtonNotPressed"]


class CannotConnectError(Exception):
    """The bridge did not answer."""


class InvalidAppKeyError(Exception):
    """The bridge rejected the app key."""


@dataclass(frozen=True, slots=True)
class FoundBridge:
    """A bridge that answered: where it is, its id and its API."""

    host: str
    bridge_id: str
    api_version: int


@dataclass(frozen=True, slots=True)
class ReusableBridge:
    """A bridge Home Assistant's own Hue integration is already paired with."""

    bridge_id: str
    host: str
    app_key: str
    api_version: int
    title: str


def _session(hass: HomeAssistant) -> aiohttp.ClientSession:
    # Bridges use a certificate from an on-bridge authority.
    return async_get_clientsession(hass, verify_ssl=False)


async def async_find_bridge(hass: HomeAssistant, host: str) -> FoundBridge:
    """Ask `host` for its bridge id and whether it speaks CLIP v2."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            found = await discover_bridge(host, websession=_session(hass))
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        raise CannotConnectError from err
    return FoundBridge(host, found.id, 2 if found.supports_v2 else 1)


async def async_create_app_key(hass: HomeAssistant, host: str) -> str:
    """Pair with the bridge; raises LinkButtonNotPressed until the button is pressed."""
    name = slugify(hass.config.location_name, separator="_")[:19] or "home"
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            key = await create_app_key(
                host, f"{DEVICE_TYPE_PREFIX}{name}", websession=_session(hass)
            )
    except LinkButtonNotPressed:
        raise
    except (aiohttp.ClientError, TimeoutError, AiohueException) as err:
        raise CannotConnectError from err
    return str(key)


async def async_check_app_key(
    hass: HomeAssistant, host: str, app_key: str, api_version: int
) -> None:
    """Make one small authenticated request; raise InvalidAppKeyError or CannotConnectError."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            if api_version == 1:
                await HueBridgeV1(host, app_key, _session(hass)).request(
                    "get", "groups/0"
                )
                return
            bridge = HueBridgeV2(host, app_key)
            try:
                await bridge.request("get", "clip/v2/resource/bridge")
            finally:
                await bridge.close()
    except Unauthorized as err:
        raise InvalidAppKeyError from err
    except (aiohttp.ClientError, TimeoutError, AiohueException) as err:
        raise CannotConnectError from err


def reusable_bridges(
    hass: HomeAssistant, skip: set[str | None]
) -> list[ReusableBridge]:
    """Return the bridges Home Assistant's Hue integration holds app keys for."""
    found = []
    for entry in hass.config_entries.async_entries(HUE_DOMAIN):
        if not _complete(entry) or entry.unique_id in skip:
            continue
        found.append(
            ReusableBridge(
                str(entry.unique_id),
                entry.data[CONF_HOST],
                entry.data[CONF_API_KEY],
                int(entry.data.get(CONF_API_VERSION, 1)),
                entry.title,
            )
        )
    return found


def _complete(entry: ConfigEntry) -> bool:
    return bool(
        entry.unique_id and entry.data.get(CONF_HOST) and entry.data.get(CONF_API_KEY)
    )
