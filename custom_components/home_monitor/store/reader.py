"""Queries on the history file, on a read-only connection of their own, and CSV export.

In WAL mode readers never block the writer nor wait for it. Every function
here blocks, so call them from an executor, never from the event loop.
"""

from collections.abc import Callable, Generator, Iterator, Sequence
import csv
from datetime import UTC, datetime
import heapq
import json
from operator import itemgetter
import os
from pathlib import Path
import sqlite3
import threading

from .lifecycle import newest_reading
from .records import (
    DeviceSummary,
    HistoryReadError,
    HistoryRow,
    StoredDevice,
    StoredEvent,
    StoreStatus,
    decode_value,
    from_ms,
    to_ms,
)
from .schema import connect

_SERIES_SQL = """
SELECT devices.id, metrics.id, devices.device_key, metrics.name, devices.name,
       devices.location
FROM devices CROSS JOIN metrics
WHERE (:device IS NULL OR devices.device_key = :device)
  AND (:keys IS NULL OR devices.device_key IN (SELECT value FROM json_each(:keys)))
  AND (:metric IS NULL OR metrics.name = :metric)
ORDER BY devices.device_key, metrics.name"""
_RANGE_SQL = """
SELECT measured_at, value, received_delay, label_id FROM readings
WHERE device_id = ? AND metric_id = ? AND measured_at >= ? AND measured_at < ?
ORDER BY measured_at LIMIT ?"""
_MIN_MS = -(2**62)
_MAX_MS = 2**62


type Label = tuple[str, str, str | None, str | None]
type _Series = tuple[int, int, str, str, str, str | None]
type _Raw = tuple[int, float, int, int]


class HistoryReader:
    """Blocking queries; thread-safe (one query at a time)."""

    def __init__(self, path: Path, status: StoreStatus) -> None:
        """Read the file at `path`; reopen when `status.generation` moves on."""
        self._path = path
        self._status = status
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._generation = -1
        self._labels: dict[int, Label] = {}

    def readings(
        self,
        device_key: str | None = None,
        metric: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
        *,
        device_keys: Sequence[str] | None = None,
    ) -> list[HistoryRow]:
        """Return up to `limit` readings in [start, end), oldest first.

        `device_keys`, when given, keeps only readings of those devices.
        """
        low = _MIN_MS if start is None else to_ms(start)
        high = _MAX_MS if end is None else to_ms(end)

        def query(conn: sqlite3.Connection) -> list[HistoryRow]:
            found = self._series(conn, device_key, metric, device_keys)
            if len(found) == 1:
                raws = self._fetch(conn, found[0], low, high, limit)
                return self._decode(conn, found[0], raws)
            streams = [
                self._stream(conn, index, series, (low, high), limit)
                for index, series in enumerate(found)
            ]
            merged = heapq.merge(*streams, key=itemgetter(0))
            rows = [
                self._decode(conn, found[index], [(measured, value, delay, label)])[0]
                for _, (measured, index, value, delay, label) in zip(
                    range(limit), merged, strict=False
                )
            ]
            for stream in streams:  # finish open statements: no read stays open
                stream.close()
            return rows

        return self._run(query)

    def iter_readings(
        self,
        device_key: str | None = None,
        metric: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk: int = 5000,
        *,
        device_keys: Sequence[str] | None = None,
    ) -> Iterator[HistoryRow]:
        """Yield every matching reading, series by series, in chunks."""
        low = _MIN_MS if start is None else to_ms(start)
        high = _MAX_MS if end is None else to_ms(end)
        for series in self._run(
            lambda conn: self._series(conn, device_key, metric, device_keys)
        ):
            since = low
            while True:

                def page(
                    conn: sqlite3.Connection, low: int = since, ser: _Series = series
                ) -> list[HistoryRow]:
                    return self._decode(
                        conn, ser, self._fetch(conn, ser, low, high, chunk)
                    )

                rows = self._run(page)
                yield from rows
                if len(rows) < chunk:
                    break
                since = to_ms(rows[-1].measured_at) + 1

    def count(self, device_key: str | None = None, metric: str | None = None) -> int:
        """Return how many readings match."""

        def query(conn: sqlite3.Connection) -> int:
            return sum(
                conn.execute(
                    "SELECT count(*) FROM readings WHERE device_id = ? AND metric_id = ?",
                    series[:2],
                ).fetchone()[0]
                for series in self._series(conn, device_key, metric)
            )

        return self._run(query)

    def devices(self) -> list[StoredDevice]:
        """Return every known device, by key."""

        def query(conn: sqlite3.Connection) -> list[StoredDevice]:
            rows = conn.execute(
                "SELECT device_key, source, name, model, manufacturer, location, "
                "first_seen, last_seen, active, removed_at FROM devices "
                "ORDER BY device_key"
            )
            return [StoredDevice.from_row(row) for row in rows]

        return self._run(query)

    def device_summaries(self) -> list[DeviceSummary]:
        """Return every known device with its reading count and newest reading.

        Counting reads the index of each device's readings: about 30 ms per
        million (warm cache).
        """

        def query(conn: sqlite3.Connection) -> list[DeviceSummary]:
            metric_ids = [row[0] for row in conn.execute("SELECT id FROM metrics")]
            found = []
            for device_id, seen_at, *row in conn.execute(
                "SELECT id, seen_at, device_key, source, name, model, manufacturer, "
                "location, first_seen, last_seen, active, removed_at FROM devices "
                "ORDER BY device_key"
            ).fetchall():
                device = StoredDevice.from_row(tuple(row))
                newest = newest_reading(conn, device_id, metric_ids)
                seen = max(seen_at or 0, newest[1]) if newest else seen_at
                if seen is not None:  # readings can arrive just before the row
                    seen = max(seen, row[6])
                (count,) = conn.execute(
                    "SELECT count(*) FROM readings WHERE device_id = ?", (device_id,)
                ).fetchone()
                found.append(
                    DeviceSummary(
                        device_id,
                        device,
                        device.last_seen if seen is None else from_ms(seen),
                        count,
                        None if newest is None else from_ms(newest[0]),
                    )
                )
            return found

        return self._run(query)

    def events(self, limit: int = 100, kind: str | None = None) -> list[StoredEvent]:
        """Return the newest events, newest first."""

        def query(conn: sqlite3.Connection) -> list[StoredEvent]:
            return [
                StoredEvent(from_ms(at), event_kind, source, json.loads(detail))
                for at, event_kind, source, detail in conn.execute(
                    "SELECT at, kind, source, detail FROM events "
                    "WHERE ? IS NULL OR kind = ? ORDER BY id DESC LIMIT ?",
                    (kind, kind, limit),
                )
            ]

        return self._run(query)

    def run[T](self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run `query` on this connection, one at a time; SQLite errors become HistoryReadError."""
        return self._run(query)

    def close(self) -> None:
        """Close the connection (a later query opens a new one)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _run[T](self, query: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                generation = self._status.generation
                if self._conn is None or generation != self._generation:
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = None
                    self._labels.clear()
                    if not self._path.exists():
                        raise HistoryReadError(f"{self._path} does not exist")
                    self._conn = connect(self._path, read_only=True)
                    self._generation = generation
                return query(self._conn)
            except sqlite3.Error as err:
                raise HistoryReadError(str(err)) from err

    def _series(
        self,
        conn: sqlite3.Connection,
        device_key: str | None,
        metric: str | None,
        device_keys: Sequence[str] | None = None,
    ) -> list[_Series]:
        keys = None if device_keys is None else json.dumps(list(device_keys))
        return list(
            conn.execute(
                _SERIES_SQL, {"device": device_key, "keys": keys, "metric": metric}
            )
        )

    def _fetch(
        self, conn: sqlite3.Connection, series: _Series, low: int, high: int, limit: int
    ) -> list[_Raw]:
        """Return undecoded rows of one series in [low, high), oldest first."""
        return conn.execute(
            _RANGE_SQL, (series[0], series[1], low, high, limit)
        ).fetchall()

    def _stream(
        self,
        conn: sqlite3.Connection,
        index: int,
        series: _Series,
        span: tuple[int, int],
        limit: int,
    ) -> Generator[tuple[int, int, float, int, int]]:
        """Yield rows of one series tagged with `index`, in pages that grow."""
        low, high = span
        page = min(limit, 64)
        while limit > 0:
            size = min(page, limit)
            rows = self._fetch(conn, series, low, high, size)
            for measured, value, delay, label_id in rows:
                yield (measured, index, value, delay, label_id)
            if len(rows) < size:
                return
            limit -= size
            low = rows[-1][0] + 1
            page *= 4

    def _decode(
        self, conn: sqlite3.Connection, series: _Series, raws: list[_Raw]
    ) -> list[HistoryRow]:
        """Turn stored rows into HistoryRows (the hot loop of every query)."""
        key, metric, current_name, current_location = series[2:]
        labels = self._labels
        timestamp = datetime.fromtimestamp
        out = []
        for measured, value, delay, label_id in raws:
            label = labels.get(label_id) or self._label(conn, label_id)
            out.append(
                HistoryRow(
                    key,
                    metric,
                    decode_value(value),
                    label[3],
                    timestamp(measured / 1000, UTC),
                    delay,
                    label[0],
                    label[1],
                    label[2],
                    current_name,
                    current_location,
                )
            )
        return out

    def _label(self, conn: sqlite3.Connection, label_id: int) -> Label:
        for found, source, name, location, unit in conn.execute(
            "SELECT id, source, name, location, unit FROM labels"
        ):
            self._labels[found] = (source, name, location or None, unit or None)
        return self._labels[label_id]


COLUMNS = (
    "measured_at",
    "received_at",
    "device_key",
    "name",
    "location",
    "source",
    "metric",
    "value",
    "unit",
    "current_name",
    "current_location",
)

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """Return user-named text so that a spreadsheet shows it instead of running it."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def export_csv(
    reader: HistoryReader,
    path: Path,
    *,
    device_key: str | None = None,
    metric: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    device_keys: Sequence[str] | None = None,
) -> int:
    """Write the matching readings to `path`; return how many.

    The file appears complete or not at all: rows go to a temporary file in
    the same directory that replaces `path` at the end.
    """
    partial = path.with_name(f".{path.name}.partial")
    count = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(COLUMNS)
            rows = reader.iter_readings(
                device_key, metric, start, end, device_keys=device_keys
            )
            for row in rows:
                writer.writerow(
                    (
                        row.measured_at.isoformat(),
                        row.received_at.isoformat(),
                        text_cell(row.device_key),
                        text_cell(row.name),
                        text_cell(row.location or ""),
                        row.source,
                        row.metric,
                        repr(row.value),
                        row.unit or "",
                        text_cell(row.current_name or ""),
                        text_cell(row.current_location or ""),
                    )
                )
                count += 1
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count
