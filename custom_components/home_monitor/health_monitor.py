"""The health monitor: the health report, kept current for the entities and repairs.

One monitor per Home Assistant instance runs the health checks every minute,
and a few seconds after any entry's coordinator changes (an outage starts or
ends), while at least one entry is loaded. Each run updates the diagnostic
entities, raises or clears repair issues (`repairs.RepairTracker`) and writes
every change of a component's status to the store's events table (kind
`health`). It also keeps the count of stored readings: counted once per
opening of the file in the executor, then followed by the writer's figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .health import HealthReport, HealthStatus, async_health_report
from .history import get_store, store_path
from .repairs import RepairTracker
from .store import HistoryReadError, StoreStatus

if TYPE_CHECKING:
    from .coordinator import HomeMonitorConfigEntry
    from .store import HistoryStore

CHECK_INTERVAL: Final = timedelta(minutes=1)
# After a coordinator changes, the checks run this many seconds later (at most
# once per this many seconds).
CHANGE_COOLDOWN: Final = 2.0
# Counts of the stored readings taken before one is not crossed by a commit.
COUNT_ATTEMPTS: Final = 5

MONITOR_KEY: HassKey[HealthMonitor] = HassKey(f"{DOMAIN}_health")


@dataclass(frozen=True, slots=True)
class _Count:
    """Readings in the file when counted, and the writer's figures then."""

    generation: int
    readings: int
    written: int
    purged: int


def async_get_monitor(hass: HomeAssistant) -> HealthMonitor:
    """Return the instance's health monitor, creating it on first use."""
    if (monitor := hass.data.get(MONITOR_KEY)) is None:
        monitor = hass.data[MONITOR_KEY] = HealthMonitor(hass)
    return monitor


class HealthMonitor:
    """Keeps the latest health report while entries are loaded."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare the monitor; nothing runs until an entry is added."""
        self.hass = hass
        self.report: HealthReport | None = None
        self.repairs = RepairTracker(hass)
        self._entries: dict[str, CALLBACK_TYPE] = {}
        self._listeners: list[Callable[[], None]] = []
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._unsub_stop: CALLBACK_TYPE | None = None
        self._debouncer: Debouncer[object] | None = None
        self._count: _Count | None = None
        self._counting = False
        # One run at a time, so reports are applied in the order they were made.
        self._lock = asyncio.Lock()

    # -- life cycle ------------------------------------------------------------------

    async def async_add_entry(self, entry: HomeMonitorConfigEntry) -> CALLBACK_TYPE:
        """Follow an entry being set up, after a first run of the checks.

        The returned callback stops following it.
        """
        if not self._entries:
            self._async_start()
        coordinator = entry.runtime_data.coordinator
        self._entries[entry.entry_id] = coordinator.async_add_listener(
            self.async_schedule_refresh
        )
        await self.async_refresh()

        @callback
        def _remove() -> None:
            if (unsub := self._entries.pop(entry.entry_id, None)) is not None:
                unsub()
            self.repairs.async_clear(entry.entry_id)
            if not self._entries:
                self._async_stop()

        return _remove

    @callback
    def _async_start(self) -> None:
        self._debouncer = Debouncer(
            self.hass,
            LOGGER,
            cooldown=CHANGE_COOLDOWN,
            immediate=True,
            function=self.async_refresh,
            background=True,
        )
        self._unsub_timer = async_track_time_interval(
            self.hass,
            self._async_timer,
            CHECK_INTERVAL,
            name=f"{DOMAIN} health check",
            cancel_on_shutdown=True,
        )
        self._unsub_stop = self.hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._async_on_stop
        )

    @callback
    def _async_stop(self) -> None:
        if self._unsub_stop is not None:
            self._unsub_stop()
            self._unsub_stop = None
        self._async_halt()
        # Without a loaded entry the store is closed; its repairs no longer apply.
        self.repairs.async_clear()
        self.report = None
        self._count = None

    @callback
    def _async_on_stop(self, _: Event) -> None:
        self._unsub_stop = None  # a listener that fired is gone
        self._async_halt()

    @callback
    def _async_halt(self) -> None:
        """Stop the timer and any pending run."""
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        if self._debouncer is not None:
            self._debouncer.async_shutdown()
            self._debouncer = None

    # -- runs --------------------------------------------------------------------------

    @callback
    def async_schedule_refresh(self) -> None:
        """Run the checks soon (a coordinator changed, or an entry was added)."""
        if self._debouncer is not None:
            self._debouncer.async_schedule_call()

    async def _async_timer(self, _: object) -> None:
        await self.async_refresh()

    async def async_refresh(self) -> HealthReport:
        """Run every check now; update the entities, repairs and the events table."""
        async with self._lock:
            return await self._async_refresh_locked()

    async def _async_refresh_locked(self) -> HealthReport:
        report = await async_health_report(self.hass)
        previous, self.report = self.report, report
        if not self._entries:
            return report  # the last entry left during the run
        store = get_store(self.hass)
        self.repairs.async_sync(report, {"path": str(store_path(self.hass))})
        if store is not None:
            self._record_transitions(store, previous, report)
            self._async_count(store)
        for listener in list(self._listeners):
            listener()
        return report

    def _record_transitions(
        self,
        store: HistoryStore,
        previous: HealthReport | None,
        report: HealthReport,
    ) -> None:
        """Write each component whose status changed to the store's events table."""
        for component in report.components:
            before = (
                previous.component(component.component, component.entry)
                if previous is not None
                else None
            )
            was = before.status if before is not None else HealthStatus.OK
            if was is component.status:
                continue
            LOGGER.debug(
                "Health of %s %s: %s -> %s (%s)",
                component.component,
                component.entry or "",
                was,
                component.status,
                component.message,
            )
            store.record_event(
                "health",
                component.component,
                {
                    "entry": component.entry,
                    "from": str(was),
                    "to": str(component.status),
                    "findings": [finding.code for finding in component.findings],
                },
            )

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` after every run; return the callback that removes it."""
        self._listeners.append(listener)

        @callback
        def _remove() -> None:
            self._listeners.remove(listener)

        return _remove

    # -- readings stored ---------------------------------------------------------------

    @property
    def readings_stored(self) -> int | None:
        """Return how many readings the history file holds (None until counted)."""
        store = get_store(self.hass)
        count = self._count
        if store is None or count is None:
            return None
        status = store.status()
        if status.generation != count.generation:
            return None
        return (
            count.readings
            + (status.readings_written - count.written)
            - (status.purged - count.purged)
        )

    @callback
    def _async_count(self, store: HistoryStore) -> None:
        """Count the file's readings once per opening, in the background."""
        status = store.status()
        if self._counting or not status.open:
            return
        if self._count is not None and self._count.generation == status.generation:
            return
        self._counting = True
        self.hass.async_create_background_task(
            self._async_count_now(store), f"{DOMAIN} count readings"
        )

    async def _async_count_now(self, store: HistoryStore) -> None:
        try:
            readings, status = await self.hass.async_add_executor_job(_count, store)
        except HistoryReadError as err:
            LOGGER.debug("Could not count the stored readings: %s", err)
            return
        finally:
            self._counting = False
        self._count = _Count(
            status.generation, readings, status.readings_written, status.purged
        )
        for listener in list(self._listeners):
            listener()


def _count(store: HistoryStore) -> tuple[int, StoreStatus]:
    """Count the readings in the file with the status the count matches (blocking).

    A commit between reading the status and counting would be counted twice (or
    missed): the count is taken again until no commit came in between, at most a few
    times; under steady ingest the figure may then be off by the readings written
    while counting. No reader is left open on a closed store.
    """
    try:
        for _ in range(COUNT_ATTEMPTS):
            before = store.status()
            readings = store.reader.count()
            after = store.status()
            if (before.readings_written, before.purged) == (
                after.readings_written,
                after.purged,
            ):
                break
        return readings, before
    finally:
        if not store.status().open:
            store.reader.close()
