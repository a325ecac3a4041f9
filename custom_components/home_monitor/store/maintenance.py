"""Keeping the file bounded: retention, size budget, events, space, WAL.

Runs on the writer thread between batches, in transactions of at most
`PURGE_BATCH` deleted rows, and hands control back to the writer after
`ROWS_PER_RUN` so queued readings never wait long behind a purge.
"""

from collections.abc import Callable
from dataclasses import dataclass
import sqlite3
from typing import Any

from .records import StoreSettings

type Work = Callable[[sqlite3.Connection], None]
type Transact = Callable[[Work], bool]

DAY_MS = 86_400_000
PURGE_BATCH = 5_000
ROWS_PER_RUN = 50_000
# Past the budget, purge down to this share of it so purges do not run daily.
LOW_WATER = 0.9
# Reclaim free pages once this many have piled up (4 MB with 4 KiB pages).
RECLAIM_MIN_PAGES = 1_024
RECLAIM_STEP_PAGES = 2_048
# Each budget step moves the cutoff by this share of the stored time span.
BUDGET_STEPS = 64
MIN_BUDGET_STEP_MS = 60_000

_DELETE_OLDEST = """
DELETE FROM readings
WHERE device_id = :device AND metric_id = :metric AND measured_at < coalesce(
    (SELECT measured_at FROM readings
     WHERE device_id = :device AND metric_id = :metric AND measured_at < :cutoff
     ORDER BY measured_at LIMIT 1 OFFSET :room),
    :cutoff)"""


def used_bytes(conn: sqlite3.Connection) -> int:
    """Return the bytes of pages in use (file size minus free pages)."""
    pages: int = conn.execute("PRAGMA page_count").fetchone()[0]
    free: int = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size: int = conn.execute("PRAGMA page_size").fetchone()[0]
    return (pages - free) * size


def all_series(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """Return every (device id, metric id) pair that may hold readings."""
    return list(
        conn.execute(
            "SELECT devices.id, metrics.id FROM devices CROSS JOIN metrics ORDER BY 1, 2"
        )
    )


def oldest_reading(
    conn: sqlite3.Connection, series: list[tuple[int, int]]
) -> int | None:
    """Return the time of the oldest reading (one index probe per series)."""
    oldest: int | None = None
    for device_id, metric_id in series:
        row = conn.execute(
            "SELECT min(measured_at) FROM readings WHERE device_id = ? AND metric_id = ?",
            (device_id, metric_id),
        ).fetchone()
        if row[0] is not None and (oldest is None or row[0] < oldest):
            oldest = row[0]
    return oldest


def prune_events(conn: sqlite3.Connection, max_rows: int, cutoff_ms: int) -> int:
    """Keep the newest `max_rows` events, none older than `cutoff_ms`."""
    deleted: int = conn.execute(
        "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?", (max_rows,)
    ).rowcount
    return (
        deleted + conn.execute("DELETE FROM events WHERE at < ?", (cutoff_ms,)).rowcount
    )


@dataclass(slots=True)
class PurgeTotals:
    """Rows removed by one maintenance pass, for the events table."""

    retention: int = 0
    budget: int = 0
    events: int = 0
    reclaimed_pages: int = 0

    def as_detail(self) -> dict[str, Any]:
        """Return the non-zero totals."""
        return {
            key: value
            for key, value in (
                ("retention_rows", self.retention),
                ("budget_rows", self.budget),
                ("event_rows", self.events),
                ("reclaimed_pages", self.reclaimed_pages),
            )
            if value
        }


class Maintenance:
    """One resumable pass over the bounds; `run()` is called until it is done."""

    def __init__(self, transact: Transact) -> None:
        """Run every write through `transact` (retries locks, reports errors)."""
        self._transact = transact
        self.totals = PurgeTotals()
        self._budget_active = False

    def run(
        self, conn: sqlite3.Connection, settings: StoreSettings, now_ms: int
    ) -> bool:
        """Do up to ROWS_PER_RUN rows of work; return True when the pass is done."""
        series = all_series(conn)
        room = ROWS_PER_RUN
        if settings.retention_days is not None:
            cutoff = now_ms - settings.retention_days * DAY_MS
            deleted = self._purge(conn, series, cutoff, room)
            if deleted is None:
                return True
            self.totals.retention += deleted
            room -= deleted
            if room <= 0:
                return False
        budget = self._enforce_budget(conn, series, settings.size_budget_bytes, room)
        if budget is not True:
            return budget is None
        events: list[int] = []
        age_cutoff = now_ms - settings.events_max_age_days * DAY_MS

        def prune(db: sqlite3.Connection) -> None:
            events[:] = [prune_events(db, settings.events_max_rows, age_cutoff)]

        if not self._transact(prune):
            return True
        self.totals.events += events[0]
        self._reclaim(conn)
        return True

    def _enforce_budget(
        self,
        conn: sqlite3.Connection,
        series: list[tuple[int, int]],
        budget: int,
        room: int,
    ) -> bool | None:
        """Purge the oldest readings past the budget: True done, False more, None failed."""
        used = used_bytes(conn)
        if used <= budget and not self._budget_active:
            return True
        self._budget_active = True
        target = int(budget * LOW_WATER)
        while used > target and room > 0:
            oldest = oldest_reading(conn, series)
            if oldest is None:
                break
            newest = conn.execute("SELECT max(measured_at) FROM readings").fetchone()[0]
            step = max((newest - oldest) // BUDGET_STEPS, MIN_BUDGET_STEP_MS)
            deleted = self._purge(conn, series, oldest + step, room)
            if deleted is None:
                return None
            # At least the oldest reading went, so this loop always ends.
            self.totals.budget += deleted
            room -= deleted
            self._reclaim(conn, min_pages=1)
            used = used_bytes(conn)
        if used > target and room <= 0:
            return False
        self._budget_active = False
        return True

    def _purge(
        self,
        conn: sqlite3.Connection,
        series: list[tuple[int, int]],
        cutoff: int,
        limit: int,
    ) -> int | None:
        """Delete up to `limit` readings older than `cutoff`; None if a write failed."""
        total = 0
        index = 0
        while index < len(series) and total < limit:
            state = [0, index]

            def work(
                db: sqlite3.Connection,
                start: int = index,
                batch: int = min(PURGE_BATCH, limit - total),
                state: list[int] = state,
            ) -> None:
                deleted, position = 0, start
                while position < len(series) and deleted < batch:
                    device, metric = series[position]
                    room = batch - deleted
                    count: int = db.execute(
                        _DELETE_OLDEST,
                        {
                            "device": device,
                            "metric": metric,
                            "cutoff": cutoff,
                            "room": room,
                        },
                    ).rowcount
                    deleted += count
                    if count < room:
                        position += 1
                state[:] = [deleted, position]

            if not self._transact(work):
                return None
            total += state[0]
            index = state[1]
        return total

    def _reclaim(
        self, conn: sqlite3.Connection, min_pages: int = RECLAIM_MIN_PAGES
    ) -> None:
        """Give free pages back to the file system (incremental vacuum)."""
        free: int = conn.execute("PRAGMA freelist_count").fetchone()[0]
        incremental = conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        if free < min_pages or not incremental:
            return  # a file made without incremental auto-vacuum keeps its size

        def vacuum(db: sqlite3.Connection) -> None:
            db.execute(f"PRAGMA incremental_vacuum({RECLAIM_STEP_PAGES})").fetchall()

        while free > 0 and self._transact(vacuum):
            left: int = conn.execute("PRAGMA freelist_count").fetchone()[0]
            self.totals.reclaimed_pages += free - left
            free = left
