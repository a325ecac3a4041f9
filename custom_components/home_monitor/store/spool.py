"""Readings the database refused: packed in memory, saved beside it at stop.

A spooled reading is 26 bytes: the index of its context (device key, source,
name, location and unit at the time), the index of its metric, the time in
milliseconds, the delay until it was received in seconds and the value. Past
`max_readings` the oldest are dropped and counted.

The file is ``MAGIC``, a 4-byte length, a JSON header (contexts, metrics,
record count, device records and events still to write), then the records.
Space for a full spool is reserved ahead in ``<file>.spool-reserve``, which a
spool saved at stop overwrites in place and is then renamed; should that fail,
it goes to a new file beside the database, then to the temp dir.
"""

from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
import hashlib
import json
import math
import os
from pathlib import Path
import sqlite3
import struct
import tempfile
from typing import Any, BinaryIO

from ..const import LOGGER
from ..models import DeviceRecord
from .records import DeviceItem, EventItem, Item, ReadingsItem, encode_value, to_ms
from .rows import BAD_READING, CHUNK_ROWS, Catalog, Row, Tally, check_names, label_key

MAGIC = b"HMSPOOL1"
RECORD = struct.Struct("<IHqid")
_LENGTH = struct.Struct("<I")
_CHUNK_RECORDS = 4096
_DELAY_LIMIT = 2**31 - 1
# Room in the reserve for the header: contexts, metrics, devices and up to
# a thousand pending events.
RESERVE_HEADER_BYTES = 512 * 1024

type Context = tuple[str, str, str, str | None, str | None]
type SpoolRecord = tuple[Context, str, int, int, float]


class SpoolFileError(ValueError):
    """A saved spool file is damaged."""


class Spool:
    """A bounded first-in first-out store of refused readings."""

    def __init__(self, max_readings: int) -> None:
        """Hold at most `max_readings` readings."""
        self.max_readings = max_readings
        self.count = 0
        self._contexts: list[Context] = []
        self._context_index: dict[Context, int] = {}
        self._metrics: list[str] = []
        self._metric_index: dict[str, int] = {}
        self._chunks: deque[bytearray] = deque()
        self._head = 0

    def add(
        self, context: Context, metric: str, ms: int, delay: int, value: float
    ) -> None:
        """Append one reading (call `trim()` after a run of adds)."""
        if (ctx := self._context_index.get(context)) is None:
            ctx = self._context_index[context] = len(self._contexts)
            self._contexts.append(context)
        if (met := self._metric_index.get(metric)) is None:
            met = self._metric_index[metric] = len(self._metrics)
            self._metrics.append(metric)
        if not self._chunks or len(self._chunks[-1]) >= _CHUNK_RECORDS * RECORD.size:
            self._chunks.append(bytearray())
        delay = max(-_DELAY_LIMIT, min(_DELAY_LIMIT, delay))
        self._chunks[-1] += RECORD.pack(ctx, met, ms, delay, value)
        self.count += 1

    def trim(self) -> int:
        """Drop the oldest readings past the bound; return how many."""
        excess = self.count - self.max_readings
        if excess <= 0:
            return 0
        self.drop(excess)
        return excess

    def peek(self, limit: int) -> list[SpoolRecord]:
        """Return up to `limit` of the oldest readings without removing them."""
        out: list[SpoolRecord] = []
        for ctx, met, ms, delay, value in self._iter_raw():
            if len(out) >= limit:
                break
            out.append((self._contexts[ctx], self._metrics[met], ms, delay, value))
        return out

    def drop(self, count: int) -> None:
        """Remove the `count` oldest readings."""
        remaining = min(count, self.count) * RECORD.size
        self.count -= remaining // RECORD.size
        while remaining:
            available = len(self._chunks[0]) - self._head
            if remaining >= available:
                self._chunks.popleft()
                self._head = 0
                remaining -= available
            else:
                self._head += remaining
                remaining = 0
        if not self.count:
            self._contexts.clear()
            self._context_index.clear()
            self._metrics.clear()
            self._metric_index.clear()

    def save(self, path: Path, extra: dict[str, Any]) -> None:
        """Write the spool and `extra` to `path` atomically and durably."""
        partial = path.with_name(f"{path.name}.partial")
        try:
            with partial.open("wb") as file:
                self.write(file, extra)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        _sync_directory(path.parent)

    def write(self, file: BinaryIO, extra: dict[str, Any]) -> None:
        """Write the spool and `extra` from the start of `file`, cut it there, sync."""
        header = json.dumps(
            {
                "contexts": self._contexts,
                "metrics": self._metrics,
                "count": self.count,
                **extra,
            }
        ).encode()
        file.seek(0)
        file.write(MAGIC + _LENGTH.pack(len(header)) + header)
        file.writelines(
            memoryview(chunk)[self._head if index == 0 else 0 :]
            for index, chunk in enumerate(self._chunks)
        )
        file.truncate()
        file.flush()
        os.fsync(file.fileno())

    @classmethod
    def load(cls, path: Path, max_readings: int) -> tuple[Spool, dict[str, Any]]:
        """Read a saved spool; raise SpoolFileError if it is damaged."""
        data = path.read_bytes()
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _LENGTH.size:
            raise SpoolFileError("not a spool file")
        start = len(MAGIC) + _LENGTH.size
        (length,) = _LENGTH.unpack_from(data, len(MAGIC))
        try:
            header = json.loads(data[start : start + length])
            contexts = [_context(item) for item in header.pop("contexts")]
            metrics = [str(metric) for metric in header.pop("metrics")]
            count = int(header.pop("count"))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise SpoolFileError(f"bad header: {err}") from err
        body = data[start + length :]
        if len(body) != count * RECORD.size:
            raise SpoolFileError("record count does not match the file length")
        spool = cls(max_readings)
        for ctx, met, _ms, _delay, _value in RECORD.iter_unpack(body):
            if ctx >= len(contexts) or met >= len(metrics):
                raise SpoolFileError("record refers to a missing context")
        spool._contexts = contexts
        spool._context_index = {context: i for i, context in enumerate(contexts)}
        spool._metrics = metrics
        spool._metric_index = {metric: i for i, metric in enumerate(metrics)}
        if body:
            spool._chunks.append(bytearray(body))
        spool.count = count
        return spool, header

    def _iter_raw(self) -> Iterator[tuple[int, int, int, int, float]]:
        for index, chunk in enumerate(self._chunks):
            view = memoryview(chunk)[self._head if index == 0 else 0 :]
            yield from RECORD.iter_unpack(view)


def spool_rows(
    conn: sqlite3.Connection,
    catalog: Catalog,
    records: Iterable[SpoolRecord],
    now_ms: int,
    tally: Tally,
) -> Iterator[list[Row]]:
    """Yield readings rows for spooled readings, with their labels at the time."""
    rows: list[Row] = []
    for (key, source, name, location, unit), metric, ms, delay, value in records:
        device_id = catalog.device_id(conn, key, now_ms)
        label_id = catalog.label_id(conn, (source, name, location or "", unit or ""))
        metric_id = catalog.metric_id(conn, metric)
        tally.touched.add(device_id)
        rows.append((device_id, metric_id, ms, encode_value(value), delay, label_id))
        if len(rows) >= CHUNK_ROWS:
            tally.offered += len(rows)
            yield rows
            rows = []
    tally.offered += len(rows)
    yield rows


def spool_items(
    catalog: Catalog, items: Iterable[Item], spool: Spool, events: list[EventItem]
) -> Tally:
    """Move items the database refused into the spool (and `events`)."""
    tally = Tally()
    for item in items:
        if isinstance(item, ReadingsItem):
            for reading in item.readings:
                try:
                    ms = to_ms(reading.measured_at)
                    value = float(reading.value)
                    if not math.isfinite(value):
                        raise ValueError("value is not finite")
                    check_names(reading)
                    record = catalog.record(reading.device_key)
                    source, name, location, unit = label_key(record, reading.unit)
                    context = (record.device_key, source, name, location, unit)
                    spool.add(
                        context,
                        str(reading.metric),
                        ms,
                        (item.received_ms - ms) // 1000,
                        value,
                    )
                except BAD_READING as err:
                    tally.reject(reading, err)
                    continue
                tally.offered += 1
        elif isinstance(item, DeviceItem):
            catalog.note(item.record)
        else:
            events.append(item)
    return tally


def spool_paths(db_path: Path) -> tuple[Path, Path, Path]:
    """Return where a spool is saved: beside the file, its reserve, the temp dir."""
    beside = db_path.with_name(f"{db_path.name}.spool")
    digest = hashlib.sha256(str(db_path.resolve()).encode()).hexdigest()[:16]
    temporary = Path(tempfile.gettempdir()) / f"home_monitor-{digest}.spool"
    return beside, beside.with_name(f"{beside.name}-reserve"), temporary


def reserve_space(reserve: Path, max_readings: int) -> int:
    """Allocate `reserve` to hold a full spool; return how many readings it holds.

    The space is allocated now, while the disk has room, so that a spool can
    be saved at stop even when the disk has filled up since.
    """
    size = RESERVE_HEADER_BYTES + max_readings * RECORD.size
    try:
        with reserve.open("a+b") as file:
            if os.fstat(file.fileno()).st_size > size:
                file.truncate(size)
            elif hasattr(os, "posix_fallocate"):
                os.posix_fallocate(file.fileno(), 0, size)
            else:  # pragma: no cover - every Linux has posix_fallocate
                file.write(bytes(size - file.tell()))
            os.fsync(file.fileno())
    except OSError as err:
        LOGGER.debug("Could not reserve %d bytes at %s: %s", size, reserve, err)
    try:
        allocated = reserve.stat().st_blocks * 512
    except OSError:
        return 0
    return max(0, min(max_readings, (allocated - RESERVE_HEADER_BYTES) // RECORD.size))


def save_at_stop(
    spool: Spool,
    db_path: Path,
    devices: Iterable[DeviceRecord],
    events: Iterable[EventItem],
) -> Path | OSError:
    """Save the spool, device records and events still to write; log where.

    Tries the reserved space first (overwritten in place, then renamed), then
    a new file beside the database, then one in the temp dir. Returns where it
    went, or the last error.
    """
    extra = {
        "devices": [
            [r.device_key, r.source, r.name, r.model, r.manufacturer, r.location]
            for r in devices
        ],
        "events": [
            [e.at_ms, e.kind, e.source, json.dumps(dict(e.detail), default=str)]
            for e in events
        ],
    }
    beside, reserve, temporary = spool_paths(db_path)
    error = OSError(f"{reserve} does not exist")
    for target in (reserve, beside, temporary):
        try:
            if target is reserve:
                with reserve.open("r+b") as file:
                    spool.write(file, extra)
                reserve.replace(beside)
                _sync_directory(beside.parent)
            else:
                spool.save(target, extra)
        except OSError as err:
            error = err
            continue
        saved = beside if target is reserve else target
        LOGGER.warning(
            "Saved %d readings the history database did not take to %s; they are "
            "written at the next start",
            spool.count,
            saved,
        )
        return saved
    LOGGER.error(
        "Could not save %d unwritten readings (%s); they are lost", spool.count, error
    )
    return error


type SavedSpool = tuple[Spool, list[DeviceRecord], list[EventItem]]


def take_over(
    db_path: Path, max_readings: int
) -> tuple[Path, SavedSpool | dict[str, str]] | None:
    """Load a spool saved at the last stop, beside the file or in the temp dir.

    Returns None without one, else where it was and what it held: the spool,
    device records and events, or the detail of a `spool_damaged` event when
    it is damaged, after moving it aside.
    """
    beside, _, temporary = spool_paths(db_path)
    if (path := next((p for p in (beside, temporary) if p.exists()), None)) is None:
        return None
    try:
        spool, extra = Spool.load(path, max_readings)
        devices = [DeviceRecord(*fields) for fields in extra.get("devices", [])]
        events = [
            EventItem(at_ms, kind, source, json.loads(detail))
            for at_ms, kind, source, detail in extra.get("events", [])
        ]
    except (OSError, TypeError, ValueError) as err:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.bad-{stamp}")
        path.replace(target)
        LOGGER.error(
            "Saved history spool %s is damaged (%s); moved it to %s", path, err, target
        )
        return path, {"error": str(err), "moved_to": str(target)}
    LOGGER.info("Replaying %d readings saved at the last stop in %s", spool.count, path)
    return path, (spool, devices, events)


def _context(item: Any) -> Context:
    key, source, name, location, unit = item
    return (str(key), str(source), str(name), location, unit)


def _sync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
