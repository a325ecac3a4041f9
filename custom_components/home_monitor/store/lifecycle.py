"""Device life cycle on the writer thread: renames, removal marks, inactivity, rewrites.

Requests come from any thread (`submit`) and are applied by the writer
between ingest batches, each cycle's in one transaction. A device is active
while its source reports it: the newest arrival of one of its readings (or,
for a device that never had any, of its record) is at most
`inactive_days` old. The writer marks readings' devices active as they come;
the sweep here marks the others inactive, after every batch that updated
device records and every SWEEP_INTERVAL_S. A rename with a history rewrite
starts a `RelabelJobs` job, and the writer runs one step of it per cycle.
"""

from dataclasses import dataclass, field, replace
import sqlite3
import threading
import time

from ..const import LOGGER
from .database import Database, wall_ms
from .records import StoreStatus
from .relabel import Job, RelabelJobs

SWEEP_INTERVAL_S = 300.0
DAY_MS = 86_400_000
_NEWEST = """
SELECT measured_at, measured_at + received_delay * 1000 FROM readings
WHERE device_id = ? AND metric_id = ? ORDER BY measured_at DESC LIMIT 1"""


@dataclass(slots=True)
class Ticket:
    """The outcome of a request, for the caller to wait on."""

    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False
    relabelled: int = 0

    def wait(self, timeout: float) -> bool:
        """Wait until the request is done (blocking); return whether it was."""
        return self.done.wait(timeout)

    def finish(self, ok: bool, relabelled: int = 0) -> None:
        """Release the caller."""
        self.ok, self.relabelled = ok, relabelled
        self.done.set()


@dataclass(frozen=True, slots=True)
class Rename:
    """New name and location of a device; `rewrite` relabels its past readings."""

    device_key: str
    name: str
    location: str | None
    rewrite: bool = False
    total: int = 0


@dataclass(frozen=True, slots=True)
class Presence:
    """The device was removed from Home Assistant, or is (back) in it."""

    device_key: str
    removed: bool


type Request = Rename | Presence


def newest_reading(
    conn: sqlite3.Connection, device_id: int, metric_ids: list[int]
) -> tuple[int, int] | None:
    """Return (taken, arrived) ms of a device's newest reading, None without any."""
    newest: tuple[int, int] | None = None
    for metric_id in metric_ids:
        row = conn.execute(_NEWEST, (device_id, metric_id)).fetchone()
        if row is not None and (newest is None or row[0] > newest[0]):
            newest = (row[0], row[1])
    return newest


def sweep(conn: sqlite3.Connection, now_ms: int, inactive_days: int) -> int:
    """Note when each device was last seen and mark it (in)active; return changes."""
    metric_ids = [metric_id for (metric_id,) in conn.execute("SELECT id FROM metrics")]
    cutoff = now_ms - inactive_days * DAY_MS
    changed = 0
    for device_id, stored_seen, last_seen, active in conn.execute(
        "SELECT id, seen_at, last_seen, active FROM devices"
    ).fetchall():
        seen_at = stored_seen
        newest = newest_reading(conn, device_id, metric_ids)
        if newest is not None and (seen_at is None or newest[1] > seen_at):
            seen_at = newest[1]
            conn.execute(
                "UPDATE devices SET seen_at = ? WHERE id = ?", (seen_at, device_id)
            )
        seen = seen_at if seen_at is not None else last_seen
        if bool(active) != (seen >= cutoff):
            changed += 1
            conn.execute(
                "UPDATE devices SET active = ? WHERE id = ?",
                (int(not active), device_id),
            )
    return changed


class DeviceLifecycle:
    """Applies device requests and runs the rewrites; see the module docstring."""

    def __init__(self, status: StoreStatus) -> None:
        """Report progress into `status`."""
        self._status = status
        self._lock = threading.Lock()
        self._requests: list[tuple[Request, Ticket]] = []
        self._waiting: dict[str, list[Ticket]] = {}
        self._jobs = RelabelJobs(status)
        self._generation = -1
        self._sweep_after: int | None = 0
        self._next_sweep = 0.0

    # Any thread.

    def submit(self, request: Request) -> Ticket:
        """Queue a request; the writer applies it soon (the caller wakes it)."""
        ticket = Ticket()
        with self._lock:
            self._requests.append((request, ticket))
        return ticket

    def devices_changed(self, seq: int) -> None:
        """Sweep once the intake's items up to `seq` are handled."""
        with self._lock:
            if self._sweep_after is None or seq > self._sweep_after:
                self._sweep_after = seq

    # The writer thread.

    @property
    def busy(self) -> bool:
        """Return whether requests or rewrite steps wait."""
        return bool(self._requests or self._jobs.jobs)

    def run(self, db: Database, handled_seq: int, inactive_days: int) -> None:
        """Apply requests, sweep when due and take one rewrite step."""
        if db.conn is None:
            return
        if self._generation != db.status.generation or self._jobs.stale:
            self._jobs.load(db.conn)
            self._generation = db.status.generation
        with self._lock:
            requests, self._requests = self._requests, []
            asked = self._sweep_after
        if requests and not self._apply(db, requests):
            with self._lock:
                self._requests[:0] = requests
            return
        now = time.monotonic()
        if (asked is not None and handled_seq >= asked) or now >= self._next_sweep:
            self._sweep(db, inactive_days, now, asked)
        if self._jobs.jobs and db.deadline is None:
            self._step(db)

    def release(self) -> None:
        """Release every waiting caller as not done (the writer stops)."""
        with self._lock:
            tickets = [ticket for _, ticket in self._requests]
            self._requests = []
        for waiting in self._waiting.values():
            tickets += waiting
        self._waiting.clear()
        for ticket in tickets:
            ticket.finish(ok=False)

    def _apply(self, db: Database, requests: list[tuple[Request, Ticket]]) -> bool:
        catalog = db.catalog
        saved = catalog.snapshot()
        started: list[tuple[Job, Ticket]] = []

        def work(conn: sqlite3.Connection) -> None:
            now = wall_ms()
            started.clear()
            for request, ticket in requests:
                if isinstance(request, Presence):
                    conn.execute(
                        "UPDATE devices SET removed_at = CASE WHEN ? "
                        "THEN coalesce(removed_at, ?) END WHERE device_key = ?",
                        (request.removed, now, request.device_key),
                    )
                    continue
                key = request.device_key
                record = catalog.record(key)
                renamed = replace(record, name=request.name, location=request.location)
                if renamed != record:
                    catalog.note(renamed)
                catalog.write_dirty(conn, now)
                if (running := self._jobs.jobs.get(key)) is not None:
                    running.targets.clear()  # the current name changed
                if request.rewrite:
                    device_id = catalog.device_id(conn, key, now)
                    job = Job(device_id, key, request.name, request.location or "")
                    job.total = request.total
                    self._jobs.start(conn, job, now)
                    started.append((job, ticket))

        if not db.transact(work, lambda: catalog.restore(saved)):
            self._jobs.stale = True
            return False
        catalog.committed()
        self._written(db)
        for request, ticket in requests:
            if isinstance(request, Rename) and request.rewrite:
                continue
            ticket.finish(ok=True)
        for job, ticket in started:
            self._waiting.setdefault(job.device_key, []).append(ticket)
        self._jobs.update_status()
        return True

    def _sweep(
        self, db: Database, inactive_days: int, now: float, asked: int | None
    ) -> None:
        changed: list[int] = []
        if not db.transact(
            lambda conn: changed.append(sweep(conn, wall_ms(), inactive_days))
        ):
            return
        self._written(db)
        self._next_sweep = now + SWEEP_INTERVAL_S
        with self._lock:
            if self._sweep_after == asked:
                self._sweep_after = None
        if changed[-1]:
            LOGGER.debug("%d devices changed between active and inactive", changed[-1])

    def _step(self, db: Database) -> None:
        finished: list[Job | None] = []
        jobs = self._jobs
        job = next(iter(jobs.jobs.values()))
        before = job.relabelled
        saved = (job.metric_id, job.measured_at, job.done, job.relabelled)

        def undo() -> None:  # before a retry: the job as the file has it
            job.metric_id, job.measured_at, job.done, job.relabelled = saved
            job.targets.clear()
            jobs.jobs = {job.device_key: job} | jobs.jobs

        began = time.monotonic()
        if not db.transact(
            lambda conn: finished.append(jobs.step(conn, db.catalog)), undo
        ):
            jobs.stale = True
            return
        self._checkpoint(db)
        self._jobs.took(time.monotonic() - began)
        self._written(db)
        self._status.readings_relabelled += job.relabelled - before
        self._jobs.update_status()
        if finished[-1] is None:
            return
        db.add_event(
            "relabelled",
            {"device_key": job.device_key, "readings": job.relabelled},
        )
        db.flush_events()
        for ticket in self._waiting.pop(job.device_key, []):
            ticket.finish(ok=True, relabelled=job.relabelled)

    @staticmethod
    def _checkpoint(db: Database) -> None:
        """Copy the step's pages to the file now, a little at a time.

        Left to SQLite, the WAL of a rewrite would be copied in one go every
        AUTOCHECKPOINT_PAGES, holding the writer for a tenth of a second or more.
        """
        if db.conn is not None and db.status.wal:
            try:
                db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as err:  # pragma: no cover - a busy reader is not one
                LOGGER.debug("History checkpoint after a rewrite step failed: %s", err)

    @staticmethod
    def _written(db: Database) -> None:
        db.last_commit = time.monotonic()
        db.wal_dirty = True
