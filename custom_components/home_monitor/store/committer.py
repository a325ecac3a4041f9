"""The writer's hold on the file: connection, transactions, conditions, spool.

Used only by the writer thread. Every write goes through `transact()`, which
retries locks with backoff and turns any other failure into the unwritable
condition: the connection is dropped, and the next attempt reconnects (which
also recreates a file that vanished). What the database refuses waits in the
spool, which is saved at stop and replayed at the next start. Every change of
condition is counted in the status, logged once and written to the events
table as soon as the database takes writes again.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
import sqlite3
import time
from typing import Any

from ..const import LOGGER
from ..retry import BackoffPolicy
from .maintenance import Work
from .records import (
    DeviceItem,
    EventItem,
    Item,
    StoreSettings,
    StoreStatus,
    describe,
    is_lock_error,
)
from .rows import (
    Catalog,
    Row,
    RowSource,
    Tally,
    insert_events,
    reading_rows,
    write_rows,
)
from .schema import (
    BUSY_TIMEOUT_S,
    LATEST_VERSION,
    CorruptDatabaseError,
    file_sizes,
    move_aside,
    open_database,
)
from .spool import (
    Spool,
    SpoolRecord,
    reserve_space,
    save_at_stop,
    spool_items,
    spool_paths,
    spool_rows,
    take_over,
)

SPOOL_TXN_READINGS = 50_000
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


def wall_ms() -> int:
    """Return the wall-clock time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


class Committer:
    """The writer connection, everything written through it, and its conditions."""

    def __init__(
        self, path: Path, status: StoreStatus, settings: Callable[[], StoreSettings]
    ) -> None:
        """Write the file at `path`, reporting into `status`."""
        self.path = path
        self.status = status
        self.catalog = Catalog()
        self.spool = Spool(settings().spool_max_readings)
        self.conn: sqlite3.Connection | None = None
        self.deadline: float | None = None
        self.events: list[EventItem] = []
        self.retry_at = 0.0
        self.last_commit = 0.0
        self.wal_dirty = False
        self._settings = settings
        self._identity: tuple[int, int] | None = None
        self._replaying = 0
        self._taken_over: Path | None = None
        self._degraded = False
        self._probe_delay = FIRST_PROBE_S
        self._overflow_warned = False

    def purged(self, retention: int, budget: int, detail: dict[str, Any]) -> None:
        """Count and report a finished maintenance pass."""
        self.status.purged += retention + budget
        self.status.last_purge_at = datetime.now(UTC)
        self.add_event("purge", detail)
        LOGGER.debug("History maintenance: %s", detail)

    def start(self) -> None:
        """Take over a spool saved at the last stop and open the file.

        A file that cannot be opened or written is not an error: the writer
        spools until it can be. Raises SchemaTooNewError.
        """
        self.load_saved_spool()
        try:
            self.connect()
        except (sqlite3.Error, OSError) as err:
            self.unwritable(err)
        self.reserve()

    def reserve(self) -> None:
        """Keep space on disk for saving a full spool at stop."""
        reserve = spool_paths(self.path)[1]
        max_readings = self._settings().spool_max_readings
        self.status.spool_reserved = reserve_space(reserve, max_readings)
        self._count_spooled()

    def _count_spooled(self) -> None:
        status = self.status
        status.spooled = self.spool.count
        status.readings_at_risk = max(0, status.spooled - status.spool_reserved)

    def finish(self) -> None:
        """Save what the database did not take, checkpoint and close."""
        if self.spool.count or (self.conn is None and self.pending):
            self.save_spool()
        elif self.conn is not None:
            self.flush_events()
        self.checkpoint()
        self.disconnect()
        self.status.open = False
        self.status.writable = False

    @property
    def pending(self) -> bool:
        """Return whether events or device records wait to be written."""
        return bool(self.events or self.catalog.dirty)

    def connect(self) -> None:
        """Open the file (moving a damaged one aside) and note what was found."""
        try:
            opened = open_database(self.path)
        except CorruptDatabaseError as err:
            target = move_aside(self.path)
            LOGGER.error(
                "History database %s is damaged (%s); moved it to %s and started "
                "a new one",
                self.path,
                err,
                target,
            )
            self.status.moved_aside += (target,)
            self.add_event("corruption", {"error": str(err), "moved_to": str(target)})
            opened = open_database(self.path)
        self.conn = opened.conn
        self._identity = self._file_identity()
        self.catalog.load(opened.conn)
        self._opened(opened.journal_mode, opened.found_version)
        self._update_sizes()

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

    def _write(self, source: RowSource, undo: Callable[[], None] | None = None) -> bool:
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
        self._update_sizes()
        self._replayed()
        return True

    def commit(self, items: list[Item]) -> None:
        """Write items in one transaction, or spool them if the database refuses."""
        if self.conn is None or self.spool.count:
            self._to_spool(items)
            return
        catalog = self.catalog
        noted = any(isinstance(item, DeviceItem) for item in items)
        saved = catalog.snapshot() if noted else None

        def undo() -> None:
            if saved is not None:
                catalog.restore(saved)

        def source(
            conn: sqlite3.Connection, now: int, tally: Tally
        ) -> Iterator[list[Row]]:
            return reading_rows(conn, catalog, items, now, tally)

        if not self._write(source, undo):
            self._to_spool(items)

    def _to_spool(self, items: list[Item]) -> None:
        """Keep items in the spool (readings) and in memory (devices, events)."""
        tally = spool_items(self.catalog, items, self.spool, self.events)
        self._trim_events()
        self.status.readings_rejected += tally.rejected
        if dropped := self.spool.trim():
            self._spool_overflowed(dropped)
        self._count_spooled()

    def drain_spool(self) -> None:
        """Reconnect if needed and write the spool, oldest first."""
        if self.conn is None:
            try:
                self.connect()
            except Exception as err:  # noqa: BLE001 - any failure: try again later
                self.unwritable(err)
                return
        while self.spool.count:
            batch = self.spool.peek(SPOOL_TXN_READINGS)

            def source(
                conn: sqlite3.Connection,
                now: int,
                tally: Tally,
                batch: list[SpoolRecord] = batch,
            ) -> Iterator[list[Row]]:
                return spool_rows(conn, self.catalog, batch, now, tally)

            if not self._write(source):
                return
            self.spool.drop(len(batch))
            self._count_spooled()
        self._replayed()

    def _replayed(self) -> None:
        """Delete the spool file taken over at start once all it held is in."""
        if self._taken_over is None or self.spool.count or self.pending:
            return
        if self._replaying:
            self.status.spool_replayed += self._replaying
            self.add_event("spool_replayed", {"readings": self._replaying})
            LOGGER.info("Replayed %d readings saved at the last stop", self._replaying)
            self._replaying = 0
        self._taken_over.unlink(missing_ok=True)
        self._taken_over = None

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
        self._replayed()
        return True

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
        self._update_sizes()

    def _update_sizes(self) -> None:
        self.status.db_size_bytes, self.status.wal_size_bytes = file_sizes(self.path)

    # The spool across a stop.

    def save_spool(self) -> None:
        """Save what the database did not take, for the next start."""
        devices = self.catalog.dirty.values()
        saved = save_at_stop(self.spool, self.path, devices, self.events)
        if isinstance(saved, OSError):
            self.note_error(saved)
            self.status.readings_dropped += self.spool.count
            self.status.readings_at_risk = self.spool.count
            return
        self.status.spool_saved = self.spool.count
        self.status.spool_saved_to = saved
        self.status.readings_at_risk = 0
        if self._taken_over not in (None, saved):
            self._taken_over.unlink(missing_ok=True)  # what it held is in `saved`

    def load_saved_spool(self) -> None:
        """Take over a spool saved at the last stop; move a damaged one aside."""
        found = take_over(self.path, self._settings().spool_max_readings)
        if found is None:
            return
        path, saved = found
        if isinstance(saved, dict):
            self.add_event("spool_damaged", saved)
            return
        self._taken_over = path
        self.spool, devices, events = saved
        for record in devices:
            self.catalog.note(record)
        self.events += events
        self._trim_events()
        if dropped := self.spool.trim():
            self._spool_overflowed(dropped)
        self._replaying = self.spool.count
        self._count_spooled()

    # Conditions: counted in the status, logged once, written as events.

    def add_event(self, kind: str, detail: dict[str, Any]) -> None:
        """Queue an event of the store itself for the events table."""
        self.events.append(EventItem(wall_ms(), kind, EVENT_SOURCE, detail))
        self._trim_events()

    def _trim_events(self) -> None:
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
        self._overflow_warned = False
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

    def _spool_overflowed(self, dropped: int) -> None:
        bound = self.spool.max_readings
        self.status.spool_overflow += dropped
        self.add_event("spool_overflow", {"dropped": dropped, "bound": bound})
        if not self._overflow_warned:
            self._overflow_warned = True
            LOGGER.warning(
                "History spool is full (%d readings); the oldest are being dropped",
                bound,
            )
