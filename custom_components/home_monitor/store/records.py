"""Plain values of the history store: settings, status, errors, rows, encodings.

Timestamps are integer milliseconds since the Unix epoch (UTC). A value is
stored as a scaled decimal integer when one with at most six decimals gives
back exactly the same float: ``mantissa * 10 + decimals``, so 22.55 is stored
as 22552 (two bytes in SQLite's record format), 1.0 as 10 and 0.0 as 0. Any
other float is stored as an 8-byte REAL. Decoding tells the two apart by the
SQLite storage class, so every value reads back bit for bit.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
import math
from pathlib import Path
import sqlite3
from typing import Any, NamedTuple

from ..models import DeviceRecord, Reading

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
MAX_DECIMALS = 6
# Ten entries so any last digit decodes, even one this version never writes.
_POWERS = tuple(10**decimals for decimals in range(10))
_EXACT_INT_LIMIT = 2**53

# Primary SQLite result codes (the low byte of an extended code).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26

# A day of a big home, counted generously: 60 Hue motion sensors each reporting
# temperature every 5 min (288), light level on change (~720), motion on change
# (~500) and battery/connectivity a few times (~20), about 92,000 readings; plus
# 10 air-quality monitors polled every 60 s for 7 metrics, 100,800 readings.
# That is ~193,000 readings a day. 500,000 covers more than two such days, and a
# spooled reading takes 26 bytes packed, so a full spool holds about 13 MB.
DEFAULT_SPOOL_MAX_READINGS = 500_000
DEFAULT_SIZE_BUDGET_BYTES = 1_000_000_000
DEFAULT_EVENTS_MAX_ROWS = 10_000
DEFAULT_EVENTS_MAX_AGE_DAYS = 90
# A device whose source has not reported it for this many days is inactive.
DEFAULT_INACTIVE_DAYS = 30


def to_ms(when: datetime) -> int:
    """Return milliseconds since the epoch; `when` must be timezone aware."""
    return (when - EPOCH) // ONE_MS


def from_ms(ms: int) -> datetime:
    """Return the UTC datetime of milliseconds since the epoch.

    The float division is exact to the millisecond until the year 2242 (its
    error stays under half a microsecond, which `fromtimestamp` rounds away),
    and three times faster than adding a timedelta.
    """
    return datetime.fromtimestamp(ms / 1000, UTC)


def encode_value(value: float) -> int | float:
    """Return the compact stored form of a finite value.

    Raises ValueError for NaN and infinities, TypeError for non-numbers.
    """
    if not math.isfinite(value):
        raise ValueError("value is not finite")
    for decimals, power in enumerate(_POWERS[: MAX_DECIMALS + 1]):
        mantissa: int = round(value * power)
        if mantissa / power == value:
            if abs(mantissa) < _EXACT_INT_LIMIT:
                return mantissa * 10 + decimals
            break
    return float(value)


def decode_value(stored: float) -> float:
    """Return the value a stored form stands for."""
    if isinstance(stored, int):
        decoded: float = (stored // 10) / _POWERS[stored % 10]
        return decoded
    return stored


class StoreError(Exception):
    """The history store cannot do what was asked."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer version of this integration."""

    def __init__(self, found: int, supported: int) -> None:
        """Keep both versions for the message."""
        super().__init__(
            f"history database is at schema version {found}, this version "
            f"understands up to {supported}"
        )
        self.found = found
        self.supported = supported


class HistoryReadError(StoreError):
    """The history file could not be read."""


def primary_code(err: BaseException) -> int | None:
    """Return the primary SQLite result code of an error, if it has one."""
    code = getattr(err, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_lock_error(err: BaseException) -> bool:
    """Return whether another connection holds a lock we need."""
    return primary_code(err) in (SQLITE_BUSY, SQLITE_LOCKED)


def is_corruption(err: BaseException) -> bool:
    """Return whether the file is damaged or not a database at all."""
    return primary_code(err) in (SQLITE_CORRUPT, SQLITE_NOTADB)


def describe(err: BaseException) -> str:
    """Return a short description: SQLite's error name and message."""
    if isinstance(err, sqlite3.Error):
        name = getattr(err, "sqlite_errorname", None) or type(err).__name__
        return f"{name}: {err}"
    return f"{type(err).__name__}: {err}"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Retention, disk and memory bounds; can be changed while the store runs.

    `retention_days` None keeps every reading for as long as the size budget
    allows. Past `size_budget_bytes` the oldest readings are purged. The spool
    holds readings the database refused (disk full, read-only, locked) and
    drops the oldest, counted, past `spool_max_readings`.
    """

    retention_days: int | None = None
    size_budget_bytes: int = DEFAULT_SIZE_BUDGET_BYTES
    spool_max_readings: int = DEFAULT_SPOOL_MAX_READINGS
    events_max_rows: int = DEFAULT_EVENTS_MAX_ROWS
    events_max_age_days: int = DEFAULT_EVENTS_MAX_AGE_DAYS
    inactive_days: int = DEFAULT_INACTIVE_DAYS


@dataclass(frozen=True, slots=True)
class ReadingsItem:
    """Readings handed over in one call; `received_ms` is when."""

    received_ms: int
    readings: tuple[Reading, ...]


@dataclass(frozen=True, slots=True)
class DeviceItem:
    """A device to create or update."""

    record: DeviceRecord


@dataclass(frozen=True, slots=True)
class EventItem:
    """A row for the events table."""

    at_ms: int
    kind: str
    source: str
    detail: Mapping[str, Any]


type Item = ReadingsItem | DeviceItem | EventItem


@dataclass(slots=True)
class StoreStatus:
    """The store's condition: live figures, and frozen copies for callers.

    The writer thread keeps one instance up to date; `status()` hands out a
    copy. Single attribute reads and writes are atomic, so a copy needs no
    lock; figures of one copy may be a few microseconds apart.

    `queued` counts readings accepted but not yet committed or spooled;
    `spooled` those waiting because the database refused them (disk full,
    read-only, vanished or locked past every retry); `spool_overflow` those
    the spool had to drop. `readings_moved` counts readings stored one or more
    milliseconds later because another value held their time. At stop the
    spool goes to space reserved ahead (`spool_reserved` readings fit);
    `readings_at_risk` are spooled readings that no reserved space covers, or,
    after a stop, those that could not be saved; `spool_saved_to` says where
    the last one went. `moved_aside` lists damaged files renamed at open;
    `readings_salvaged` and `readings_lost` what was copied from them and
    about how many readings their unreadable pages held. `quick_check` is what
    SQLite's quick check said of the file found at the last open ("ok", or the
    damage that had it moved aside). `relabel_pending` counts past readings
    history rewrites (renames) have still to look at, `readings_relabelled`
    those they changed since the store opened.
    """

    path: Path
    open: bool = False
    journal_mode: str | None = None
    wal: bool = False
    writable: bool = False
    schema_version: int | None = None
    generation: int = 0
    queued: int = 0
    spooled: int = 0
    spool_overflow: int = 0
    spool_saved: int = 0
    spool_saved_to: Path | None = None
    spool_replayed: int = 0
    spool_reserved: int = 0
    readings_at_risk: int = 0
    lock_retries: int = 0
    lock_exhaustions: int = 0
    readings_written: int = 0
    readings_duplicate: int = 0
    readings_moved: int = 0
    readings_rejected: int = 0
    readings_dropped: int = 0
    readings_salvaged: int = 0
    readings_lost: int = 0
    events_dropped: int = 0
    relabel_pending: int = 0
    readings_relabelled: int = 0
    batches: int = 0
    purged: int = 0
    last_commit_at: datetime | None = None
    last_purge_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    db_size_bytes: int = 0
    wal_size_bytes: int = 0
    moved_aside: tuple[Path, ...] = ()
    quick_check: str | None = None

    def snapshot(self, waiting: int) -> StoreStatus:
        """Return a copy, counting `waiting` queued readings too."""
        return replace(self, queued=self.queued + waiting)

    def as_dict(self) -> dict[str, Any]:
        """Return plain data for diagnostics (paths and times as strings)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Path):
                data[key] = str(value)
            elif isinstance(value, datetime):
                data[key] = value.isoformat()
        data["moved_aside"] = [str(path) for path in self.moved_aside]
        return data


class HistoryRow(NamedTuple):
    """One stored reading, with the device's name and location at the time.

    `received_delay` is the whole seconds from `measured_at` until the reading
    reached the integration. `name` and `location` are the labels the reading
    was stored under; `current_name` and `current_location` what the device
    is called, and where it is, now.
    """

    device_key: str
    metric: str
    value: float
    unit: str | None
    measured_at: datetime
    received_delay: int
    source: str
    name: str
    location: str | None
    current_name: str | None = None
    current_location: str | None = None

    @property
    def received_at(self) -> datetime:
        """Return when the reading was received (to the second)."""
        return self.measured_at + timedelta(seconds=self.received_delay)

    def as_dict(self) -> dict[str, Any]:
        """Return plain data (times in ISO 8601)."""
        return {
            "device_key": self.device_key,
            "metric": self.metric,
            "value": self.value,
            "unit": self.unit,
            "measured_at": self.measured_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "source": self.source,
            "name": self.name,
            "location": self.location,
            "current_name": self.current_name,
            "current_location": self.current_location,
        }


@dataclass(frozen=True, slots=True)
class StoredDevice:
    """A row of the devices table."""

    device_key: str
    source: str
    name: str
    model: str | None
    manufacturer: str | None
    location: str | None
    first_seen: datetime
    last_seen: datetime
    active: bool
    removed: bool = False

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> StoredDevice:
        """Build from a devices row (key, source, name, model, maker, place, times, active, removed)."""
        key, source, name, model, maker, location, first, last, active, removed = row
        return cls(
            key, source, name, model, maker, location,
            from_ms(first), from_ms(last), bool(active), removed is not None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeviceSummary:
    """A device as `list_devices` shows it: its row and what its readings say.

    `last_seen` is when its source last reported it (the newest reading's
    arrival, or for a device without readings the last time its record came),
    `last_reading_at` when its newest reading was taken.
    """

    id: int
    device: StoredDevice
    last_seen: datetime
    readings: int
    last_reading_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """Return plain data (times in ISO 8601)."""
        device = self.device
        return {
            "id": self.id,
            "device_key": device.device_key,
            "source": device.source,
            "model": device.model,
            "manufacturer": device.manufacturer,
            "name": device.name,
            "location": device.location,
            "first_seen": device.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "active": device.active,
            "removed": device.removed,
            "reading_count": self.readings,
            "last_reading_at": (
                None
                if self.last_reading_at is None
                else self.last_reading_at.isoformat()
            ),
        }


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A row of the events table."""

    at: datetime
    kind: str
    source: str
    detail: dict[str, Any]
