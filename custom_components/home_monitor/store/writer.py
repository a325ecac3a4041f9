"""The single writer thread: the only code that writes the history file.

It waits for queued items, commits them in batches (one transaction each, at
least once a second), keeps what the database refuses in the spool and tries
again later, and runs maintenance between batches. Nothing here runs on the
event loop; the writes themselves go through the `Session`.
"""

from collections.abc import Callable
from datetime import UTC, datetime
import os
import sqlite3
import sys
import threading
import time

from ..const import LOGGER
from .conditions import Conditions, wall_ms
from .intake import Intake, Item, ReadingsItem
from .maintenance import Maintenance
from .session import TXN_READINGS, Session
from .settings import StoreSettings

# A batch starts when a reading has waited this long, or at once when
# BATCH_READINGS wait, so every reading is committed within about a second.
LINGER_S = 0.5
BATCH_READINGS = 2_000
MAINTENANCE_INTERVAL_S = 300.0
IDLE_CHECKPOINT_S = 30.0
WRITER_NICENESS = 10


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
    """Serves the intake until stopped; see the module docstring."""

    def __init__(
        self,
        conditions: Conditions,
        intake: Intake,
        settings: Callable[[], StoreSettings],
    ) -> None:
        """Write the file of `conditions` from `intake`."""
        super().__init__(name="home_monitor_history_writer", daemon=True)
        self._session = Session(conditions, settings)
        self._state = conditions
        self._intake = intake
        self._settings = settings
        self._maintenance = Maintenance(self._session.transact)
        self._maintaining = False
        self._next_maintenance = 0.0
        self._handled = 0
        self.ready = threading.Event()
        self.open_error: BaseException | None = None

    def stop(self, deadline: float) -> None:
        """Write what is queued, then stop by `deadline` (monotonic)."""
        self._session.deadline = deadline
        self._intake.hurry()

    def run(self) -> None:
        """Open the file, then serve the queue until stopped."""
        lower_priority()
        try:
            self._session.load_saved_spool()
            try:
                self._session.connect()
            except (sqlite3.Error, OSError) as err:
                self._state.unwritable(err)
        except BaseException as err:  # noqa: BLE001 - handed to open()
            self.open_error = err
            self.ready.set()
            return
        self._state.counters.open = True
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

    def _cycle(self) -> bool:
        """Do whatever is due; return True when stopped and drained."""
        session = self._session
        self._intake.wake.clear()
        now = time.monotonic()
        stopping = session.deadline is not None
        hurry = stopping or self._intake.urgent
        session.spool.max_readings = self._settings().spool_max_readings
        if session.spool.count and (hurry or now >= self._state.retry_at):
            session.drain_spool()
        if hurry or self._intake.due_in(now, LINGER_S) == 0.0:
            items, readings, seq = self._intake.take()
            if items:
                self._handle(items, readings)
            self._handled = seq
            if session.spool.count and hurry and now >= self._state.retry_at:
                session.drain_spool()
        if (
            self._state.events
            and session.conn is not None
            and not session.spool.count
            and now >= self._state.retry_at
        ):
            session.flush_events()  # the store's own events, written without delay
        self._intake.resolve(self._handled, ok=not session.spool.count)
        if stopping:
            return self._intake.due_in(now, LINGER_S) is None or not session.time_left(
                0
            )
        self._maybe_maintain(now)
        if session.wal_dirty and now >= session.last_commit + IDLE_CHECKPOINT_S:
            session.checkpoint()
        return False

    def _wait(self) -> None:
        session = self._session
        now = time.monotonic()
        waits = [60.0]
        if (due := self._intake.due_in(now, LINGER_S)) is not None:
            waits.append(due)
        if session.spool.count:
            waits.append(self._state.retry_at - now)
        if session.conn is not None:
            waits.append(0.0 if self._maintaining else self._next_maintenance - now)
            if session.wal_dirty:
                waits.append(session.last_commit + IDLE_CHECKPOINT_S - now)
        self._intake.wake.wait(max(0.0, min(waits)))

    def _handle(self, items: list[Item], readings: int) -> None:
        """Commit items in transactions of at most TXN_READINGS readings."""
        self._state.counters.inflight = readings
        try:
            group: list[Item] = []
            count = 0
            for item in items:
                group.append(item)
                if isinstance(item, ReadingsItem):
                    count += len(item.readings)
                if count >= TXN_READINGS:
                    self._session.commit(group)
                    group, count = [], 0
            if group:
                self._session.commit(group)
        finally:
            self._state.counters.inflight = 0

    def _maybe_maintain(self, now: float) -> None:
        session = self._session
        requested = self._intake.maintenance_requests()
        if session.conn is None or session.spool.count:
            if requested:
                self._intake.resolve_maintenance(ok=False)
            return
        if not (requested or self._maintaining or now >= self._next_maintenance):
            return
        try:
            self._maintaining = not self._maintenance.run(
                session.conn, self._settings(), wall_ms()
            )
        except sqlite3.Error as err:
            LOGGER.warning("History maintenance failed: %s", err)
            self._state.note_error(err)
            self._maintaining = False
        if self._maintaining:
            return
        totals = self._maintenance.totals
        if detail := totals.as_detail():
            self._state.counters.purged += totals.retention + totals.budget
            self._state.counters.last_purge_at = datetime.now(UTC)
            self._state.add_event("purge", detail)
            LOGGER.debug("History maintenance: %s", detail)
        self._maintenance.totals = type(totals)()
        self._next_maintenance = now + MAINTENANCE_INTERVAL_S
        ok = session.conn is not None and session.flush_events()
        session.checkpoint()
        self._intake.resolve_maintenance(ok=ok)

    def _finish(self) -> None:
        session = self._session
        if session.spool.count or (
            session.conn is None and (session.catalog.dirty or self._state.events)
        ):
            self._state.save_spool(session.spool, session.catalog)
        elif session.conn is not None:
            session.flush_events()
        session.checkpoint()
        session.disconnect()
        self._state.counters.open = False
        self._state.counters.writable = False
        self._intake.release_all()
