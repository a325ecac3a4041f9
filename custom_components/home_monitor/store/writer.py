"""The single writer thread: the only code that writes the history file.

It waits for queued items, commits them in batches (one transaction each, at
least once a second) through its `Committer`, which keeps what the database
refuses in the spool, and it runs maintenance between batches. Nothing here
runs on the event loop.
"""

from collections.abc import Callable
import os
from pathlib import Path
import sqlite3
import sys
import threading
import time
from typing import TYPE_CHECKING

from ..const import LOGGER
from .committer import Committer, wall_ms
from .maintenance import Maintenance
from .records import Item, ReadingsItem, StoreSettings, StoreStatus

if TYPE_CHECKING:
    from .history_store import Intake

# A batch starts when a reading has waited this long, or at once when
# BATCH_READINGS wait, so every reading is committed within about a second.
LINGER_S = 0.5
BATCH_READINGS = 2_000
# Large bursts (a replayed spool, a source catching up) commit in transactions
# of this many readings: fewer syncs and checkpoints, about 0.5 s each.
TXN_READINGS = 100_000
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
        path: Path,
        status: StoreStatus,
        intake: Intake,
        settings: Callable[[], StoreSettings],
    ) -> None:
        """Write the file at `path` from `intake`, reporting into `status`."""
        super().__init__(name="home_monitor_history_writer", daemon=True)
        self._file = Committer(path, status, settings)
        self._status = status
        self._intake = intake
        self._settings = settings
        self._maintenance = Maintenance(self._file.transact)
        self._maintaining = False
        self._next_maintenance = 0.0
        self._handled = 0
        self.ready = threading.Event()
        self.open_error: BaseException | None = None

    def stop(self, deadline: float) -> None:
        """Write what is queued, then stop by `deadline` (monotonic)."""
        self._file.deadline = deadline
        self._intake.hurry()

    def run(self) -> None:
        """Open the file, then serve the queue until stopped."""
        lower_priority()
        try:
            self._file.start()
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
                self._file.note_error(err)
                time.sleep(1.0)
            self._wait()
        self._finish()

    def _cycle(self) -> bool:
        """Do whatever is due; return True when stopped and drained."""
        file = self._file
        self._intake.wake.clear()
        now = time.monotonic()
        stopping = file.deadline is not None
        hurry = stopping or self._intake.urgent
        file.spool.max_readings = self._settings().spool_max_readings
        if file.spool.count and (hurry or now >= file.retry_at):
            file.drain_spool()
        if hurry or self._intake.due_in(now, LINGER_S) == 0.0:
            items, readings, seq = self._intake.take()
            if items:
                self._handle(items, readings)
            self._handled = seq
            if file.spool.count and hurry and now >= file.retry_at:
                file.drain_spool()
        if (
            file.pending
            and file.conn is not None
            and not file.spool.count
            and now >= file.retry_at
        ):
            file.flush_events()  # the store's own events, written without delay
        self._intake.resolve(self._handled, ok=not file.spool.count)
        if stopping:
            due = self._intake.due_in(now, LINGER_S)
            return due is None or not file.time_left(0)
        self._maybe_maintain(now)
        if file.wal_dirty and now >= file.last_commit + IDLE_CHECKPOINT_S:
            file.checkpoint()
        return False

    def _wait(self) -> None:
        file = self._file
        now = time.monotonic()
        waits = [60.0]
        if (due := self._intake.due_in(now, LINGER_S)) is not None:
            waits.append(due)
        if file.spool.count:
            waits.append(file.retry_at - now)
        if file.conn is not None:
            waits.append(0.0 if self._maintaining else self._next_maintenance - now)
            if file.wal_dirty:
                waits.append(file.last_commit + IDLE_CHECKPOINT_S - now)
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
                    self._file.commit(group)
                    group, count = [], 0
            if group:
                self._file.commit(group)
        finally:
            self._status.queued = 0

    def _maybe_maintain(self, now: float) -> None:
        file = self._file
        requested = self._intake.maintenance_requests()
        if file.conn is None or file.spool.count:
            if requested:
                self._intake.resolve_maintenance(ok=False)
            return
        if not (requested or self._maintaining or now >= self._next_maintenance):
            return
        try:
            self._maintaining = not self._maintenance.run(
                file.conn, self._settings(), wall_ms()
            )
        except sqlite3.Error as err:
            LOGGER.warning("History maintenance failed: %s", err)
            file.note_error(err)
            self._maintaining = False
        if self._maintaining:
            return
        totals = self._maintenance.totals
        if detail := totals.as_detail():
            file.purged(totals.retention, totals.budget, detail)
        self._maintenance.totals = type(totals)()
        self._next_maintenance = now + MAINTENANCE_INTERVAL_S
        ok = file.conn is not None and file.flush_events()
        file.checkpoint()
        file.reserve()  # the spool bound may have changed
        self._intake.resolve_maintenance(ok=ok)

    def _finish(self) -> None:
        self._file.finish()
        self._intake.release_all()
