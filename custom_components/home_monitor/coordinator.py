"""Base coordinator: device snapshot, mirroring to the history store, retry bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import DOMAIN, LOGGER
from .models import DeviceRecord, Metric, Reading
from .retry import BackoffPolicy, RetryEvent, RetryStats

if TYPE_CHECKING:
    from .store import HistoryStore

type HomeMonitorConfigEntry = ConfigEntry[HomeMonitorRuntime]


@dataclass(slots=True)
class SourceDevice:
    """The latest known state of one physical device."""

    record: DeviceRecord
    metrics: frozenset[Metric]
    values: dict[Metric, float | None] = field(default_factory=dict)
    unavailable: frozenset[Metric] = frozenset()
    online: bool = True
    via_device: str | None = None
    serial_number: str | None = None
    sw_version: str | None = None

    def is_available(self, metric: Metric) -> bool:
        """Return whether the entity for `metric` can show a state."""
        if metric in self.unavailable:
            return False
        return self.online or metric is Metric.CONNECTIVITY


@dataclass(slots=True)
class HomeMonitorRuntime:
    """What a loaded entry keeps in `runtime_data`."""

    coordinator: HomeMonitorCoordinator
    store: HistoryStore


class HomeMonitorCoordinator(DataUpdateCoordinator[dict[str, SourceDevice]]):
    """Keeps one source's device snapshot and mirrors its readings to the store."""

    config_entry: HomeMonitorConfigEntry
    source: ClassVar[str]
    policy: ClassVar[BackoffPolicy] = BackoffPolicy()
    remove_stale_devices: ClassVar[bool] = False

    def __init__(
        self,
        hass: HomeAssistant,
        entry: HomeMonitorConfigEntry,
        store: HistoryStore,
        *,
        update_interval: timedelta | None,
    ) -> None:
        """Initialise the coordinator for one config entry."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {self.source} {entry.title}",
            update_interval=update_interval,
            always_update=False,
        )
        self.store = store
        self.retry_stats = RetryStats()
        self.hub_device: DeviceRecord | None = None
        self.hub_device_id: str | None = None
        self._known_devices: dict[str, DeviceRecord] = {}
        self.readings_mirrored = 0

    @override
    async def _async_setup(self) -> None:
        """Register the hub (bridge) device before any entity refers to it."""
        if self.hub_device is not None:
            hub = self.hub_device
            self.hub_device_id = (
                dr.async_get(self.hass)
                .async_get_or_create(
                    config_entry_id=self.config_entry.entry_id,
                    identifiers={(DOMAIN, hub.device_key)},
                    name=hub.name,
                    manufacturer=hub.manufacturer,
                    model=hub.model,
                )
                .id
            )
            self._upsert_device(hub)

    def record_retry(self, event: RetryEvent) -> None:
        """Count a retry event and keep it in the store's event log."""
        self.retry_stats.record(event)
        LOGGER.debug(
            "%s %s attempt %s: %s (%s)",
            event.source,
            event.endpoint,
            event.attempt,
            event.reason,
            event.outcome,
        )
        self.store.record_event(
            "retry",
            event.source,
            {
                "endpoint": event.endpoint,
                "attempt": event.attempt,
                "reason": event.reason,
                "outcome": str(event.outcome),
                "delay": event.delay,
            },
        )

    def mirror(
        self,
        readings: Iterable[Reading],
        devices: Iterable[SourceDevice] = (),
    ) -> None:
        """Hand readings to the store, registering new or changed devices first."""
        for device in devices:
            if self._known_devices.get(device.record.device_key) != device.record:
                self._upsert_device(device.record)
        batch = list(readings)
        if batch:
            self.store.enqueue(batch)
            self.readings_mirrored += len(batch)

    @callback
    def async_publish(
        self, devices: dict[str, SourceDevice], readings: Iterable[Reading]
    ) -> None:
        """Push path: mirror readings and hand a new snapshot to the entities."""
        self.mirror(readings, devices.values())
        self.async_set_updated_data(devices)

    def source_diagnostics(self) -> dict[str, Any]:
        """Return secret-free details of the source; sources extend this."""
        return {}

    def diagnostics(self) -> dict[str, Any]:
        """Return the coordinator's secret-free state for diagnostics."""
        return {
            "source": self.source,
            "last_update_success": self.last_update_success,
            "update_interval": (
                self.update_interval.total_seconds() if self.update_interval else None
            ),
            "readings_mirrored": self.readings_mirrored,
            "retry": self.retry_stats.as_dict(),
            "devices": {
                key: {
                    "name": device.record.name,
                    "model": device.record.model,
                    "online": device.online,
                    "metrics": sorted(device.metrics),
                    "unavailable": sorted(device.unavailable),
                    "values": {str(m): v for m, v in device.values.items()},
                }
                for key, device in (self.data or {}).items()
            },
            "source_details": self.source_diagnostics(),
        }

    @override
    def async_update_listeners(self) -> None:
        """Notify entities; after a good update, drop devices that left the source."""
        super().async_update_listeners()
        if self.last_update_success:
            self.retry_stats.record_success()
            if self.remove_stale_devices and self.data:
                self._async_remove_stale_devices()

    @callback
    def _async_remove_stale_devices(self) -> None:
        registry = dr.async_get(self.hass)
        current = set(self.data)
        if self.hub_device is not None:
            current.add(self.hub_device.device_key)
        for device in dr.async_entries_for_config_entry(
            registry, self.config_entry.entry_id
        ):
            keys = {ident for domain, ident in device.identifiers if domain == DOMAIN}
            if keys and not keys & current:
                LOGGER.info("Removing %s: it is no longer on the account", device.name)
                registry.async_update_device(
                    device.id, remove_config_entry_id=self.config_entry.entry_id
                )

    def _upsert_device(self, record: DeviceRecord) -> None:
        self._known_devices[record.device_key] = record
        self.store.upsert_device(record)
