"""From readings to rows: ids of devices, metrics and labels, and the inserts.

Only the writer thread uses this. The catalog caches small integer ids; ids created
inside a transaction that rolls back are forgotten with `forget_ids()`, and device
records noted but not yet committed stay `dirty` until `committed()`.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
import json
import sqlite3

from ..models import DeviceRecord, Reading
from .hour_sums import BEFORE_ALL, Sums
from .records import EPOCH, DeviceItem, EventItem, Item, ReadingsItem, encode_value
from .rollups import Touched, refresh

type LabelKey = tuple[str, str, str, str]

_UPSERT_DEVICE = """
INSERT INTO devices (device_key, source, name, model, manufacturer, location,
                     first_seen, last_seen, active)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
ON CONFLICT (device_key) DO UPDATE SET
    source = excluded.source, name = excluded.name, model = excluded.model,
    manufacturer = excluded.manufacturer, location = excluded.location,
    last_seen = max(last_seen, excluded.last_seen), active = 1
RETURNING id"""


def placeholder_record(device_key: str) -> DeviceRecord:
    """Return the record of a device known only from its readings."""
    source = device_key.partition(":")[0] or "unknown"
    return DeviceRecord(device_key=device_key, source=source, name=device_key)


def check_names(reading: Reading) -> None:
    """Raise TypeError unless the reading's key, metric and unit are text."""
    if not (
        isinstance(reading.device_key, str)
        and isinstance(reading.metric, str)
        and (reading.unit is None or isinstance(reading.unit, str))
    ):
        raise TypeError("device key, metric and unit must be text")


def label_key(record: DeviceRecord, unit: str | None) -> LabelKey:
    """Return the label of readings taken under `record` in `unit`."""
    return (record.source, record.name, record.location or "", unit or "")


class Catalog:
    """Device records and the ids of devices, metrics and labels."""

    def __init__(self) -> None:
        """Start empty; `load()` fills the caches from a database."""
        self.records: dict[str, DeviceRecord] = {}
        self.dirty: dict[str, DeviceRecord] = {}
        self.metric_ids: dict[str, int] = {}
        # (device key, metric, unit) -> (device id, metric id, label id)
        self.ids: dict[tuple[str, str, str | None], tuple[int, int, int]] = {}
        self._device_ids: dict[str, int] = {}
        self._label_ids: dict[LabelKey, int] = {}

    def load(self, conn: sqlite3.Connection) -> None:
        """Read the ids and device records a database already holds."""
        self.forget_ids()
        for key, source, name, model, manufacturer, location, device_id in conn.execute(
            "SELECT device_key, source, name, model, manufacturer, location, id "
            "FROM devices"
        ):
            self._device_ids[key] = device_id
            if key not in self.dirty:
                self.records[key] = DeviceRecord(
                    key, source, name, model, manufacturer, location
                )
        self.metric_ids.update(conn.execute("SELECT name, id FROM metrics"))
        for label_id, *key in conn.execute(
            "SELECT id, source, name, location, unit FROM labels"
        ):
            self._label_ids[(key[0], key[1], key[2], key[3])] = label_id

    def forget_ids(self) -> None:
        """Drop every cached id (after a rollback or a new connection)."""
        self.metric_ids.clear()
        self.ids.clear()
        self._device_ids.clear()
        self._label_ids.clear()

    def note(self, record: DeviceRecord) -> None:
        """Take a new or changed device record; later readings carry its label."""
        key = record.device_key
        self.records[key] = record
        self.dirty[key] = record
        for stale in [ids for ids in self.ids if ids[0] == key]:
            del self.ids[stale]

    def record(self, device_key: str) -> DeviceRecord:
        """Return the current record of a device."""
        return self.records.get(device_key) or placeholder_record(device_key)

    def snapshot(self) -> tuple[dict[str, DeviceRecord], dict[str, DeviceRecord]]:
        """Return copies of the records, to undo notes of a failed batch."""
        return dict(self.records), dict(self.dirty)

    def restore(
        self, saved: tuple[dict[str, DeviceRecord], dict[str, DeviceRecord]]
    ) -> None:
        """Put back records saved by `snapshot()`."""
        self.records, self.dirty = dict(saved[0]), dict(saved[1])
        self.ids.clear()

    def resolve(
        self, conn: sqlite3.Connection, reading: Reading, now_ms: int
    ) -> tuple[int, int, int]:
        """Return (device id, metric id, label id) for a reading, creating rows.

        Raises TypeError for names that are not text, before they reach SQLite.
        """
        check_names(reading)
        key = reading.device_key
        ids = (
            self.device_id(conn, key, now_ms),
            self.metric_id(conn, reading.metric),
            self.label_id(conn, label_key(self.record(key), reading.unit)),
        )
        self.ids[(key, reading.metric, reading.unit)] = ids
        return ids

    def device_id(self, conn: sqlite3.Connection, device_key: str, now_ms: int) -> int:
        """Return the id of a device, creating its row from the current record."""
        if (device_id := self._device_ids.get(device_key)) is None:
            device_id = self._upsert(conn, self.record(device_key), now_ms)
        return device_id

    def label_id(self, conn: sqlite3.Connection, key: LabelKey) -> int:
        """Return the id of a label, creating it as needed."""
        if (label_id := self._label_ids.get(key)) is None:
            conn.execute(
                "INSERT INTO labels (source, name, location, unit) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                key,
            )
            label_id = conn.execute(
                "SELECT id FROM labels WHERE source = ? AND name = ? AND location = ? "
                "AND unit = ?",
                key,
            ).fetchone()[0]
            self._label_ids[key] = label_id
        return label_id

    def metric_id(self, conn: sqlite3.Connection, metric: str) -> int:
        """Return the id of a metric, creating it as needed."""
        if (metric_id := self.metric_ids.get(metric)) is None:
            conn.execute(
                "INSERT INTO metrics (name) VALUES (?) ON CONFLICT DO NOTHING",
                (metric,),
            )
            metric_id = conn.execute(
                "SELECT id FROM metrics WHERE name = ?", (metric,)
            ).fetchone()[0]
            self.metric_ids[metric] = metric_id
        return metric_id

    def write_dirty(self, conn: sqlite3.Connection, now_ms: int) -> None:
        """Write every noted record (inside the caller's transaction)."""
        for record in self.dirty.values():
            self._upsert(conn, record, now_ms)

    def committed(self) -> None:
        """Forget the dirty records: their transaction has committed."""
        self.dirty.clear()

    def _upsert(
        self, conn: sqlite3.Connection, record: DeviceRecord, now_ms: int
    ) -> int:
        device_id: int = conn.execute(
            _UPSERT_DEVICE,
            (record.device_key, record.source, record.name, record.model,
             record.manufacturer, record.location, now_ms, now_ms),
        ).fetchone()[0]  # fmt: skip
        self._device_ids[record.device_key] = device_id
        return device_id


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
type Slot = tuple[tuple[int, int, int], Callable[[float], None]]  # ids, list.append
BAD_READING = (TypeError, ValueError, AttributeError, OverflowError)
# Rows handed to one executemany call. Building them holds the GIL for about
# 0.3 ms; smaller chunks cost throughput, larger ones delay the event loop.
CHUNK_ROWS = 256
_VALUE_AT = (
    "SELECT value FROM readings WHERE device_id = ? AND metric_id = ? "
    "AND measured_at = ?"
)
_TAKEN_AFTER = (
    "SELECT measured_at, value FROM readings WHERE device_id = ? AND metric_id = ? "
    "AND measured_at > ? ORDER BY measured_at LIMIT ?"
)
_WALK = 64
_detail_json = partial(json.dumps, default=str, sort_keys=True)
# Whole numbers below this store as plain scaled integers without a search.
_SMALL = 2**49
MAINTAIN_ROLLUPS = True  # in the same transactions; the benchmark turns it off


@dataclass(slots=True)
class Tally:
    """What one batch did, filled in while its rows are produced."""

    offered: int = 0
    moved: int = 0
    rejected: int = 0
    example: str | None = None
    touched: set[int] = field(default_factory=set)
    events: list[EventItem] = field(default_factory=list)
    sums: Sums | None = None

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

    A chunk takes well under a millisecond to build; `executemany` then lets
    go of the GIL around every row it steps, so the event loop never waits long.
    Puts each value in its series' list in `tally.sums` (see `hour_sums`).
    """
    sums = Sums()
    tally.sums = sums if (keep := MAINTAIN_ROLLUPS) else None
    slots: dict[tuple[str, str, str | None], Slot] = {}
    low = high = BEFORE_ALL  # the hour readings are in (`sums.start`)
    touched, ids_of = tally.touched, catalog.ids
    rows: list[Row] = []
    append = rows.append
    for item in items:
        if isinstance(item, ReadingsItem):
            received = item.received_ms
            for reading in item.readings:
                try:
                    key = (reading.device_key, reading.metric, reading.unit)
                    if (slot := slots.get(key)) is None:
                        ids = ids_of.get(key) or catalog.resolve(conn, reading, now_ms)
                        slot = slots[key] = (ids, sums.put(ids))
                    ids = slot[0]
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
                except BAD_READING as err:
                    tally.reject(reading, err)
                    continue
                touched.add(ids[0])
                append((ids[0], ids[1], ms, stored, (received - ms) // 1000, ids[2]))
                if keep:
                    if ms >= high:
                        low, high = sums.start(ms)
                    if ms >= low:
                        slot[1](value)
                    else:
                        sums.strays.append((ids[0], ids[1], ms, value))
                if len(rows) >= CHUNK_ROWS:
                    tally.offered += len(rows)
                    yield rows
                    rows = []
                    append = rows.append
        elif isinstance(item, DeviceItem):
            catalog.note(item.record)
            slots.clear()  # the device's label ids change
        else:
            tally.events.append(item)
    tally.offered += len(rows)
    yield rows


type RowSource = Callable[[sqlite3.Connection, int, Tally], Iterator[list[Row]]]

_TOUCH_DEVICE = "UPDATE devices SET last_seen = ?, active = 1 WHERE id = ?"


def write_rows(
    conn: sqlite3.Connection,
    catalog: Catalog,
    source: RowSource,
    *,
    events: list[EventItem],
    max_events: int,
    now_ms: int,
) -> tuple[Tally, int]:
    """Insert rows, device updates, events and rollups; return (tally, new readings)."""
    tally = Tally()
    inserted = 0
    hours = Touched() if MAINTAIN_ROLLUPS else None
    for rows in source(conn, now_ms, tally):
        new, moved = insert_rows(conn, rows, hours)
        if hours is not None and (tally.sums is None or new != len(rows) or moved):
            hours.note(rows)  # recompute what the sums may have wrong
        inserted += new
        tally.moved += moved
    if hours is not None:
        refresh(conn, hours, tally.sums)
    catalog.write_dirty(conn, now_ms)
    if tally.touched:
        conn.executemany(_TOUCH_DEVICE, [(now_ms, device) for device in tally.touched])
    if all_events := events + tally.events:
        insert_events(conn, all_events, max_events)
    return tally, inserted


def insert_rows(
    conn: sqlite3.Connection, rows: list[Row], hours: Touched | None = None
) -> tuple[int, int]:
    """Insert rows; return how many were new and how many of those were moved.

    The same value at a taken (device, metric, time) key is a repeat, ignored. A
    different value goes to the next free millisecond (`_move`), noted in `hours`.
    """
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
    if inserted == len(rows):
        return inserted, 0
    moved = 0
    for row in rows:
        (stored,) = conn.execute(_VALUE_AT, row[:3]).fetchone()
        if stored != row[3] and (at := _move(conn, row)) is not None:
            moved += 1
            if hours is not None:
                hours.note([(row[0], row[1], at)])
    return inserted + moved, moved


def _move(conn: sqlite3.Connection, row: Row) -> int | None:
    """Store a row whose key holds another value at the next free millisecond.

    Walks the taken milliseconds after the key; the same value on the way means it
    was moved there before (a replay). Returns where it was stored, None if not.
    """
    device, metric, at, value = row[:4]
    while True:
        taken = conn.execute(_TAKEN_AFTER, (device, metric, at, _WALK)).fetchall()
        for when, stored in taken:
            if when != at + 1:
                break
            if stored == value:
                return None
            at = when
        else:
            if len(taken) == _WALK:
                continue
        break
    conn.execute(INSERT_READING, (device, metric, at + 1, value, *row[4:]))
    return at + 1


def insert_events(
    conn: sqlite3.Connection, events: Iterable[EventItem], max_rows: int
) -> None:
    """Insert events, then drop the oldest past `max_rows`."""
    conn.executemany(
        "INSERT INTO events (at, kind, source, detail) VALUES (?, ?, ?, ?)",
        [(e.at_ms, e.kind, e.source, _detail_json(dict(e.detail))) for e in events],
    )
    conn.execute(
        "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?", (max_rows,)
    )
