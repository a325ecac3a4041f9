"""The writer's session with the file: connection, transactions, spool.

Used only by the writer thread. Every write goes through `transact()`, which
retries locks with backoff and turns any other failure into the unwritable
condition: the connection is dropped, and the next attempt reconnects (which
also recreates a file that vanished).
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
import sqlite3
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
from .intake import DeviceItem, Item
from .maintenance import Work
from .settings import StoreSettings
from .spool import Spool, SpoolRecord
from .status import Counters

# Large bursts (a replayed spool, a source catching up) commit in transactions
# of this many readings: fewer syncs and checkpoints, about 0.5 s each.
TXN_READINGS = 100_000
SPOOL_TXN_READINGS = 50_000
# Part of close()'s budget kept for saving the spool.
SAVE_MARGIN_S = 1.0

_TOUCH_DEVICE = "UPDATE devices SET last_seen = ?, active = 1 WHERE id = ?"


class Session:
    """The writer connection and everything written through it."""

    def __init__(
        self, conditions: Conditions, settings: Callable[[], StoreSettings]
    ) -> None:
        """Write the file of `conditions`."""
        self.state = conditions
        self.counters: Counters = conditions.counters
        self.catalog = Catalog()
        self.spool = Spool(settings().spool_max_readings)
        self.conn: sqlite3.Connection | None = None
        self.deadline: float | None = None
        self.last_commit = 0.0
        self.wal_dirty = False
        self.replaying = 0
        self._settings = settings
        self._identity: tuple[int, int] | None = None

    def load_saved_spool(self) -> None:
        """Take over a spool saved at the last stop."""
        max_readings = self._settings().spool_max_readings
        if spool := self.state.load_spool(self.catalog, max_readings):
            self.spool = spool
            self.replaying = spool.count

    def connect(self) -> None:
        """Open the file (moving a damaged one aside) and note what was found."""
        try:
            opened = open_database(self.state.path)
        except CorruptDatabaseError as err:
            self.state.moved_aside(move_aside(self.state.path), err)
            opened = open_database(self.state.path)
        self.conn = opened.conn
        self._identity = self._file_identity()
        self.catalog.load(opened.conn)
        self.state.opened(opened.journal_mode, opened.found_version)
        self.update_sizes()

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            stat = self.state.path.stat()
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
                self.state.unwritable(
                    FileNotFoundError(f"{self.state.path} vanished or was replaced")
                )
                self.state.retry_at = 0.0  # reconnecting fixes it: no need to wait
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
                    self.state.unwritable(err)
                    return False
                delay = LOCK_POLICY.delay(attempt)
                if attempt >= LOCK_POLICY.attempts or not self.time_left(
                    delay + BUSY_TIMEOUT_S
                ):
                    self.state.lock_exhausted(err, attempt)
                    return False
                self.state.lock_retry(err, attempt, delay)
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
        self.catalog.write_dirty(conn, now)
        if tally.touched:
            conn.executemany(_TOUCH_DEVICE, [(now, device) for device in tally.touched])
        if events := self.state.events + tally.events:
            insert_events(conn, events, self._settings().events_max_rows)
        out[:] = [(tally, inserted)]

    def committed(self, tally: Tally, inserted: int) -> None:
        """Count a committed batch and clear what it wrote."""
        self.catalog.committed()
        self.state.events.clear()
        counters = self.counters
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
        self.last_commit = time.monotonic()
        self.wal_dirty = True
        self.state.recovered()
        self.update_sizes()

    def commit(self, items: list[Item]) -> None:
        """Write items in one transaction, or spool them if the database refuses."""
        if self.conn is None or self.spool.count:
            self.to_spool(items)
            return
        saved = (
            self.catalog.snapshot()
            if any(isinstance(item, DeviceItem) for item in items)
            else None
        )
        out: list[tuple[Tally, int]] = []

        def work(conn: sqlite3.Connection) -> None:
            self._write_rows(
                conn,
                lambda now, tally: reading_rows(conn, self.catalog, items, now, tally),
                out,
            )

        def undo() -> None:
            if saved is not None:
                self.catalog.restore(saved)

        if self.transact(work, undo):
            self.committed(*out[0])
        else:
            self.to_spool(items)

    def to_spool(self, items: list[Item]) -> None:
        """Keep items in the spool (readings) and in memory (devices, events)."""
        tally = spool_items(self.catalog, items, self.spool, self.state.events)
        self.state.trim_events()
        self.counters.readings_rejected += tally.rejected
        if dropped := self.spool.trim():
            self.state.spool_overflowed(dropped, self.spool.max_readings)
        self.counters.spooled = self.spool.count

    def drain_spool(self) -> None:
        """Reconnect if needed and write the spool, oldest first."""
        if self.conn is None:
            try:
                self.connect()
            except Exception as err:  # noqa: BLE001 - any failure: try again later
                self.state.unwritable(err)
                return
        while self.spool.count:
            records = self.spool.peek(SPOOL_TXN_READINGS)
            out: list[tuple[Tally, int]] = []

            def work(
                conn: sqlite3.Connection,
                batch: list[SpoolRecord] = records,
                out: list[tuple[Tally, int]] = out,
            ) -> None:
                self._write_rows(
                    conn,
                    lambda now, tally: spool_rows(
                        conn, self.catalog, batch, now, tally
                    ),
                    out,
                )

            if not self.transact(work):
                return
            self.spool.drop(len(records))
            self.counters.spooled = self.spool.count
            self.committed(*out[0])
        if self.replaying:
            self.counters.spool_replayed += self.replaying
            self.state.add_event("spool_replayed", {"readings": self.replaying})
            LOGGER.info("Replayed %d readings saved at the last stop", self.replaying)
            self.replaying = 0
            self.state.spool_path.unlink(missing_ok=True)

    def flush_events(self) -> bool:
        """Write pending events of the store itself; return whether they are in."""
        if not self.state.events:
            return True
        events = list(self.state.events)
        if self.transact(
            lambda conn: insert_events(conn, events, self._settings().events_max_rows)
        ):
            del self.state.events[: len(events)]
            return True
        return False

    def checkpoint(self) -> None:
        """Copy the WAL into the file and cut it to zero bytes, if no reader holds it."""
        if self.conn is None:
            return
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as err:
            LOGGER.debug("History checkpoint failed: %s", err)
            busy = 1
        self.wal_dirty = bool(busy) and self.counters.wal
        self.last_commit = time.monotonic()
        self.update_sizes()

    def update_sizes(self) -> None:
        """Note the sizes of the file and its WAL for the status."""
        self.counters.db_size_bytes, self.counters.wal_size_bytes = file_sizes(
            self.state.path
        )
