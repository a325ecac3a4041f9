"""Many producers, a reader and purges at once; nothing SQLite on the event loop."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
import threading

import pytest

from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.store import HistoryStore, StoreSettings
from tests.sqlite_guard import VIOLATIONS, SQLiteOnEventLoopError

from .helpers import expected_keys, make_readings, reading_count, stored_keys

THREADS = 4
PER_THREAD = 6000
FROM_LOOP = 4000


def _series(
    name: str, count: int, now: datetime
) -> tuple[list[Reading], list[Reading]]:
    """Return (readings past a 30-day retention, readings within it)."""
    old = make_readings(count // 2, device=name, start=now - timedelta(days=90))
    new = make_readings(count - count // 2, device=name, start=now - timedelta(days=5))
    return old, new


async def test_producers_reader_and_purge_together(db_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store = HistoryStore(db_path, StoreSettings(retention_days=30))
    await asyncio.to_thread(store.open)
    kept: list[Reading] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def produce(number: int) -> None:
        old, new = _series(f"hue:b:{number}", PER_THREAD, now)
        mixed = [reading for pair in zip(old, new, strict=True) for reading in pair]
        for start in range(0, len(mixed), 250):
            store.enqueue(mixed[start : start + 250])
            store.upsert_device(
                DeviceRecord(f"hue:b:{number}", "hue", f"Sensor {start}")
            )

    def read() -> None:
        while not done.is_set():
            try:
                store.reader.readings(limit=50)
                store.reader.readings(
                    "hue:b:0", Metric.TEMPERATURE, now - timedelta(days=6)
                )
                store.reader.count()
                store.reader.devices()
            except BaseException as err:  # noqa: BLE001 - collected for the assertion
                errors.append(err)
                return

    def purge() -> None:
        while not done.is_set():
            if not store.maintain(30):
                errors.append(AssertionError("maintenance failed"))
                return

    for number in range(THREADS):
        kept += (await asyncio.to_thread(_series, f"hue:b:{number}", PER_THREAD, now))[
            1
        ]
    loop_old, loop_new = await asyncio.to_thread(_series, "amazon:a:G1", FROM_LOOP, now)
    kept += loop_new
    helpers = [threading.Thread(target=read), threading.Thread(target=purge)]
    producers = [threading.Thread(target=produce, args=(n,)) for n in range(THREADS)]
    for thread in helpers + producers:
        thread.start()
    for start in range(0, len(loop_old), 200):
        store.enqueue(loop_old[start : start + 200])
        store.enqueue(loop_new[start : start + 200])
        store.record_event("retry", "amazon", {"attempt": start})
        await asyncio.sleep(0)
    await asyncio.to_thread(lambda: [thread.join() for thread in producers])
    assert await asyncio.to_thread(store.flush, 30)
    done.set()
    await asyncio.to_thread(lambda: [thread.join() for thread in helpers])
    assert await asyncio.to_thread(store.maintain, 30)
    status = store.status()
    await asyncio.to_thread(store.close, 10)

    assert errors == []
    assert await asyncio.to_thread(reading_count, db_path) == len(kept)
    assert await asyncio.to_thread(stored_keys, db_path) == expected_keys(kept)
    assert (
        status.readings_written
        == THREADS * PER_THREAD + FROM_LOOP - status.readings_duplicate
    )
    assert status.purged >= (THREADS * PER_THREAD + FROM_LOOP) // 2
    assert status.spooled == 0
    assert status.lock_exhaustions == 0


async def test_the_event_loop_never_touches_sqlite(db_path: Path) -> None:
    """Everything callable from the loop runs there; the guard stays silent."""
    store = HistoryStore(db_path, StoreSettings())
    await asyncio.to_thread(store.open)
    store.enqueue(make_readings(100))
    store.upsert_device(DeviceRecord("hue:b:1", "hue", "Hall"))
    store.record_event("retry", "hue", {})
    store.apply_settings(StoreSettings(retention_days=3650))
    assert store.status().open
    assert await asyncio.to_thread(store.flush, 10)
    rows = await asyncio.to_thread(store.reader.readings)
    assert len(rows) == 100
    await asyncio.to_thread(store.close, 10)
    assert VIOLATIONS == []


async def test_the_guard_catches_sqlite_on_the_event_loop(db_path: Path) -> None:
    """The guard itself works: a query made on the loop thread fails the test."""
    store = HistoryStore(db_path, StoreSettings())
    await asyncio.to_thread(store.open)
    try:
        with pytest.raises(SQLiteOnEventLoopError):
            store.reader.readings()
        assert VIOLATIONS == ["sqlite3.connect"]
    finally:
        VIOLATIONS.clear()  # expected here; any other test would fail at teardown
        await asyncio.to_thread(store.close, 10)
