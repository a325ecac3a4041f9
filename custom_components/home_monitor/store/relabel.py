"""Rewriting the labels of one device's past readings, in small resumable steps.

A rename with `rewrite_history` becomes a row of `relabel_jobs`: the device,
its new name and location, the (metric id, time) key of the last reading done
and how many readings the rewrite has looked at and changed. Each step gives
the next readings of the device, in key order, the label with the new name
and location (keeping each reading's source and unit) and moves the position
on, in the same transaction, so a stop or a crash at any point resumes where
the last committed step left off. Steps are sized to take about
STEP_TARGET_S, so the ingest batches between them wait no longer than that.

Only the writer thread uses this.
"""

from dataclasses import dataclass, field
import sqlite3

from .records import StoreStatus
from .rows import Catalog

# Time one step should take, its commit included; the batch size follows it.
STEP_TARGET_S = 0.04
FIRST_STEP_ROWS = 2_000
MIN_STEP_ROWS = 200
MAX_STEP_ROWS = 20_000
# Before the first reading of any metric.
START_METRIC = -1
START_MS = -(2**62)

_LOAD = """
SELECT jobs.device_id, devices.device_key, jobs.name, jobs.location, jobs.metric_id,
       jobs.measured_at, jobs.total, jobs.done, jobs.relabelled
FROM relabel_jobs AS jobs JOIN devices ON devices.id = jobs.device_id
ORDER BY jobs.requested_at, jobs.device_id"""
_START = """
INSERT OR REPLACE INTO relabel_jobs (device_id, name, location, metric_id, measured_at,
                                     total, done, relabelled, requested_at)
VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)"""
# The next rows summed up inside SQLite (which lets go of the GIL meanwhile):
# how many, the time of the last, and their labels.
_NEXT_ROWS = """
SELECT count(*), max(measured_at), group_concat(DISTINCT label_id) FROM (
    SELECT measured_at, label_id FROM readings
    WHERE device_id = ? AND metric_id = ? AND measured_at > ?
    ORDER BY measured_at LIMIT ?)"""
_NEXT_METRIC = (
    "SELECT min(metric_id) FROM readings WHERE device_id = ? AND metric_id > ?"
)
_PROGRESS = """
UPDATE relabel_jobs SET metric_id = ?, measured_at = ?, done = ?, relabelled = ?
WHERE device_id = ?"""


@dataclass(slots=True)
class Job:
    """A rewrite under way, as its row says after the last committed step."""

    device_id: int
    device_key: str
    name: str
    location: str
    metric_id: int = START_METRIC
    measured_at: int = START_MS
    total: int = 0
    done: int = 0
    relabelled: int = 0
    # old label id -> label id with the new name and location
    targets: dict[int, int] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        """Return about how many readings are still to be looked at."""
        return max(0, self.total - self.done)


class RelabelJobs:
    """The rewrites under way, oldest request first.

    The jobs in memory mirror the table after the last commit; after a
    transaction that did not commit they are read again (`stale`).
    """

    def __init__(self, status: StoreStatus) -> None:
        """Report progress into `status`."""
        self._status = status
        self.jobs: dict[str, Job] = {}
        self.rows = FIRST_STEP_ROWS
        self.stale = True

    def load(self, conn: sqlite3.Connection) -> None:
        """Read the jobs the file holds (at open, and after a failed step)."""
        self.jobs = {
            key: Job(device_id, key, name, location, *position)
            for device_id, key, name, location, *position in conn.execute(_LOAD)
        }
        self.stale = False
        self.update_status()

    def start(
        self,
        conn: sqlite3.Connection,
        job: Job,
        now_ms: int,
    ) -> None:
        """Write a new job, replacing one of the same device (caller's transaction)."""
        conn.execute(
            _START,
            (
                job.device_id,
                job.name,
                job.location,
                job.metric_id,
                job.measured_at,
                job.total,
                now_ms,
            ),
        )
        self.jobs.pop(job.device_key, None)
        self.jobs[job.device_key] = job

    def step(self, conn: sqlite3.Connection, catalog: Catalog) -> Job | None:
        """Relabel the next readings of the oldest job; return it when finished.

        Runs inside the caller's transaction and changes the job in memory;
        the caller marks the jobs `stale` if the transaction does not commit.
        """
        job = next(iter(self.jobs.values()))
        limit = self.rows
        while True:
            count, last, labels = conn.execute(
                _NEXT_ROWS, (job.device_id, job.metric_id, job.measured_at, limit)
            ).fetchone()
            if count:
                break
            (metric_id,) = conn.execute(
                _NEXT_METRIC, (job.device_id, job.metric_id)
            ).fetchone()
            if metric_id is None:
                conn.execute(
                    "DELETE FROM relabel_jobs WHERE device_id = ?", (job.device_id,)
                )
                del self.jobs[job.device_key]
                return job
            job.metric_id, job.measured_at = metric_id, START_MS
        changes = {
            old: new
            for old in {int(label) for label in str(labels).split(",")}
            if (new := self._target(conn, catalog, job, old)) != old
        }
        if changes:
            cases = " ".join("WHEN ? THEN ?" for _ in changes)
            marks = ", ".join("?" for _ in changes)
            cursor = conn.execute(
                f"UPDATE readings SET label_id = CASE label_id {cases} END "  # noqa: S608 - only placeholders
                "WHERE device_id = ? AND metric_id = ? AND measured_at > ? "
                f"AND measured_at <= ? AND label_id IN ({marks})",
                (
                    *(value for pair in changes.items() for value in pair),
                    job.device_id,
                    job.metric_id,
                    job.measured_at,
                    last,
                    *changes,
                ),
            )
            job.relabelled += cursor.rowcount
        job.measured_at = last
        job.done += count
        conn.execute(
            _PROGRESS,
            (job.metric_id, job.measured_at, job.done, job.relabelled, job.device_id),
        )
        return None

    def took(self, seconds: float) -> None:
        """Size the next step after one that took `seconds`."""
        scale = STEP_TARGET_S / max(seconds, 1e-4)
        rows = int(self.rows * min(2.0, max(0.5, scale)))
        self.rows = min(MAX_STEP_ROWS, max(MIN_STEP_ROWS, rows))

    def update_status(self) -> None:
        """Show how many readings the jobs have still to look at."""
        self._status.relabel_pending = sum(job.remaining for job in self.jobs.values())

    def _target(
        self, conn: sqlite3.Connection, catalog: Catalog, job: Job, old: int
    ) -> int:
        """Return the label with the job's name and location for label `old`.

        Readings labelled with the device's current name and location keep
        it: after a rename without a rewrite while this job runs, they were
        taken under the newer name.
        """
        if (new := job.targets.get(old)) is None:
            source, name, location, unit = conn.execute(
                "SELECT source, name, location, unit FROM labels WHERE id = ?", (old,)
            ).fetchone()
            now = catalog.record(job.device_key)
            if (name, location) == (now.name, now.location or ""):
                new = old  # a later rename's readings keep its name
            else:
                new = catalog.label_id(conn, (source, job.name, job.location, unit))
            job.targets[old] = new
        return new
