"""Salvage of a damaged history file: every readable row copied into a new one.

SQLite refuses a file whose header, schema or any b-tree page on the way to
the rows is damaged. So the file is read page by page instead, in SQLite's
own format (https://www.sqlite.org/fileformat2.html), and every page that
holds rows (table leaves; index pages, whose interior cells are rows too) is
decoded on its own: one bad page costs only the rows on it. Pages committed
to the WAL but not yet copied back into the file are read from the WAL. Rows
of each table are told apart by the shape of their records (readings are the
only index rows with six columns). Pages on the freelist hold deleted rows
and are skipped when the header still says where the freelist is.

Runs on the writer thread while the store opens; never on the event loop.
"""

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
import io
from pathlib import Path
import sqlite3
import struct
from typing import Any, BinaryIO

_MAGIC = b"SQLite format 3\x00"
_WAL_MAGIC = (0x377F0682, 0x377F0683)
_PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
_INDEX_INTERIOR, _TABLE_INTERIOR, _INDEX_LEAF, _TABLE_LEAF = 0x02, 0x05, 0x0A, 0x0D
_BTREE_PAGES = (_INDEX_INTERIOR, _TABLE_INTERIOR, _INDEX_LEAF, _TABLE_LEAF)
_U16, _U32 = struct.Struct(">H"), struct.Struct(">I")
_INT_SIZES = (0, 1, 2, 3, 4, 6, 8)
# Plausible reading times: 1970 to 2200, in milliseconds.
_MAX_MS = 7_258_118_400_000
_TXN_ROWS = 50_000

type Value = int | float | str | bytes | None
_READING_SHAPES = ((int, int, int, int, int, int), (int, int, int, float, int, int))


@dataclass(slots=True)
class Salvaged:
    """What was found in a damaged file and copied into the new one."""

    readings: int = 0
    lost: int = 0
    pages: int = 0
    bad_pages: int = 0
    devices: dict[int, tuple[Value, ...]] = field(default_factory=dict)
    metrics: dict[int, tuple[Value, ...]] = field(default_factory=dict)
    labels: dict[int, tuple[Value, ...]] = field(default_factory=dict)
    events: dict[int, tuple[Value, ...]] = field(default_factory=dict)
    rows: list[tuple[Value, ...]] = field(default_factory=list)

    def as_detail(self) -> dict[str, int]:
        """Return the figures for the log, the events table and the status."""
        return {
            "readings_salvaged": self.readings,
            "readings_lost": self.lost,
            "pages": self.pages,
            "bad_pages": self.bad_pages,
        }


def salvage(damaged: Path, conn: sqlite3.Connection) -> Salvaged:
    """Copy every readable row of the `damaged` file into the empty file of `conn`.

    `readings_lost` is an estimate: the unreadable pages times the readings a
    readings page holds on average.
    """
    found = Salvaged()
    wal = _wal_frames(Path(f"{damaged}-wal"))
    with damaged.open("rb") as file, contextlib.closing(wal[2] or io.BytesIO()):
        head = file.read(100)
        size = _page_size(file, head, wal[0])
        file.seek(0, 2)
        count = max(file.tell() // size, max(wal[1], default=0))
        if head.startswith(_MAGIC):
            count = max(count, _U32.unpack_from(head, 28)[0])
        free = _freelist(file, head, size) if head.startswith(_MAGIC) else set()
        readings_pages = decoded = 0
        for number in range(1, count + 1):
            page = _page(file, wal, number, size)
            if number in free or _is_pointer_map(number, size):
                continue
            found.pages += 1
            if page is None or not _is_btree_page(page, number):
                found.bad_pages += 1
                continue
            before = len(found.rows)
            _collect(page, number, size, found)
            readings_pages += len(found.rows) > before
            decoded += len(found.rows) - before
            if len(found.rows) >= _TXN_ROWS:
                _write_readings(conn, found)  # memory stays bounded
    _write_readings(conn, found)
    # Without a readable readings page, assume pages as full as ours are.
    per_page = decoded / readings_pages if readings_pages else size / 22
    found.lost = round(found.bad_pages * per_page)
    _copy(conn, found)
    return found


def _wal_frames(path: Path) -> tuple[int, dict[int, int], BinaryIO | None]:
    """Return the WAL's page size and the offset of each page's last committed frame."""
    try:
        file = path.open("rb")
    except OSError:
        return 0, {}, None
    head = file.read(32)
    if len(head) < 32 or _U32.unpack_from(head, 0)[0] not in _WAL_MAGIC:
        file.close()
        return 0, {}, None
    size = _U32.unpack_from(head, 8)[0]
    committed: dict[int, int] = {}
    pending: dict[int, int] = {}
    offset = 32
    while len(frame := file.read(24)) == 24 and frame[8:16] == head[16:24]:
        number, commit = struct.unpack_from(">II", frame)
        pending[number] = offset + 24
        offset += 24 + size
        file.seek(offset)
        if commit:
            committed.update(pending)
            pending.clear()
    return size, committed, file


def _page(
    file: BinaryIO,
    wal: tuple[int, dict[int, int], BinaryIO | None],
    number: int,
    size: int,
) -> bytes | None:
    wal_size, frames, wal_file = wal
    if wal_file is not None and wal_size == size and number in frames:
        wal_file.seek(frames[number])
        data = wal_file.read(size)
    else:
        file.seek((number - 1) * size)
        data = file.read(size)
    return data if len(data) == size else None


def _page_size(file: BinaryIO, head: bytes, wal_size: int) -> int:
    """Return the page size from the header, the WAL, or the likeliest layout."""
    if head.startswith(_MAGIC):
        size = _U16.unpack_from(head, 16)[0]
        size = 65536 if size == 1 else size
        if size in _PAGE_SIZES:
            return size
    if wal_size in _PAGE_SIZES:
        return wal_size

    def share(size: int) -> float:
        """Return the share of page starts that look like b-tree pages."""
        pages = checked = 0
        for number in range(2, 66):
            file.seek((number - 1) * size)
            if len(page := file.read(size)) < size:
                break
            checked += 1
            pages += _is_btree_page(page, number)
        return pages / checked if checked else 0.0

    # A multiple of the real size also lands on page starts only: take the
    # smallest size that does about as well as the best.
    shares = {size: share(size) for size in sorted(_PAGE_SIZES)}
    best = max(shares.values())
    return next((s for s, v in shares.items() if best and v >= 0.9 * best), 4096)


def _freelist(file: BinaryIO, head: bytes, size: int) -> set[int]:
    """Return the free pages the header points to (deleted rows live there)."""
    free: set[int] = set()
    trunk, total = _U32.unpack_from(head, 32)[0], _U32.unpack_from(head, 36)[0]
    while trunk and trunk not in free and len(free) <= total:
        free.add(trunk)
        file.seek((trunk - 1) * size)
        page = file.read(size)
        if len(page) < 8:
            break
        trunk, leaves = _U32.unpack_from(page, 0)[0], _U32.unpack_from(page, 4)[0]
        leaves = min(leaves, size // 4 - 2)
        free.update(struct.unpack_from(f">{leaves}I", page, 8))
    return free


def _is_pointer_map(number: int, size: int) -> bool:
    """Return whether an auto-vacuum file keeps a pointer map on this page."""
    return number >= 2 and (number - 2) % (size // 5 + 1) == 0


def _is_btree_page(page: bytes, number: int) -> bool:
    start = 100 if number == 1 else 0
    if len(page) < start + 8 or page[start] not in _BTREE_PAGES:
        return False
    header = 8 if page[start] in (_INDEX_LEAF, _TABLE_LEAF) else 12
    cells = _U16.unpack_from(page, start + 3)[0]
    pointers = start + header + 2 * cells
    return pointers <= len(page) and all(
        pointers <= _U16.unpack_from(page, start + header + 2 * i)[0] < len(page)
        for i in range(cells)
    )


def _collect(page: bytes, number: int, size: int, found: Salvaged) -> None:
    """Decode the rows of one leaf page into `found`, by the shape of each record."""
    start = 100 if number == 1 else 0
    kind = page[start]
    if kind not in (_INDEX_INTERIOR, _INDEX_LEAF, _TABLE_LEAF):
        return  # interior pages of tables hold only keys
    local_max = size - 35 if kind == _TABLE_LEAF else (size - 12) * 64 // 255 - 23
    header = 12 if kind == _INDEX_INTERIOR else 8
    for index in range(_U16.unpack_from(page, start + 3)[0]):
        pointer = _U16.unpack_from(page, start + header + 2 * index)[0]
        pointer += 4 if kind == _INDEX_INTERIOR else 0  # the left child's number
        try:
            length, pointer = _varint(page, pointer)
            rowid = 0
            if kind == _TABLE_LEAF:
                rowid, pointer = _varint(page, pointer)
            if length > local_max or pointer + length > len(page):
                continue  # spills onto overflow pages: not worth the risk
            record = tuple(_record(page[pointer : pointer + length]))
        except IndexError, ValueError, struct.error:
            continue
        _sort(record, rowid, kind, found)


def _sort(record: tuple[Value, ...], rowid: int, kind: int, found: Salvaged) -> None:
    shape = tuple(type(value) for value in record)
    if kind != _TABLE_LEAF:
        if len(record) == 6 and shape in _READING_SHAPES:
            device, metric, at, _value, _delay, label = record
            assert isinstance(at, int)  # noqa: S101 - the shape says so
            if 0 < at < _MAX_MS and device and metric and label:
                found.rows.append(record)
        return
    if record and record[0] is not None:
        return  # every table of ours has an integer primary key, stored as NULL
    if len(record) == 2 and shape[1] is str:
        found.metrics[rowid] = record[1:]
    elif len(record) == 5 and shape[1:] == (str,) * 4:
        found.labels[rowid] = record[1:]
    elif len(record) == 5 and shape[1:] == (int, str, str, str):
        found.events[rowid] = record[1:]
    elif (
        # 9 to 12 columns: schema 1, plus the maker (2), removed and seen times (3).
        9 <= len(record) <= 12 and shape[1:4] == (str,) * 3 and shape[6:9] == (int,) * 3
    ):
        found.devices[rowid] = (*record, None)[1:10]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for index in range(9):
        byte = data[pos + index]
        if index == 8:
            return (value << 8) | byte, pos + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + index + 1
    raise ValueError("bad varint")  # pragma: no cover - the loop always returns


def _record(payload: bytes) -> Iterator[Value]:
    header_end, pos = _varint(payload, 0)
    types = []
    while pos < header_end:
        serial, pos = _varint(payload, pos)
        types.append(serial)
    body = header_end
    for serial in types:
        if serial in (8, 9):
            yield serial - 8
        elif 1 <= serial <= 6:
            width = _INT_SIZES[serial]
            yield int.from_bytes(payload[body : body + width], "big", signed=True)
            body += width
        elif serial == 7:
            yield struct.unpack_from(">d", payload, body)[0]
            body += 8
        elif serial >= 12:
            width = (serial - 12) // 2
            chunk = payload[body : body + width]
            yield chunk.decode() if serial % 2 else bytes(chunk)
            body += width
        elif serial == 0:
            yield None
        else:
            raise ValueError("reserved serial type")
    if body != len(payload):
        raise ValueError("record does not fill its cell")


def _copy(conn: sqlite3.Connection, found: Salvaged) -> None:
    """Write devices, metrics, labels and events; drop readings without them."""
    inserts: list[tuple[str, Any]] = [
        (
            (
                "INSERT OR IGNORE INTO devices (id, device_key, source, name, model, "
                "location, first_seen, last_seen, active, manufacturer) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            [(key, *row) for key, row in found.devices.items()],
        ),
        (
            "INSERT OR IGNORE INTO metrics (id, name) VALUES (?, ?)",
            [(key, *row) for key, row in found.metrics.items()],
        ),
        (
            (
                "INSERT OR IGNORE INTO labels (id, source, name, location, unit) "
                "VALUES (?, ?, ?, ?, ?)"
            ),
            [(key, *row) for key, row in found.labels.items()],
        ),
        (
            "INSERT INTO events (at, kind, source, detail) VALUES (?, ?, ?, ?)",
            [row for _, row in sorted(found.events.items())],
        ),
    ]
    with _transaction(conn):
        for sql, rows in inserts:
            conn.executemany(sql, rows)
        orphans: int = conn.execute(
            "DELETE FROM readings WHERE device_id NOT IN (SELECT id FROM devices) "
            "OR metric_id NOT IN (SELECT id FROM metrics) "
            "OR label_id NOT IN (SELECT id FROM labels)"
        ).rowcount
    found.readings -= orphans
    found.lost += orphans


def _write_readings(conn: sqlite3.Connection, found: Salvaged) -> None:
    """Insert the readings decoded so far (the same key twice is kept once)."""
    with _transaction(conn):
        cursor = conn.executemany(
            "INSERT OR IGNORE INTO readings VALUES (?, ?, ?, ?, ?, ?)", found.rows
        )
    found.readings += max(0, cursor.rowcount)
    found.rows.clear()


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
