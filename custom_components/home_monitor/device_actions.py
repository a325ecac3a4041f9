"""Actions on the store's devices: rename_device and list_devices.

A rename sets the name Home Assistant shows (`name_by_user`), so the UI and
the store agree, and hands it to the store; with `rewrite_history` the store
also relabels every past reading of the device, in small steps between
ingest batches, and the action answers once that is done. As with the other
actions, every input is checked here and refused with a translated
`ServiceValidationError`.
"""

from __future__ import annotations

from typing import Any
import unicodedata

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
)

from .const import DOMAIN, vol
from .devices import device_key, physical_device_key
from .services import ATTR_DEVICE_ID, fresh, invalid_input, open_store, read_failed
from .store import StoreError

SERVICE_RENAME_DEVICE = "rename_device"
SERVICE_LIST_DEVICES = "list_devices"
ATTR_NAME = "name"
ATTR_REWRITE_HISTORY = "rewrite_history"
NAME_MAX = 100
# How long the action waits for the store: the name alone, and a whole rewrite
# (about a minute per million readings on a small machine); after that it
# answers with `complete` false and the rewrite goes on.
RENAME_WAIT_S = 30.0
REWRITE_WAIT_S = 600.0

RENAME_DEVICE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): object,
        vol.Required(ATTR_NAME): object,
        vol.Optional(ATTR_REWRITE_HISTORY): object,
    }
)
LIST_DEVICES_SCHEMA = vol.Schema({})


def check_name(value: object) -> str:
    """Return a device name as given, or refuse it.

    Empty, whitespace-only, longer than NAME_MAX characters or with control
    characters is refused; quotes, emoji and right-to-left text are kept
    exactly (direction marks are format characters, not control characters).
    """
    if not isinstance(value, str) or not value.strip():
        raise invalid_input("name_empty")
    if len(value) > NAME_MAX:
        raise invalid_input("name_too_long", length=len(value), max=NAME_MAX)
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise invalid_input("name_control_characters")
    return value


def _rewrite(data: dict[str, Any]) -> bool:
    value = data.get(ATTR_REWRITE_HISTORY, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return bool(cv.boolean(value))
        except vol.Invalid:
            pass
    raise invalid_input("invalid_rewrite_history", value=value)


def _home_monitor_device(
    hass: HomeAssistant, value: object
) -> tuple[dr.AnyDeviceEntry, str]:
    device = dr.async_get(hass).async_get(value) if isinstance(value, str) else None
    if device is None or (key := physical_device_key(device)) is None:
        raise invalid_input("unknown_device", device_id=value)
    return device, key


def _area_name(hass: HomeAssistant, device: dr.AnyDeviceEntry) -> str | None:
    if device.area_id is None:
        return None
    area = ar.async_get(hass).async_get_area(device.area_id)
    return None if area is None else area.name


async def _async_rename_device(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    data = dict(call.data)
    store = open_store(hass)
    device, key = _home_monitor_device(hass, data.get(ATTR_DEVICE_ID))
    name = check_name(data.get(ATTR_NAME))
    rewrite = _rewrite(data)
    total = 0
    if rewrite:
        try:
            total = await hass.async_add_executor_job(store.reader.count, key)
        except StoreError as err:
            raise read_failed(err) from err
    registry = dr.async_get(hass)
    device = registry.async_update_device(device.id, name_by_user=name) or device
    location = _area_name(hass, device)
    ticket = store.rename_device(key, name, location, rewrite=rewrite, total=total)
    wait = REWRITE_WAIT_S if rewrite else RENAME_WAIT_S
    complete = await hass.async_add_executor_job(ticket.wait, wait)
    if complete and not ticket.ok:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="rename_interrupted"
        )
    return {
        "device_id": device.id,
        "name": name,
        "location": location,
        "relabelled": ticket.relabelled,
        "complete": complete,
        "pending": store.status().relabel_pending,
    }


async def _async_list_devices(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    store = open_store(hass)
    try:
        summaries = await hass.async_add_executor_job(
            fresh, store, store.reader.device_summaries
        )
    except StoreError as err:
        raise read_failed(err) from err
    registry = dr.async_get(hass)
    ha_ids = {
        key: device.id
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if (key := device_key(device)) is not None
    }
    devices: list[Any] = [
        {"id": summary.id, "ha_device_id": ha_ids.get(summary.device.device_key)}
        | summary.as_dict()
        for summary in summaries
    ]
    return {"devices": devices}


@callback
def async_setup_device_services(hass: HomeAssistant) -> None:
    """Register rename_device and list_devices."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_RENAME_DEVICE,
        _async_rename_device,
        schema=RENAME_DEVICE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_DEVICES,
        _async_list_devices,
        schema=LIST_DEVICES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
