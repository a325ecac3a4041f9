"""The single writer thread: the only code that writes the history file.

It waits for queued items, commits them in batches (one transaction each, at
least once a second), retries locked writes with backoff, keeps what the
database refuses in the spool and tries again later, and runs maintenance
when idle. Nothing here runs on the event loop.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
import os
import sqlite3
import sys
import threading
import time

from ..const import LOGGER
from .batches import (
    Row,
    Tally,
    insert_events,
    insert_rows,
    reading_rows,
    spool_items,
    spool_rows,
)
from .catalog import Catalog
from .conditions import LOCK_POLICY, Conditions, wall_ms
from .database import (
    BUSY_TIMEOUT_S,
    CorruptDatabaseError,
    file_sizes,
    move_aside,
    open_database,
)
from .errors import is_lock_error
from .intake import DeviceItem, Intake, Item, ReadingsItem
from .maintenance import Maintenance, Work
from .schema import LATEST_VERSION
from .settings import StoreSettings
from .spool import Spool, SpoolRecord
from .status import Counters

# A batch starts when a reading has waited this long, or at once when
# BATCH_READINGS wait, so every reading is committed within about a second.
LINGER_S = 0.5
BATCH_READINGS = 2_000
# Large bursts (a replayed spool, a source catching up) commit in transactions
# of this many readings: fewer syncs and checkpoints, about 0.5 s each.
TXN_READINGS = 100_000
SPOOL_TXN_READINGS = 50_000
MAINTENANCE_INTERVAL_S = 300.0
IDLE_CHECKPOINT_S = 30.0
WRITER_NICENESS = 10
# Part of close()'s budget kept for saving the spool.
SAVE_MARGIN_S = 1.0

_TOUCH_DEVICE = "UPDATE devices SET last_seen = ?, active = 1 WHERE id = ?"


def lower_priority() -> None:
    """Make the calling thread yield the CPU to the event loop when both want it.

    On Linux the nice value is per thread. Ten steps nicer, the writer still
    gets a tenth of a contended core, far more than a home's readings need,
    while Home Assistant's event loop runs first.
    """
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        nice = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, nice + WRITER_NICENESS))
    except OSError as err:  # pragma: no cover - not permitted in some sandboxes
        LOGGER.debug("Could not lower the history writer's priority: %s", err)


class Writer(threading.Thread):
    """Owns the writer connection; see the module docstring."""

    def __init__(
        self,
        conditions: Conditions,
        intake: Intake,
        settings: Callable[[], StoreSettings],
    ) -> None:
        """Write the file of `conditions` from `intake`."""
        super().__init__(name="home_monitor_history_writer", daemon=True)
        self._state = conditions
        self._counters: Counters = conditions.counters
        self._intake = intake
        self._settings = settings
        self._catalog = Catalog()
        self._spool = Spool(settings().spool_max_readings)
        self._conn: sqlite3.Connection | None = None
        self._maintenance = Maintenance(self._transact)
        self._maintaining = False
        self._next_maintenance = 0.0
        self._last_commit = 0.0
        self._identity: tuple[int, int] | None = None
        self._wal_dirty = False
        self._handled = 0
        self._replaying = 0
        self._deadline: float | None = None
        self.ready = threading.Event()
        self.open_error: BaseException | None = None

    def stop(self, deadline: float) -> None:
        """Write what is queued, then stop by `deadline` (monotonic)."""
        self._deadline = deadline
        self._intake.hurry()

    def run(self) -> None:
        """Open the file, then serve the queue until stopped."""
        lower_priority()
        try:
            self._start()
        except BaseException as err:  # noqa: BLE001 - handed to open()
            self.open_error = err
            self.ready.set()
            return
        self.ready.set()
        while True:
            try:
                if self._cycle():
                    break
            except Exception as err:  # noqa: BLE001 - the writer must keep going
                LOGGER.exception("Unexpected error in the history writer")
                self._state.note_error(err)
                time.sleep(1.0)
            self._wait()
        self._finish()

    def _start(self) -> None:
        settings = self._settings()
        if spool := self._state.load_spool(self._catalog, settings.spool_max_readings):
            self._spool = spool
            self._replaying = spool.count
        try:
            self._connect()
        except (sqlite3.Error, OSError) as err:
            self._state.unwritable(err)
        self._counters.open = True

    def _connect(self) -> None:
        try:
            opened = open_database(self._state.path)
        except CorruptDatabaseError as err:
            moved = move_aside(self._state.path)
            LOGGER.error(
                "History database %s is damaged (%s); moved it to %s and started a new one",
                self._state.path,
                err,
                moved,
            )
            self._counters.moved_aside.append(moved)
            self._state.add_event(
                "corruption", {"error": str(err), "moved_to": str(moved)}
            )
            opened = open_database(self._state.path)
        self._conn = opened.conn
        self._identity = self._file_identity()
        self._catalog.load(opened.conn)
        counters = self._counters
        counters.journal_mode = opened.journal_mode
        counters.wal = opened.journal_mode == "wal"
        counters.schema_version = LATEST_VERSION
        counters.generation += 1
        if not counters.wal:
            LOGGER.warning(
                "History database %s cannot use WAL here (journal mode %s); it keeps "
                "working with a rollback journal, readers may briefly wait for writes",
                self._state.path,
                opened.journal_mode,
            )
            self._state.add_event(
                "wal_unavailable", {"journal_mode": opened.journal_mode}
            )
        if 0 < opened.found_version < LATEST_VERSION:
            LOGGER.info(
                "Upgraded history database from schema %d", opened.found_version
            )
            self._state.add_event(
                "migrated", {"from": opened.found_version, "to": LATEST_VERSION}
            )
        self._state.recovered()
        self._update_sizes()

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            stat = self._state.path.stat()
        except OSError:
            return None
        return (stat.st_dev, stat.st_ino)

    def _disconnect(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except sqlite3.Error as err:  # pragma: no cover - close rarely fails
                LOGGER.debug("Closing the history database failed: %s", err)

    def _cycle(self) -> bool:
        """Do whatever is due; return True when stopped and drained."""
        self._intake.wake.clear()
        now = time.monotonic()
        stopping = self._deadline is not None
        hurry = stopping or self._intake.urgent
        self._spool.max_readings = self._settings().spool_max_readings
        if self._spool.count and (hurry or now >= self._state.retry_at):
            self._drain_spool()
        if hurry or self._intake.due_in(now, LINGER_S) == 0.0:
            items, readings, seq = self._intake.take()
            if items:
                self._handle(items, readings)
            self._handled = seq
            if self._spool.count and hurry and now >= self._state.retry_at:
                self._drain_spool()
        if (
            self._state.events
            and self._conn is not None
            and not self._spool.count
            and now >= self._state.retry_at
        ):
            self._flush_events()  # the store's own events, written without delay
        self._intake.resolve(self._handled, ok=not self._spool.count)
        if stopping:
            return self._intake.due_in(now, LINGER_S) is None
        self._maybe_maintain(now)
        self._maybe_checkpoint(now)
        return False

    def _wait(self) -> None:
        now = time.monotonic()
        waits = [60.0]
        if (due := self._intake.due_in(now, LINGER_S)) is not None:
            waits.append(due)
        if self._spool.count:
            waits.append(self._state.retry_at - now)
        if self._conn is not None:
            waits.append(0.0 if self._maintaining else self._next_maintenance - now)
            if self._wal_dirty:
                waits.append(self._last_commit + IDLE_CHECKPOINT_S - now)
        self._intake.wake.wait(max(0.0, min(waits)))

    def _time_left(self, needed: float) -> bool:
        return self._deadline is None or (
            time.monotonic() + needed < self._deadline - SAVE_MARGIN_S
        )

    def _transact(self, work: Work, undo: Callable[[], None] | None = None) -> bool:
        """Run `work` in one transaction, retrying locks; False if it did not commit."""
        attempt = 0
        while (conn := self._conn) is not None:
            attempt += 1
            if self._file_identity() != self._identity:
                # Deleted or replaced under us: SQLite would keep writing to the
                # old, unlinked file. Reconnect instead, which recreates it.
                self._disconnect()
                self._state.unwritable(
                    FileNotFoundError(f"{self._state.path} vanished or was replaced")
                )
                self._state.retry_at = 0.0  # reconnecting fixes it: no need to wait
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
                self._catalog.forget_ids()
                if undo is not None:
                    undo()
                if not is_lock_error(err):
                    self._disconnect()
                    self._state.unwritable(err)
                    return False
                delay = LOCK_POLICY.delay(attempt)
                if attempt >= LOCK_POLICY.attempts or not self._time_left(
                    delay + BUSY_TIMEOUT_S
                ):
                    self._state.lock_exhausted(err, attempt)
                    return False
                self._state.lock_retry(err, attempt, delay)
                time.sleep(delay)
            else:
                return True
        return False

    def _write_rows(
        self,
        conn: sqlite3.Connection,
        chunks: Callable[[int, Tally], Iterator[list[Row]]],
        out: list[tuple[Tally, int]],
    ) -> None:
        """Insert rows, device updates and pending events in the open transaction."""
        tally = Tally()
        now = wall_ms()
        inserted = 0
        for rows in chunks(now, tally):
            inserted += insert_rows(conn, rows)
        self._catalog.write_dirty(conn, now)
        if tally.touched:
            conn.executemany(_TOUCH_DEVICE, [(now, device) for device in tally.touched])
        if events := self._state.events + tally.events:
            insert_events(conn, events, self._settings().events_max_rows)
        out[:] = [(tally, inserted)]

    def _committed(self, tally: Tally, inserted: int) -> None:
        self._catalog.committed()
        self._state.events.clear()
        counters = self._counters
        counters.readings_written += inserted
        counters.readings_duplicate += tally.offered - inserted
        counters.readings_rejected += tally.rejected
        counters.batches += 1
        counters.last_commit_at = datetime.now(UTC)
        if tally.rejected:
            LOGGER.warning(
                "Skipped %d readings that cannot be stored, for example %s",
                tally.rejected,
                tally.example,
            )
        self._last_commit = time.monotonic()
        self._wal_dirty = True
        self._state.recovered()
        self._update_sizes()

    def _handle(self, items: list[Item], readings: int) -> None:
        """Commit items in transactions of at most TXN_READINGS readings."""
        self._counters.inflight = readings
        try:
            group: list[Item] = []
            count = 0
            for item in items:
                group.append(item)
                if isinstance(item, ReadingsItem):
                    count += len(item.readings)
                if count >= TXN_READINGS:
                    self._commit(group)
                    group, count = [], 0
            if group:
                self._commit(group)
        finally:
            self._counters.inflight = 0

    def _commit(self, items: list[Item]) -> None:
        if self._conn is None or self._spool.count:
            self._to_spool(items)
            return
        saved = (
            self._catalog.snapshot()
            if any(isinstance(item, DeviceItem) for item in items)
            else None
        )
        out: list[tuple[Tally, int]] = []

        def work(conn: sqlite3.Connection) -> None:
            self._write_rows(
                conn,
                lambda now, tally: reading_rows(conn, self._catalog, items, now, tally),
                out,
            )

        def undo() -> None:
            if saved is not None:
                self._catalog.restore(saved)

        if self._transact(work, undo):
            self._committed(*out[0])
        else:
            self._to_spool(items)

    def _to_spool(self, items: list[Item]) -> None:
        tally = spool_items(self._catalog, items, self._spool, self._state.events)
        self._state.trim_events()
        self._counters.readings_rejected += tally.rejected
        if dropped := self._spool.trim():
            self._state.spool_overflowed(dropped, self._spool.max_readings)
        self._counters.spooled = self._spool.count

    def _drain_spool(self) -> None:
        if self._conn is None:
            try:
                self._connect()
            except Exception as err:  # noqa: BLE001 - any failure: try again later
                self._state.unwritable(err)
                return
        while self._spool.count:
            records = self._spool.peek(SPOOL_TXN_READINGS)
            out: list[tuple[Tally, int]] = []

            def work(
                conn: sqlite3.Connection,
                batch: list[SpoolRecord] = records,
                out: list[tuple[Tally, int]] = out,
            ) -> None:
                self._write_rows(
                    conn,
                    lambda now, tally: spool_rows(
                        conn, self._catalog, batch, now, tally
                    ),
                    out,
                )

            if not self._transact(work):
                return
            self._spool.drop(len(records))
            self._counters.spooled = self._spool.count
            self._committed(*out[0])
        if self._replaying:
            self._counters.spool_replayed += self._replaying
            self._state.add_event("spool_replayed", {"readings": self._replaying})
            LOGGER.info("Replayed %d readings saved at the last stop", self._replaying)
            self._replaying = 0
            self._state.spool_path.unlink(missing_ok=True)

    def _maybe_maintain(self, now: float) -> None:
        requested = self._intake.maintenance_requests()
        if self._conn is None or self._spool.count:
            if requested:
                self._intake.resolve_maintenance(ok=False)
            return
        if not (requested or self._maintaining or now >= self._next_maintenance):
            return
        try:
            self._maintaining = not self._maintenance.run(
                self._conn, self._settings(), wall_ms()
            )
        except sqlite3.Error as err:
            LOGGER.warning("History maintenance failed: %s", err)
            self._state.note_error(err)
            self._maintaining = False
        if self._maintaining:
            return
        totals = self._maintenance.totals
        if detail := totals.as_detail():
            self._counters.purged += totals.retention + totals.budget
            self._counters.last_purge_at = datetime.now(UTC)
            self._state.add_event("purge", detail)
            LOGGER.debug("History maintenance: %s", detail)
        self._maintenance.totals = type(totals)()
        self._next_maintenance = now + MAINTENANCE_INTERVAL_S
        ok = self._conn is not None and self._flush_events()
        self._checkpoint()
        self._intake.resolve_maintenance(ok=ok)

    def _flush_events(self) -> bool:
        if not self._state.events:
            return True
        events = list(self._state.events)
        if self._transact(
            lambda conn: insert_events(conn, events, self._settings().events_max_rows)
        ):
            del self._state.events[: len(events)]
            return True
        return False

    def _maybe_checkpoint(self, now: float) -> None:
        if self._wal_dirty and now >= self._last_commit + IDLE_CHECKPOINT_S:
            self._checkpoint()

    def _checkpoint(self) -> None:
        """Copy the WAL into the file and cut it to zero bytes, if no reader holds it."""
        if self._conn is None:
            return
        try:
            busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as err:
            LOGGER.debug("History checkpoint failed: %s", err)
            busy = 1
        self._wal_dirty = bool(busy) and self._counters.wal
        self._last_commit = time.monotonic()
        self._update_sizes()

    def _update_sizes(self) -> None:
        self._counters.db_size_bytes, self._counters.wal_size_bytes = file_sizes(
            self._state.path
        )

    def _finish(self) -> None:
        if self._spool.count or (
            self._conn is None and (self._catalog.dirty or self._state.events)
        ):
            self._state.save_spool(self._spool, self._catalog)
        elif self._conn is not None:
            self._flush_events()
        self._checkpoint()
        self._disconnect()
        self._counters.open = False
        self._counters.writable = False
        self._intake.release_all()
