"""Turning queued items into rows: for a transaction, or for the spool."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
import json
import math
import sqlite3

from .catalog import Catalog, check_names, label_key
from .codec import EPOCH, ONE_MS, encode_value
from .intake import DeviceItem, EventItem, Item, ReadingsItem
from .spool import Spool, SpoolRecord

INSERT_READING = (
    "INSERT OR IGNORE INTO readings (device_id, metric_id, measured_at, value, "
    "received_delay, label_id) VALUES (?, ?, ?, ?, ?, ?)"
)
# Rows per INSERT statement: SQLite steps once per statement, so the writer
# lets go of the GIL for longer stretches, and binding is cheaper per row.
ROWS_PER_STATEMENT = 64
_PLACEHOLDERS = ", ".join(["(?, ?, ?, ?, ?, ?)"] * ROWS_PER_STATEMENT)
INSERT_MANY = INSERT_READING.replace("(?, ?, ?, ?, ?, ?)", _PLACEHOLDERS)
type Row = tuple[int, int, int, int | float, int, int]
_BAD_READING = (TypeError, ValueError, AttributeError, OverflowError)
# Rows handed to one executemany call. Building them holds the GIL for about
# 0.3 ms; smaller chunks cost throughput, larger ones delay the event loop.
CHUNK_ROWS = 256
# Whole numbers below this store as plain scaled integers without a search.
_SMALL = 2**49


@dataclass(slots=True)
class Tally:
    """What one batch did, filled in while its rows are produced."""

    offered: int = 0
    rejected: int = 0
    example: str | None = None
    touched: set[int] = field(default_factory=set)
    events: list[EventItem] = field(default_factory=list)

    def reject(self, reading: object, err: Exception) -> None:
        """Count a reading that cannot be stored."""
        self.rejected += 1
        if self.example is None:
            self.example = f"{reading!r}: {err}"


def reading_rows(
    conn: sqlite3.Connection,
    catalog: Catalog,
    items: Iterable[Item],
    now_ms: int,
    tally: Tally,
) -> Iterator[list[Row]]:
    """Yield readings rows in queue order, in chunks, applying device notes as they come.

    Each chunk is built in well under a millisecond; `executemany` then
    releases the GIL around every row it steps, so the event loop never waits
    long for the writer.
    """
    ids_of = catalog.ids
    touched = tally.touched
    rows: list[Row] = []
    append = rows.append
    for item in items:
        if isinstance(item, ReadingsItem):
            received = item.received_ms
            for reading in item.readings:
                try:
                    ids = ids_of.get((reading.device_key, reading.metric, reading.unit))
                    if ids is None:
                        ids = catalog.resolve(conn, reading, now_ms)
                    delta = reading.measured_at - EPOCH
                    ms = (
                        delta.days * 86_400_000
                        + delta.seconds * 1000
                        + delta.microseconds // 1000
                    )
                    value = reading.value
                    if value.is_integer() and -_SMALL < value < _SMALL:
                        stored: int | float = int(value) * 10
                    else:
                        stored = encode_value(value)
                except _BAD_READING as err:
                    tally.reject(reading, err)
                    continue
                touched.add(ids[0])
                append((ids[0], ids[1], ms, stored, (received - ms) // 1000, ids[2]))
                if len(rows) >= CHUNK_ROWS:
                    tally.offered += len(rows)
                    yield rows
                    rows = []
                    append = rows.append
        elif isinstance(item, DeviceItem):
            catalog.note(item.record)
        else:
            tally.events.append(item)
    tally.offered += len(rows)
    yield rows


def insert_rows(conn: sqlite3.Connection, rows: list[Row]) -> int:
    """Insert rows (duplicates are ignored); return how many were new."""
    whole = len(rows) - len(rows) % ROWS_PER_STATEMENT
    inserted = 0
    if whole:
        groups = [
            [value for row in rows[start : start + ROWS_PER_STATEMENT] for value in row]
            for start in range(0, whole, ROWS_PER_STATEMENT)
        ]
        inserted += max(0, conn.executemany(INSERT_MANY, groups).rowcount)
    if whole < len(rows):
        inserted += max(0, conn.executemany(INSERT_READING, rows[whole:]).rowcount)
    return inserted


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
                    ms = (reading.measured_at - EPOCH) // ONE_MS
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
                except _BAD_READING as err:
                    tally.reject(reading, err)
                    continue
                tally.offered += 1
        elif isinstance(item, DeviceItem):
            catalog.note(item.record)
        else:
            events.append(item)
    return tally


def insert_events(
    conn: sqlite3.Connection, events: Iterable[EventItem], max_rows: int
) -> None:
    """Insert events, then drop the oldest past `max_rows`."""
    conn.executemany(
        "INSERT INTO events (at, kind, source, detail) VALUES (?, ?, ?, ?)",
        (
            (
                event.at_ms,
                event.kind,
                event.source,
                json.dumps(dict(event.detail), default=str, sort_keys=True),
            )
            for event in events
        ),
    )
    conn.execute(
        "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?", (max_rows,)
    )
