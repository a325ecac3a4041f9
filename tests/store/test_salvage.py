"""A damaged file: what can be read is salvaged into the new one, the rest counted."""

from datetime import timedelta
from pathlib import Path
import random
import sqlite3

import pytest

from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.store import HistoryStore
from custom_components.home_monitor.store.salvage import salvage
from custom_components.home_monitor.store.schema import open_database

from .conftest import StoreFactory
from .helpers import T0, event_kinds, scalar

PAGE = 4096
INDEX_LEAF, INDEX_INTERIOR = 0x0A, 0x02


def _home_readings(count: int) -> list[Reading]:
    """Return `count` readings of 20 series (5 devices, 4 metrics), a minute apart."""
    metrics = (Metric.TEMPERATURE, Metric.HUMIDITY, Metric.ILLUMINANCE, Metric.BATTERY)
    return [
        Reading(
            f"hue:bridge:{i % 5}",
            metrics[i // 5 % 4],
            round(20 + (i % 997) / 10, 1),
            "x",
            T0 + timedelta(minutes=i // 20),
        )
        for i in range(count)
    ]


def _written(make_store: StoreFactory, path: Path, readings: list[Reading]) -> bytes:
    store = make_store()
    for number in range(5):
        store.upsert_device(
            DeviceRecord(f"hue:bridge:{number}", "hue", f"Sensor {number}", "SML001")
        )
    for start in range(0, len(readings), 10_000):
        store.enqueue(readings[start : start + 10_000])
    store.record_event("retry", "hue", {"endpoint": "/sensors"})
    store.close(60)
    return path.read_bytes()


def _pages_of(data: bytes, kind: int) -> list[int]:
    """Return the numbers of the pages of `kind` that hold readings (six columns)."""
    found = []
    for number in range(2, len(data) // PAGE + 1):
        page = data[(number - 1) * PAGE : number * PAGE]
        if page[0] == kind and int.from_bytes(page[3:5], "big") > 0:
            found.append(number)
    return found


def _check(store: HistoryStore, readings: list[Reading], share: float) -> int:
    """Check that what was salvaged is what was written, and enough of it."""
    assert store.flush(10)  # the corruption event is in the file too
    status = store.status()
    rows = store.reader.readings(limit=len(readings) + 1)
    written = {(r.device_key, str(r.metric), r.measured_at): r.value for r in readings}
    for row in rows:
        assert written[(row.device_key, row.metric, row.measured_at)] == row.value
    assert {row.name for row in rows} <= {f"Sensor {n}" for n in range(5)}
    assert len(rows) >= share * len(readings)
    assert status.readings_salvaged == len(rows)
    assert len(status.moved_aside) == 1
    (event,) = store.reader.events(kind="corruption")
    assert event.detail["readings_salvaged"] == len(rows)
    assert event.detail["readings_lost"] == status.readings_lost
    return len(rows)


def test_one_bad_leaf_page_in_100000_readings_loses_only_that_page(
    make_store: StoreFactory, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    readings = _home_readings(100_000)
    data = bytearray(_written(make_store, db_path, readings))
    leaves = _pages_of(data, INDEX_LEAF)
    bad = leaves[len(leaves) // 2]
    data[(bad - 1) * PAGE : bad * PAGE] = random.Random(1).randbytes(PAGE)
    db_path.write_bytes(bytes(data))
    store = make_store()
    kept = _check(store, readings, 0.9)
    per_page = len(readings) / len(leaves)
    assert kept >= len(readings) - 2 * per_page
    assert 0 < store.status().readings_lost < 2 * per_page
    assert (
        f"started a new one with the {kept} readings that could be read" in caplog.text
    )
    # The events and devices came across too; the damaged file is kept as it was.
    assert "retry" in event_kinds(db_path)
    assert store.status().moved_aside[0].read_bytes() == bytes(data)


def test_a_bad_interior_page_loses_only_the_readings_on_it(
    make_store: StoreFactory, db_path: Path
) -> None:
    readings = _home_readings(30_000)
    data = bytearray(_written(make_store, db_path, readings))
    (root, *_) = _pages_of(data, INDEX_INTERIOR)
    data[(root - 1) * PAGE : root * PAGE] = bytes(PAGE)
    db_path.write_bytes(bytes(data))
    store = make_store()
    assert _check(store, readings, 0.99) < len(readings)


def test_a_truncated_file_keeps_the_pages_before_the_cut(
    make_store: StoreFactory, db_path: Path
) -> None:
    readings = _home_readings(20_000)
    data = _written(make_store, db_path, readings)
    db_path.write_bytes(data[: len(data) * 6 // 10])
    store = make_store()
    kept = _check(store, readings, 0.4)
    assert kept < len(readings)
    assert store.status().readings_lost >= (len(readings) - kept) // 2


def test_a_zeroed_header_loses_nothing(make_store: StoreFactory, db_path: Path) -> None:
    readings = _home_readings(20_000)
    data = bytearray(_written(make_store, db_path, readings))
    data[:100] = bytes(100)
    db_path.write_bytes(bytes(data))
    store = make_store()
    assert _check(store, readings, 1.0) == len(readings)
    assert store.status().readings_lost == 0


def test_garbage_pages_lose_only_their_readings(
    make_store: StoreFactory, db_path: Path
) -> None:
    readings = _home_readings(50_000)
    data = bytearray(_written(make_store, db_path, readings))
    rng = random.Random(7)
    pages = len(data) // PAGE
    for number in rng.sample(range(3, pages + 1), 5):
        data[(number - 1) * PAGE : number * PAGE] = rng.randbytes(PAGE)
    db_path.write_bytes(bytes(data))
    store = make_store()
    kept = _check(store, readings, 0.95)
    assert store.status().readings_lost >= (len(readings) - kept) // 2


def test_readings_only_in_the_wal_are_salvaged_too(
    make_store: StoreFactory, db_path: Path, tmp_path: Path
) -> None:
    readings = _home_readings(5_000)
    _written(make_store, db_path, readings[:2_000])
    store = make_store()
    store.enqueue(readings[2_000:])
    assert store.flush(10)
    # Copied while the store runs, as a kill would leave it: 3,000 readings
    # are only in the WAL.
    damaged = tmp_path / "damaged.db"
    data = bytearray(db_path.read_bytes())
    data[:100] = bytes(100)
    damaged.write_bytes(bytes(data))
    Path(f"{damaged}-wal").write_bytes(Path(f"{db_path}-wal").read_bytes())
    assert Path(f"{damaged}-wal").stat().st_size > 0
    store.close(10)
    fresh = open_database(tmp_path / "new.db").conn
    try:
        found = salvage(damaged, fresh)
        count = fresh.execute("SELECT count(*) FROM readings").fetchone()[0]
    finally:
        fresh.close()
    assert found.readings == count == 5_000
    assert found.lost == 0


def test_the_new_file_is_sound(make_store: StoreFactory, db_path: Path) -> None:
    readings = _home_readings(5_000)
    data = bytearray(_written(make_store, db_path, readings))
    data[:100] = bytes(100)
    db_path.write_bytes(bytes(data))
    store = make_store()
    store.enqueue(_home_readings(5_100)[5_000:])
    assert store.flush(10)
    store.close(10)
    assert scalar(db_path, "PRAGMA integrity_check") == "ok"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM readings").fetchone()[0] == 5_100


def test_readings_whose_device_is_lost_are_counted_lost(
    make_store: StoreFactory, db_path: Path
) -> None:
    readings = _home_readings(10_000)
    data = bytearray(_written(make_store, db_path, readings))
    (devices,) = [
        number
        for number in range(2, len(data) // PAGE + 1)
        if data[(number - 1) * PAGE] == 0x0D
        and b"hue:bridge:" in data[(number - 1) * PAGE : number * PAGE]
    ]
    data[(devices - 1) * PAGE : devices * PAGE] = bytes(PAGE)
    db_path.write_bytes(bytes(data))
    store = make_store()
    assert store.flush(10)
    status = store.status()
    assert status.readings_salvaged == 0 == store.reader.count()
    assert status.readings_lost >= len(readings)
    (event,) = store.reader.events(kind="corruption")
    assert event.detail["readings_lost"] == status.readings_lost
