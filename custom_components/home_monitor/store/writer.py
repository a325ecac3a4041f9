"""The single writer thread: the only code that writes the history file.

It waits for queued items and commits them in batches (one transaction each,
at least once a second) through the `Database`. When the database refuses
them, their readings wait in the spool, which is drained oldest first once the
file takes writes again, saved at stop to space reserved ahead, and taken over
and replayed at the next start. Maintenance runs between batches. Nothing here
runs on the event loop.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from ..const import LOGGER
from .database import Database, wall_ms
from .lifecycle import DeviceLifecycle
from .maintenance import Maintenance
from .priority import lower_priority
from .records import DeviceItem, Item, ReadingsItem, StoreSettings, StoreStatus
from .rows import Row, Tally, reading_rows
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

if TYPE_CHECKING:
    from .history_store import Intake

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


class Writer(threading.Thread):
    """Serves the intake until stopped; see the module docstring."""

    def __init__(
        self,
        path: Path,
        status: StoreStatus,
        intake: Intake,
        settings: Callable[[], StoreSettings],
        lifecycle: DeviceLifecycle,
    ) -> None:
        """Write the file at `path` from `intake` and `lifecycle`, into `status`."""
        super().__init__(name="home_monitor_history_writer", daemon=True)
        self._db = Database(path, status, settings)
        self._spool = Spool(settings().spool_max_readings)
        self._replaying = 0
        self._taken_over: Path | None = None
        self._overflow_warned = False
        self._reserve_short = False
        self._status = status
        self._intake = intake
        self._settings = settings
        self._lifecycle = lifecycle
        self._maintenance = Maintenance(self._db.transact)
        self._maintaining = False
        self._next_maintenance = 0.0
        self._handled = 0
        self.ready = threading.Event()
        self.open_error: BaseException | None = None

    def stop(self, deadline: float) -> None:
        """Write what is queued, then stop by `deadline` (monotonic)."""
        self._db.deadline = deadline
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
        self._status.open = True
        self.ready.set()
        while True:
            try:
                if self._cycle():
                    break
            except Exception as err:  # noqa: BLE001 - the writer must keep going
                LOGGER.exception("Unexpected error in the history writer")
                self._db.note_error(err)
                time.sleep(1.0)
            self._wait()
        self._finish()

    def _cycle(self) -> bool:
        """Do whatever is due; return True when stopped and drained."""
        db = self._db
        self._intake.wake.clear()
        now = time.monotonic()
        stopping = db.deadline is not None
        hurry = stopping or self._intake.urgent
        self._spool.max_readings = self._settings().spool_max_readings
        if self._spool.count and (hurry or now >= db.retry_at):
            self._drain_spool()
        if hurry or self._intake.due_in(now, LINGER_S) == 0.0:
            items, readings, seq = self._intake.take()
            if items:
                self._handle(items, readings)
            self._handled = seq
            if self._spool.count and hurry and now >= db.retry_at:
                self._drain_spool()
        if (
            db.pending
            and db.conn is not None
            and not self._spool.count
            and now >= db.retry_at
        ):
            self._flush_events()  # the store's own events, written without delay
        if not self._spool.count and now >= db.retry_at:  # renames, rewrite steps
            self._lifecycle.run(db, self._handled, self._settings().inactive_days)
        self._intake.resolve(self._handled, ok=not self._spool.count)
        self._intake.answer_probes(self._db.probe)
        if stopping:
            due = self._intake.due_in(now, LINGER_S)
            return due is None or not db.time_left(0)
        self._maybe_maintain(now)
        if db.wal_dirty and now >= db.last_commit + IDLE_CHECKPOINT_S:
            db.checkpoint()
        return False

    def _wait(self) -> None:
        db = self._db
        now = time.monotonic()
        waits = [60.0]
        if (due := self._intake.due_in(now, LINGER_S)) is not None:
            waits.append(due)
        if self._spool.count:
            waits.append(db.retry_at - now)
        if db.conn is not None:
            waits.append(0.0 if self._maintaining else self._next_maintenance - now)
            if self._lifecycle.busy and not self._spool.count:
                waits.append(db.retry_at - now)  # renames and rewrite steps
            if db.wal_dirty:
                waits.append(db.last_commit + IDLE_CHECKPOINT_S - now)
        self._intake.wake.wait(max(0.0, min(waits)))

    def _handle(self, items: list[Item], readings: int) -> None:
        """Commit items in transactions of at most TXN_READINGS readings."""
        self._status.queued = readings
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
            self._status.queued = 0

    def _maybe_maintain(self, now: float) -> None:
        db = self._db
        requested = self._intake.maintenance_requests()
        if db.conn is None or self._spool.count:
            if requested:
                self._intake.resolve_maintenance(ok=False)
            return
        if not (requested or self._maintaining or now >= self._next_maintenance):
            return
        try:
            self._maintaining = not self._maintenance.run(
                db.conn, self._settings(), wall_ms()
            )
        except sqlite3.Error as err:
            LOGGER.warning("History maintenance failed: %s", err)
            db.note_error(err)
            self._maintaining = False
        if self._maintaining:
            return
        totals = self._maintenance.totals
        if detail := totals.as_detail():
            db.purged(totals.retention, totals.budget, detail)
        self._maintenance.totals = type(totals)()
        self._next_maintenance = now + MAINTENANCE_INTERVAL_S
        ok = db.conn is not None and self._flush_events()
        db.checkpoint()
        self._reserve()  # the spool bound may have changed
        self._intake.resolve_maintenance(ok=ok)

    def _finish(self) -> None:
        self._finish_spool()
        self._intake.release_all()
        self._lifecycle.release()

    # The spool hand-off.

    def _start(self) -> None:
        """Take over a spool saved at the last stop, open the file, reserve space.

        A file that cannot be opened or written is not an error: the writer
        spools until it can be. Raises SchemaTooNewError.
        """
        self._load_saved_spool()
        try:
            self._db.connect()
        except (sqlite3.Error, OSError) as err:
            self._db.unwritable(err)
        self._reserve()

    def _reserve(self) -> None:
        """Keep space on disk for saving a full spool at stop."""
        reserve = spool_paths(self._db.path)[1]
        max_readings = self._settings().spool_max_readings
        held = self._db.status.spool_reserved = reserve_space(reserve, max_readings)
        if held < max_readings and not self._reserve_short:
            LOGGER.warning(
                "Space for only %d of %d spooled readings could be reserved at %s; "
                "more are at risk if the disk fills up",
                held,
                max_readings,
                reserve,
            )
        self._reserve_short = held < max_readings
        self._count_spooled()

    def _count_spooled(self) -> None:
        status = self._db.status
        status.spooled = self._spool.count
        status.readings_at_risk = max(0, status.spooled - status.spool_reserved)

    def _finish_spool(self) -> None:
        """Save what the database did not take, then close it.

        After a stop with nothing to save the reserved space is given back
        (the next start reserves it again), so a stopped store holds none.
        """
        db = self._db
        if self._spool.count or (db.conn is None and db.pending):
            self._save_spool()
        else:
            if db.conn is not None:
                self._flush_events()
            if not db.pending:
                spool_paths(db.path)[1].unlink(missing_ok=True)
        db.close()

    def _commit(self, items: list[Item]) -> None:
        """Write items in one transaction, or spool them if the database refuses."""
        db = self._db
        if db.conn is None or self._spool.count:
            self._to_spool(items)
            return
        catalog = db.catalog
        noted = any(isinstance(item, DeviceItem) for item in items)
        saved = catalog.snapshot() if noted else None

        def undo() -> None:
            if saved is not None:
                catalog.restore(saved)

        def source(
            conn: sqlite3.Connection, now: int, tally: Tally
        ) -> Iterator[list[Row]]:
            return reading_rows(conn, catalog, items, now, tally)

        if db.write(source, undo):
            self._written()
        else:
            self._to_spool(items)

    def _to_spool(self, items: list[Item]) -> None:
        """Keep items in the spool (readings) and in memory (devices, events)."""
        tally = spool_items(self._db.catalog, items, self._spool, self._db.events)
        self._db.trim_events()
        self._db.status.readings_rejected += tally.rejected
        if dropped := self._spool.trim():
            self._spool_overflowed(dropped)
        self._count_spooled()

    def _drain_spool(self) -> None:
        """Reconnect if needed and write the spool, oldest first."""
        db = self._db
        if db.conn is None:
            try:
                db.connect()
            except Exception as err:  # noqa: BLE001 - any failure: try again later
                db.unwritable(err)
                return
        while self._spool.count:
            batch = self._spool.peek(SPOOL_TXN_READINGS)

            def source(
                conn: sqlite3.Connection,
                now: int,
                tally: Tally,
                batch: list[SpoolRecord] = batch,
            ) -> Iterator[list[Row]]:
                return spool_rows(conn, db.catalog, batch, now, tally)

            if not db.write(source):
                return
            self._spool.drop(len(batch))
            self._count_spooled()
        self._written()

    def _flush_events(self) -> bool:
        """Write the store's own pending events; return whether they are in."""
        if not self._db.flush_events():
            return False
        self._written()
        return True

    def _written(self) -> None:
        """After a commit: delete a spool file taken over once all it held is in."""
        self._overflow_warned = False
        if self._taken_over is None or self._spool.count or self._db.pending:
            return
        if self._replaying:
            self._db.status.spool_replayed += self._replaying
            self._db.add_event("spool_replayed", {"readings": self._replaying})
            LOGGER.info("Replayed %d readings saved at the last stop", self._replaying)
            self._replaying = 0
        self._taken_over.unlink(missing_ok=True)
        self._taken_over = None

    def _save_spool(self) -> None:
        """Save what the database did not take, for the next start."""
        status = self._db.status
        devices = self._db.catalog.dirty.values()
        saved = save_at_stop(self._spool, self._db.path, devices, self._db.events)
        if isinstance(saved, OSError):
            self._db.note_error(saved)
            status.readings_dropped += self._spool.count
            status.readings_at_risk = self._spool.count
            return
        status.spool_saved = self._spool.count
        status.spool_saved_to = saved
        status.readings_at_risk = 0
        if self._taken_over not in (None, saved):
            self._taken_over.unlink(missing_ok=True)  # what it held is in `saved`

    def _load_saved_spool(self) -> None:
        """Take over a spool saved at the last stop; move a damaged one aside."""
        found = take_over(self._db.path, self._settings().spool_max_readings)
        if found is None:
            return
        path, saved = found
        if isinstance(saved, dict):
            self._db.add_event("spool_damaged", saved)
            return
        self._taken_over = path
        self._spool, devices, events = saved
        for record in devices:
            self._db.catalog.note(record)
        self._db.events += events
        self._db.trim_events()
        if dropped := self._spool.trim():
            self._spool_overflowed(dropped)
        self._replaying = self._spool.count
        self._count_spooled()

    def _spool_overflowed(self, dropped: int) -> None:
        bound = self._spool.max_readings
        self._db.status.spool_overflow += dropped
        self._db.add_event("spool_overflow", {"dropped": dropped, "bound": bound})
        if not self._overflow_warned:
            self._overflow_warned = True
            LOGGER.warning(
                "History spool is full (%d readings); the oldest are being dropped",
                bound,
            )
