"""The writer's connection to the file, its transactions and its conditions.

Used only by the writer thread. Every write goes through `transact()`, which
retries locks with backoff and turns any other failure into the unwritable
condition: the connection is dropped, and the next attempt reconnects (which
also recreates a file that vanished). Every change of condition is counted in
the status, logged once and written to the events table, with the store's
other events, as soon as the database takes writes again.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
import sqlite3
import time
from typing import Any

from ..const import LOGGER
from ..retry import BackoffPolicy
from .maintenance import Work
from .records import EventItem, StoreSettings, StoreStatus, describe, is_lock_error
from .rollups import restart_backfill
from .rows import Catalog, RowSource, Tally, insert_events, write_rows
from .salvage import salvage
from .schema import (
    BUSY_TIMEOUT_S,
    LATEST_VERSION,
    CorruptDatabaseError,
    OpenedDatabase,
    file_sizes,
    move_aside,
    open_database,
)

# Part of close()'s budget kept for saving the spool.
SAVE_MARGIN_S = 1.0
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
# The health check's write probe: inserted, then rolled back.
_PROBE = "INSERT INTO events (at, kind, source, detail) VALUES (?, 'probe', ?, '{}')"


def wall_ms() -> int:
    """Return the wall-clock time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


class Database:
    """The writer connection, what is written through it, and its conditions."""

    def __init__(
        self, path: Path, status: StoreStatus, settings: Callable[[], StoreSettings]
    ) -> None:
        """Write the file at `path`, reporting into `status`."""
        self.path = path
        self.status = status
        self.catalog = Catalog()
        self.conn: sqlite3.Connection | None = None
        self.deadline: float | None = None
        self.events: list[EventItem] = []
        self.retry_at = 0.0
        self.last_commit = 0.0
        self.wal_dirty = False
        self._settings = settings
        self._identity: tuple[int, int] | None = None
        self._degraded = False
        self._probe_delay = FIRST_PROBE_S

    @property
    def pending(self) -> bool:
        """Return whether events or device records wait to be written."""
        return bool(self.events or self.catalog.dirty)

    def connect(self) -> None:
        """Open the file (moving a damaged one aside) and note what was found."""
        try:
            opened = open_database(self.path)
            self.status.quick_check = "ok"
        except CorruptDatabaseError as err:
            self.status.quick_check = str(err)
            opened = self._replace_damaged(err)
        self.conn = opened.conn
        self._identity = self._file_identity()
        self.catalog.load(opened.conn)
        self._opened(opened.journal_mode, opened.found_version)
        self.update_sizes()

    def _replace_damaged(self, err: CorruptDatabaseError) -> OpenedDatabase:
        """Move a damaged file aside, start a new one and salvage what is readable."""
        target = move_aside(self.path)
        opened = open_database(self.path)
        detail: dict[str, Any] = {"error": str(err), "moved_to": str(target)}
        try:
            found = salvage(target, opened.conn)
        except (OSError, sqlite3.Error, ValueError) as salvage_err:
            LOGGER.exception("Could not salvage readings from %s", target)
            detail["salvage_error"] = describe(salvage_err)
        else:
            detail |= found.as_detail()
            restart_backfill(opened.conn)  # roll up what was copied in
            self.status.readings_salvaged += found.readings
            self.status.readings_lost += found.lost
        LOGGER.error(
            "History database %s is damaged (%s); moved it to %s and started a new "
            "one with the %s readings that could be read (about %s lost)",
            self.path,
            err,
            target,
            detail.get("readings_salvaged", 0),
            detail.get("readings_lost", "all others"),
        )
        self.status.moved_aside += (target,)
        self.add_event("corruption", detail)
        return opened

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_dev, stat.st_ino)

    def disconnect(self) -> None:
        """Close the connection; the next write attempt reconnects."""
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                conn.close()
            except sqlite3.Error as err:  # pragma: no cover - close rarely fails
                LOGGER.debug("Closing the history database failed: %s", err)

    def time_left(self, needed: float) -> bool:
        """Return whether `needed` seconds fit before the stop deadline."""
        return self.deadline is None or (
            time.monotonic() + needed < self.deadline - SAVE_MARGIN_S
        )

    def transact(self, work: Work, undo: Callable[[], None] | None = None) -> bool:
        """Run `work` in one transaction, retrying locks; False if it did not commit."""
        attempt = 0
        while (conn := self.conn) is not None:
            attempt += 1
            if self._file_identity() != self._identity:
                # Deleted or replaced under us: SQLite would keep writing to the
                # old, unlinked file. Reconnect instead, which recreates it.
                self.disconnect()
                self.unwritable(
                    FileNotFoundError(f"{self.path} vanished or was replaced")
                )
                self.retry_at = 0.0  # reconnecting fixes it: no need to wait
                return False
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    work(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except Exception as err:  # noqa: BLE001 - every failure is classified
                self.catalog.forget_ids()
                if undo is not None:
                    undo()
                if not is_lock_error(err):
                    self.disconnect()
                    self.unwritable(err)
                    return False
                delay = LOCK_POLICY.delay(attempt)
                if attempt >= LOCK_POLICY.attempts or not self.time_left(
                    delay + BUSY_TIMEOUT_S
                ):
                    self._lock_exhausted(err, attempt)
                    return False
                self._lock_retry(err, attempt, delay)
                time.sleep(delay)
            else:
                return True
        return False

    def write(self, source: RowSource, undo: Callable[[], None] | None = None) -> bool:
        """Write rows from `source` and pending events in one transaction."""
        out: list[tuple[Tally, int]] = []
        max_events = self._settings().events_max_rows

        def work(conn: sqlite3.Connection) -> None:
            out.append(
                write_rows(
                    conn,
                    self.catalog,
                    source,
                    events=self.events,
                    max_events=max_events,
                    now_ms=wall_ms(),
                )
            )

        if not self.transact(work, undo):
            return False
        tally, inserted = out[-1]
        self.catalog.committed()
        self.events.clear()
        status = self.status
        status.readings_written += inserted
        status.readings_duplicate += tally.offered - inserted
        status.readings_moved += tally.moved
        status.readings_rejected += tally.rejected
        status.batches += 1
        status.last_commit_at = datetime.now(UTC)
        if tally.rejected:
            LOGGER.warning(
                "Skipped %d readings that cannot be stored, for example %s",
                tally.rejected,
                tally.example,
            )
        self.last_commit = time.monotonic()
        self.wal_dirty = True
        self._recovered()
        self.update_sizes()
        return True

    def flush_events(self) -> bool:
        """Write pending events of the store itself; return whether they are in."""
        if not self.pending:
            return True
        events = list(self.events)
        max_rows = self._settings().events_max_rows

        def work(conn: sqlite3.Connection) -> None:
            self.catalog.write_dirty(conn, wall_ms())
            insert_events(conn, events, max_rows)

        if not self.transact(work):
            return False
        self.catalog.committed()
        del self.events[: len(events)]
        return True

    def probe(self) -> str | None:
        """Write an event row and roll it back: None when the file takes writes, else why not."""
        conn = self.conn
        if conn is None or self._file_identity() != self._identity:
            return self.status.last_error or "the history file is not open"
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_PROBE, (wall_ms(), EVENT_SOURCE))
            finally:
                conn.execute("ROLLBACK")
        except sqlite3.Error as err:
            return describe(err)
        return None

    def checkpoint(self) -> None:
        """Copy the WAL into the file and cut it to zero bytes, if no reader holds it."""
        if self.conn is None:
            return
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as err:
            LOGGER.debug("History checkpoint failed: %s", err)
            busy = 1
        self.wal_dirty = bool(busy) and self.status.wal
        self.last_commit = time.monotonic()
        self.update_sizes()

    def update_sizes(self) -> None:
        """Note the sizes of the file and its WAL."""
        self.status.db_size_bytes, self.status.wal_size_bytes = file_sizes(self.path)

    def close(self) -> None:
        """Checkpoint and close for good."""
        self.checkpoint()
        self.disconnect()
        self.status.open = False
        self.status.writable = False

    def purged(self, retention: int, budget: int, detail: dict[str, Any]) -> None:
        """Count and report a finished maintenance pass."""
        self.status.purged += retention + budget
        self.status.last_purge_at = datetime.now(UTC)
        self.add_event("purge", detail)
        LOGGER.debug("History maintenance: %s", detail)

    # Conditions: counted in the status, logged once, written as events.

    def add_event(self, kind: str, detail: dict[str, Any]) -> None:
        """Queue an event of the store itself for the events table."""
        self.events.append(EventItem(wall_ms(), kind, EVENT_SOURCE, detail))
        self.trim_events()

    def trim_events(self) -> None:
        """Keep pending events bounded, counting what is dropped."""
        if (excess := len(self.events) - PENDING_EVENTS_MAX) > 0:
            del self.events[:excess]
            self.status.events_dropped += excess

    def note_error(self, err: BaseException) -> None:
        """Remember the last error for the health checks."""
        self.status.last_error = describe(err)
        self.status.last_error_at = datetime.now(UTC)

    def unwritable(self, err: BaseException) -> None:
        """Enter (or stay in) the unwritable condition after a refused write."""
        if not isinstance(err, (sqlite3.Error, OSError)):
            LOGGER.exception("Unexpected error in the history writer", exc_info=err)
        self.note_error(err)
        self.retry_at = time.monotonic() + self._probe_delay
        self._probe_delay = min(self._probe_delay * 2, MAX_PROBE_S)
        self.status.writable = False
        if not self._degraded:
            self._degraded = True
            LOGGER.warning(
                "History database %s cannot be written (%s); readings are kept "
                "in memory and written when it can be",
                self.path,
                describe(err),
            )
            self.add_event("unwritable", {"error": describe(err)})

    def _recovered(self) -> None:
        self.status.writable = True
        self._probe_delay = FIRST_PROBE_S
        if self._degraded:
            self._degraded = False
            LOGGER.info("History database %s is writable again", self.path)
            self.add_event("recovered", {"spooled": self.status.spooled})

    def _opened(self, journal_mode: str, found_version: int) -> None:
        status = self.status
        status.journal_mode = journal_mode
        status.wal = journal_mode == "wal"
        status.schema_version = LATEST_VERSION
        status.generation += 1
        if not status.wal:
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
        self._recovered()

    def _lock_retry(self, err: BaseException, attempt: int, delay: float) -> None:
        self.status.lock_retries += 1
        self.note_error(err)
        LOGGER.debug("History database locked, retry %d in %.2f s", attempt, delay)
        detail = {"attempt": attempt, "delay": round(delay, 3), "error": describe(err)}
        self.add_event("lock_retry", detail)

    def _lock_exhausted(self, err: BaseException, attempts: int) -> None:
        self.status.lock_exhaustions += 1
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
