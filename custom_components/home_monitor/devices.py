"""The store's device table follows Home Assistant's device and area registries.

The source names a device once; after that the user owns its name
(`name_by_user`) and its area in Home Assistant. Every record the store gets
is the source's record with the name Home Assistant shows and the name of the
device's area; renames and area changes are handed to the store's queue as
they happen (never SQLite on the event loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import area_registry as ar, device_registry as dr

from .const import DOMAIN
from .models import DeviceRecord

if TYPE_CHECKING:
    from .store import HistoryStore


def device_key(device: dr.BaseDeviceEntry) -> str | None:
    """Return the device key of a Home Monitor device, or None for another's."""
    for domain, key in device.identifiers:
        if domain == DOMAIN:
            return key
    return None


def physical_device_key(device: dr.BaseDeviceEntry) -> str | None:
    """Return the key of a Home Monitor sensor or bridge; None for others.

    Service devices (an Amazon account, the history store) carry health
    entities, not readings: the store's device table leaves them out.
    """
    if getattr(device, "entry_type", None) == dr.DeviceEntryType.SERVICE:
        return None
    return device_key(device)


class DeviceRegistrySync:
    """Keeps the store's devices of one config entry in step with HA's registries."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, source: str, store: HistoryStore
    ) -> None:
        """Bind to one entry's devices; nothing is read until used."""
        self.hass = hass
        self.entry_id = entry_id
        self.source = source
        self.store = store
        self._source_records: dict[str, DeviceRecord] = {}
        self._sent: dict[str, DeviceRecord] = {}

    @callback
    def async_upsert(self, record: DeviceRecord) -> None:
        """Store a source's record under the name and area Home Assistant shows."""
        self._source_records[record.device_key] = record
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, record.device_key), self.entry_id
        )
        self._send(record if device is None else self._as_shown(record, device))

    @callback
    def async_start(self) -> list[Callable[[], None]]:
        """Reconcile every device of the entry, then follow the registries.

        Returns the functions that stop listening.
        """
        self._async_reconcile(present=True)
        return [
            self.hass.bus.async_listen(
                dr.EVENT_DEVICE_REGISTRY_UPDATED, self._async_device_updated
            ),
            self.hass.bus.async_listen(
                ar.EVENT_AREA_REGISTRY_UPDATED, self._async_area_updated
            ),
        ]

    @callback
    def _async_device_updated(
        self, event: Event[dr.EventDeviceRegistryUpdatedData]
    ) -> None:
        data = event.data
        if data["action"] == "remove":
            self._async_removed(data["device"])
        else:
            # A created device may be one removed before and added again.
            self._async_reconcile(data["device_id"], present=data["action"] == "create")

    @callback
    def _async_removed(self, device: dict[str, Any]) -> None:
        """Mark a device removed from Home Assistant; the store keeps its history."""
        if (
            device.get("config_entry_id") != self.entry_id
            or device.get("entry_type") == dr.DeviceEntryType.SERVICE
        ):
            return
        for domain, key in device.get("identifiers", ()):
            if domain == DOMAIN:
                self._sent.pop(key, None)
                self.store.mark_removed(key)

    @callback
    def _async_area_updated(
        self, event: Event[ar.EventAreaRegistryUpdatedData]
    ) -> None:
        if event.data["action"] == "update":
            self._async_reconcile()

    @callback
    def _async_reconcile(
        self, device_id: str | None = None, *, present: bool = False
    ) -> None:
        """Hand the store every device (or one) whose name or area changed.

        With `present` the store also learns the devices are in Home Assistant
        (again): one removed before keeps its id and history.
        """
        registry = dr.async_get(self.hass)
        if device_id is not None:
            device = registry.async_get(device_id, include_child_devices=False)
            devices = [] if device is None else [device]
        else:
            devices = dr.async_entries_for_config_entry(registry, self.entry_id)
        for device in devices:
            if device.config_entry_id != self.entry_id or not (
                key := physical_device_key(device)
            ):
                continue
            base = self._source_records.get(key)
            if base is None:
                base = DeviceRecord(
                    key,
                    self.source,
                    device.name or key,
                    model=device.model,
                    manufacturer=device.manufacturer,
                )
            self._send(self._as_shown(base, device))
            if present:
                self.store.mark_removed(key, removed=False)

    def _as_shown(self, record: DeviceRecord, device: dr.DeviceEntry) -> DeviceRecord:
        """Return the record with HA's name and the name of the device's area."""
        area = (
            ar.async_get(self.hass).async_get_area(device.area_id)
            if device.area_id
            else None
        )
        return replace(
            record,
            name=device.name_by_user or device.name or record.name,
            location=area.name if area is not None else None,
        )

    def _send(self, record: DeviceRecord) -> None:
        if self._sent.get(record.device_key) != record:
            self._sent[record.device_key] = record
            self.store.upsert_device(record)
