"""The writer's conditions: unwritable, locked, recovered; and its own events.

Every change of condition is counted for the health checks, logged once and
written to the events table (as soon as the database takes writes again).
"""

from datetime import UTC, datetime
import json
from pathlib import Path
import sqlite3
import time
from typing import Any

from ..const import LOGGER
from ..models import DeviceRecord
from ..retry import BackoffPolicy
from .catalog import Catalog
from .errors import describe
from .intake import EventItem
from .schema import LATEST_VERSION
from .spool import Spool, SpoolFileError
from .status import Counters

# Lock retries on top of SQLite's own busy timeout: five attempts over about
# 6.5 s in all, then the readings wait in the spool and are tried again later.
LOCK_POLICY = BackoffPolicy(
    attempts=5, base_delay=0.1, factor=2.0, max_delay=2.0, jitter=0.25
)
RETRY_AFTER_EXHAUSTION_S = 5.0
FIRST_PROBE_S = 1.0
MAX_PROBE_S = 30.0
PENDING_EVENTS_MAX = 1_000
EVENT_SOURCE = "store"


def wall_ms() -> int:
    """Return the wall-clock time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


class Conditions:
    """State shared by the writer's parts: counters, pending events, retry times."""

    def __init__(self, path: Path, counters: Counters) -> None:
        """Track the conditions of the database at `path`."""
        self.path = path
        self.spool_path = path.with_name(f"{path.name}.spool")
        self.counters = counters
        self.events: list[EventItem] = []
        self.degraded = False
        self.retry_at = 0.0
        self._probe_delay = FIRST_PROBE_S
        self._overflow_warned = False

    def add_event(self, kind: str, detail: dict[str, Any]) -> None:
        """Queue an event of the store itself for the events table."""
        self.events.append(EventItem(wall_ms(), kind, EVENT_SOURCE, detail))
        self.trim_events()

    def trim_events(self) -> None:
        """Keep pending events bounded, counting what is dropped."""
        excess = len(self.events) - PENDING_EVENTS_MAX
        if excess > 0:
            del self.events[:excess]
            self.counters.events_dropped += excess

    def note_error(self, err: BaseException) -> None:
        """Remember the last error for the health checks."""
        self.counters.last_error = describe(err)
        self.counters.last_error_at = datetime.now(UTC)

    def unwritable(self, err: BaseException) -> None:
        """Enter (or stay in) the unwritable condition after a refused write."""
        if not isinstance(err, (sqlite3.Error, OSError)):
            LOGGER.exception("Unexpected error in the history writer", exc_info=err)
        self.note_error(err)
        self.retry_at = time.monotonic() + self._probe_delay
        self._probe_delay = min(self._probe_delay * 2, MAX_PROBE_S)
        self.counters.writable = False
        if not self.degraded:
            self.degraded = True
            LOGGER.warning(
                "History database %s cannot be written (%s); readings are kept "
                "in memory and written when it can be",
                self.path,
                describe(err),
            )
            self.add_event("unwritable", {"error": describe(err)})

    def recovered(self) -> None:
        """Clear the unwritable condition: a write went through."""
        self.counters.writable = True
        self._probe_delay = FIRST_PROBE_S
        self._overflow_warned = False
        if self.degraded:
            self.degraded = False
            LOGGER.info("History database %s is writable again", self.path)
            self.add_event("recovered", {"spooled": self.counters.spooled})

    def opened(self, journal_mode: str, found_version: int) -> None:
        """Note a (re)opened file: its journal mode and any migration."""
        counters = self.counters
        counters.journal_mode = journal_mode
        counters.wal = journal_mode == "wal"
        counters.schema_version = LATEST_VERSION
        counters.generation += 1
        if not counters.wal:
            LOGGER.warning(
                "History database %s cannot use WAL here (journal mode %s); it keeps "
                "working with a rollback journal, readers may briefly wait for writes",
                self.path,
                journal_mode,
            )
            self.add_event("wal_unavailable", {"journal_mode": journal_mode})
        if 0 < found_version < LATEST_VERSION:
            LOGGER.info("Upgraded history database from schema %d", found_version)
            self.add_event("migrated", {"from": found_version, "to": LATEST_VERSION})
        self.recovered()

    def moved_aside(self, target: Path, err: BaseException) -> None:
        """Report a damaged file renamed to `target`."""
        LOGGER.error(
            "History database %s is damaged (%s); moved it to %s and started a new one",
            self.path,
            err,
            target,
        )
        self.counters.moved_aside.append(target)
        self.add_event("corruption", {"error": str(err), "moved_to": str(target)})

    def lock_retry(self, err: BaseException, attempt: int, delay: float) -> None:
        """Count one retry of a locked write."""
        self.counters.lock_retries += 1
        self.note_error(err)
        LOGGER.debug("History database locked, retry %d in %.2f s", attempt, delay)
        self.add_event(
            "lock_retry",
            {"attempt": attempt, "delay": round(delay, 3), "error": describe(err)},
        )

    def lock_exhausted(self, err: BaseException, attempts: int) -> None:
        """Every retry found the database locked; try again later."""
        self.counters.lock_exhaustions += 1
        self.note_error(err)
        self.retry_at = time.monotonic() + RETRY_AFTER_EXHAUSTION_S
        LOGGER.warning(
            "History database %s stayed locked through %d attempts; readings wait "
            "and are retried in %.0f s",
            self.path,
            attempts,
            RETRY_AFTER_EXHAUSTION_S,
        )
        self.add_event("lock_exhausted", {"attempts": attempts, "error": describe(err)})

    def spool_overflowed(self, dropped: int, bound: int) -> None:
        """Count and report readings the full spool dropped."""
        self.counters.spool_overflow += dropped
        self.add_event("spool_overflow", {"dropped": dropped, "bound": bound})
        if not self._overflow_warned:
            self._overflow_warned = True
            LOGGER.warning(
                "History spool is full (%d readings); the oldest are being dropped",
                bound,
            )

    def save_spool(self, spool: Spool, catalog: Catalog) -> None:
        """Save what the database did not take beside it, for the next start."""
        extra = {
            "devices": [
                [r.device_key, r.source, r.name, r.model, r.manufacturer, r.location]
                for r in catalog.dirty.values()
            ],
            "events": [
                [e.at_ms, e.kind, e.source, json.dumps(dict(e.detail), default=str)]
                for e in self.events
            ],
        }
        try:
            spool.save(self.spool_path, extra)
        except OSError as err:
            self.note_error(err)
            self.counters.readings_dropped += spool.count
            LOGGER.error(
                "Could not save %d unwritten readings to %s (%s); they are lost",
                spool.count,
                self.spool_path,
                err,
            )
            return
        self.counters.spool_saved = spool.count
        LOGGER.warning(
            "Saved %d readings the history database did not take to %s; they are "
            "written at the next start",
            spool.count,
            self.spool_path,
        )

    def load_spool(self, catalog: Catalog, max_readings: int) -> Spool | None:
        """Load a spool saved at the last stop; move a damaged one aside."""
        if not self.spool_path.exists():
            return None
        try:
            spool, extra = Spool.load(self.spool_path, max_readings)
            for fields in extra.get("devices", []):
                catalog.note(DeviceRecord(*fields))
            for at_ms, kind, source, detail in extra.get("events", []):
                self.events.append(EventItem(at_ms, kind, source, json.loads(detail)))
        except (SpoolFileError, OSError, TypeError, ValueError) as err:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            target = self.spool_path.with_name(f"{self.spool_path.name}.bad-{stamp}")
            self.spool_path.replace(target)
            LOGGER.error(
                "Saved history spool %s is damaged (%s); moved it to %s",
                self.spool_path,
                err,
                target,
            )
            self.add_event(
                "spool_damaged", {"error": str(err), "moved_to": str(target)}
            )
            return None
        self.trim_events()
        if dropped := spool.trim():
            self.spool_overflowed(dropped, max_readings)
        self.counters.spooled = spool.count
        LOGGER.info("Replaying %d readings saved at the last stop", spool.count)
        return spool
