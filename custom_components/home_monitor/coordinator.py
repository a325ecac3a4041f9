"""Base coordinator: device snapshot, mirroring to the history store, retry bookkeeping."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .devices import DeviceRegistrySync
from .mirror import MirrorFilter
from .models import DeviceRecord, Metric, Reading
from .retry import BackoffPolicy, RetryEvent, RetryOutcome, RetryStats

if TYPE_CHECKING:
    from .store import HistoryStore

type HomeMonitorConfigEntry = ConfigEntry[HomeMonitorRuntime]

# The "Home Monitor history" device: the history store's health entities.
STORE_DEVICE_KEY = "history_store"

# Retry events counted for "retries in the last 24 h"; older ones are forgotten.
RETRY_WINDOW = timedelta(hours=24)
RETRY_WINDOW_MAX_EVENTS = 10_000


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
        # The store's device rows carry HA's names and areas, not the source's.
        self.device_sync = DeviceRegistrySync(hass, entry.entry_id, self.source, store)
        self.retry_stats = RetryStats()
        self.hub_device: DeviceRecord | None = None
        self.hub_device_id: str | None = None
        self._known_devices: dict[str, DeviceRecord] = {}
        # What of the source's readings is new, and at which time it is stored.
        self.gate = MirrorFilter(store, self.source)
        self.readings_mirrored = 0
        # Health figures: the current run of failed updates and the last good one.
        self.last_success_at: datetime | None = None
        self.failing_since: datetime | None = None
        self.consecutive_failures = 0
        self._refreshing = False
        self._recent_retries: deque[tuple[datetime, bool]] = deque(
            maxlen=RETRY_WINDOW_MAX_EVENTS
        )

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
        if event.outcome is not RetryOutcome.RECOVERED:
            failed = event.outcome is not RetryOutcome.RETRYING
            self._recent_retries.append((dt_util.utcnow(), failed))
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
        """Hand the new readings to the store, registering new or changed devices first.

        This is the only place that decides what is stored, by the source's
        `MirrorFilter` (repeats, the clock guard, late deliveries).
        """
        for device in devices:
            if self._known_devices.get(device.record.device_key) != device.record:
                self._upsert_device(device.record)
        if batch := self.gate.admit(readings):
            self.store.enqueue(batch)
            self.readings_mirrored += len(batch)

    @callback
    def async_publish(
        self, devices: dict[str, SourceDevice], readings: Iterable[Reading]
    ) -> None:
        """Push path: mirror readings and hand a new snapshot to the entities."""
        self.mirror(readings, devices.values())
        self.async_set_updated_data(devices)

    @property
    def health_device_key(self) -> str:
        """Return the device of the entry's health entities: the hub, or the account."""
        if self.hub_device is not None:
            return self.hub_device.device_key
        entry = self.config_entry
        return f"{self.source}:{entry.unique_id or entry.entry_id}:account"

    def kept_device_keys(self) -> set[str]:
        """Return the keys of the entry's devices that are not the source's devices."""
        return {self.health_device_key, STORE_DEVICE_KEY}

    def recent_retries(self, window: timedelta = RETRY_WINDOW) -> tuple[int, int]:
        """Return the retries and the calls that failed for good within `window`."""
        since = dt_util.utcnow() - window
        while self._recent_retries and self._recent_retries[0][0] < since:
            self._recent_retries.popleft()
        failed = sum(1 for _, final in self._recent_retries if final)
        return len(self._recent_retries) - failed, failed

    @override
    async def _async_refresh(
        self,
        log_failures: bool = True,
        raise_on_auth_failed: bool = False,
        scheduled: bool = False,
        raise_on_entry_error: bool = False,
    ) -> None:
        """Refresh; failures are logged by `_async_refresh_finished`, once per run."""
        self._refreshing = True
        try:
            await super()._async_refresh(
                False, raise_on_auth_failed, scheduled, raise_on_entry_error
            )
        finally:
            self._refreshing = False

    @override
    @callback
    def _async_refresh_finished(self) -> None:
        """Count the update; log a run of failures once when it starts and ends."""
        super()._async_refresh_finished()
        now = dt_util.utcnow()
        if self.last_update_success:
            # Home Assistant logs a refresh that works again itself.
            if self.failing_since is not None and not self._refreshing:
                LOGGER.info(
                    "%s works again after %d failed updates since %s",
                    self.name,
                    self.consecutive_failures,
                    self.failing_since.isoformat(timespec="seconds"),
                )
            self.failing_since = None
            self.consecutive_failures = 0
            self.last_success_at = now
            return
        self.consecutive_failures += 1
        if self.failing_since is None:
            self.failing_since = now
            LOGGER.warning(
                "%s cannot be updated: %s; retrying, and logging again only when it "
                "works",
                self.name,
                self.last_exception,
            )

    @override
    @callback
    def async_set_updated_data(self, data: dict[str, SourceDevice]) -> None:
        """Take pushed data: a good update like a successful poll."""
        super().async_set_updated_data(data)
        self._async_refresh_finished()

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
            "readings_retimed": self.gate.retimed,
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

    async def _async_poll(self) -> dict[str, SourceDevice]:
        """Read the source once and return its devices; sources implement this."""
        raise NotImplementedError

    @override
    async def _async_update_data(self) -> dict[str, SourceDevice]:
        """Poll the source; after a good poll, drop devices that left the source."""
        devices = await self._async_poll()
        self.retry_stats.record_success()
        if self.remove_stale_devices and devices:
            self._async_remove_stale_devices(set(devices))
        return devices

    @callback
    def _async_remove_stale_devices(self, current: set[str]) -> None:
        registry = dr.async_get(self.hass)
        current |= self.kept_device_keys()
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
        self.device_sync.async_upsert(record)
