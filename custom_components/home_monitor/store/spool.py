"""Readings the database refused, packed in memory and saved beside it at stop.

A spooled reading is 26 bytes: the index of its context (device key, source,
name, location and unit at the time), the index of its metric, the time in
milliseconds, the delay until it was received in seconds and the value. Past
`max_readings` the oldest are dropped and counted.

The file is ``MAGIC``, a 4-byte length, a JSON header (contexts, metrics,
record count, device records and events still to write), then the records.
"""

from collections import deque
from collections.abc import Iterator
import json
import os
from pathlib import Path
import struct
from typing import Any

MAGIC = b"HMSPOOL1"
RECORD = struct.Struct("<IHqid")
_LENGTH = struct.Struct("<I")
_CHUNK_RECORDS = 4096
_DELAY_LIMIT = 2**31 - 1

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
        header = json.dumps(
            {
                "contexts": self._contexts,
                "metrics": self._metrics,
                "count": self.count,
                **extra,
            }
        ).encode()
        partial = path.with_name(f"{path.name}.partial")
        with partial.open("wb") as file:
            file.write(MAGIC + _LENGTH.pack(len(header)) + header)
            for index, chunk in enumerate(self._chunks):
                file.write(memoryview(chunk)[self._head if index == 0 else 0 :])
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
        _sync_directory(path.parent)

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
