"""What the store reports to the health checks and diagnostics."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class Counters:
    """Live figures, written by the writer thread and read by `status()`.

    Single attribute reads and writes are atomic, so a snapshot needs no lock;
    figures from one snapshot may be a few microseconds apart.
    """

    open: bool = False
    journal_mode: str | None = None
    wal: bool = False
    writable: bool = False
    schema_version: int | None = None
    generation: int = 0
    inflight: int = 0
    spooled: int = 0
    spool_overflow: int = 0
    spool_saved: int = 0
    spool_replayed: int = 0
    lock_retries: int = 0
    lock_exhaustions: int = 0
    readings_written: int = 0
    readings_duplicate: int = 0
    readings_rejected: int = 0
    readings_dropped: int = 0
    events_dropped: int = 0
    batches: int = 0
    purged: int = 0
    last_commit_at: datetime | None = None
    last_purge_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    db_size_bytes: int = 0
    wal_size_bytes: int = 0
    moved_aside: list[Path] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """A snapshot of the store's condition.

    `queued` counts readings accepted but not yet committed or spooled;
    `spooled` those waiting because the database refused them (disk full,
    read-only, vanished or locked past every retry). `spool_overflow` counts
    readings the spool had to drop. `moved_aside` lists damaged files renamed
    at open.
    """

    path: Path
    open: bool
    journal_mode: str | None
    wal: bool
    writable: bool
    schema_version: int | None
    queued: int
    spooled: int
    spool_overflow: int
    spool_saved: int
    spool_replayed: int
    lock_retries: int
    lock_exhaustions: int
    readings_written: int
    readings_duplicate: int
    readings_rejected: int
    readings_dropped: int
    events_dropped: int
    batches: int
    purged: int
    last_commit_at: datetime | None
    last_purge_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    db_size_bytes: int
    wal_size_bytes: int
    moved_aside: tuple[Path, ...]

    @classmethod
    def snapshot(cls, path: Path, counters: Counters, waiting: int) -> StoreStatus:
        """Build a snapshot from the live counters and the queue length."""
        return cls(
            path=path,
            open=counters.open,
            journal_mode=counters.journal_mode,
            wal=counters.wal,
            writable=counters.writable,
            schema_version=counters.schema_version,
            queued=waiting + counters.inflight,
            spooled=counters.spooled,
            spool_overflow=counters.spool_overflow,
            spool_saved=counters.spool_saved,
            spool_replayed=counters.spool_replayed,
            lock_retries=counters.lock_retries,
            lock_exhaustions=counters.lock_exhaustions,
            readings_written=counters.readings_written,
            readings_duplicate=counters.readings_duplicate,
            readings_rejected=counters.readings_rejected,
            readings_dropped=counters.readings_dropped,
            events_dropped=counters.events_dropped,
            batches=counters.batches,
            purged=counters.purged,
            last_commit_at=counters.last_commit_at,
            last_purge_at=counters.last_purge_at,
            last_error=counters.last_error,
            last_error_at=counters.last_error_at,
            db_size_bytes=counters.db_size_bytes,
            wal_size_bytes=counters.wal_size_bytes,
            moved_aside=tuple(counters.moved_aside),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return plain data for diagnostics (paths and times as strings)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, (Path, datetime)):
                data[key] = str(value) if isinstance(value, Path) else value.isoformat()
        data["moved_aside"] = [str(path) for path in self.moved_aside]
        return data
