"""Bounded disk: retention, size budget, events, WAL."""

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import threading

import pytest

from custom_components.home_monitor.models import Metric
from custom_components.home_monitor.store import StoreSettings, maintenance
from custom_components.home_monitor.store.schema import migrate

from .conftest import StoreFactory
from .environment import impatient_locks
from .helpers import (
    DEVICE,
    database,
    hold_exclusive_lock,
    make_readings,
    reading_count,
    scalar,
)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_retention_removes_only_readings_past_it(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store(StoreSettings(retention_days=7))
    old = make_readings(300, start=_now() - timedelta(days=20))
    recent = make_readings(200, start=_now() - timedelta(days=2))
    other = make_readings(
        100,
        device="amazon:acct:G1",
        metric=Metric.PM25,
        start=_now() - timedelta(days=9),
    )
    store.enqueue([*old, *recent, *other])
    assert store.flush(10)
    assert store.maintain(10)
    assert reading_count(db_path) == 200
    assert {row.measured_at for row in store.reader.readings(limit=1000)} == {
        r.measured_at for r in recent
    }
    status = store.status()
    assert status.purged == 400
    assert status.last_purge_at is not None
    (purge,) = store.reader.events(kind="purge")
    assert purge.detail["retention_rows"] == 400


def test_a_long_purge_hands_back_to_the_writer_between_steps(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maintenance, "PURGE_BATCH", 100)
    monkeypatch.setattr(maintenance, "ROWS_PER_RUN", 700)
    store = make_store()
    store.enqueue(make_readings(3000, start=_now() - timedelta(days=40)))
    store.enqueue(make_readings(50, start=_now() - timedelta(hours=1)))
    assert store.flush(10)
    store.apply_settings(StoreSettings(retention_days=30))
    assert store.maintain(20)
    assert reading_count(db_path) == 50


def test_the_size_budget_keeps_the_file_under_it(
    make_store: StoreFactory, db_path: Path
) -> None:
    budget = 400_000
    store = make_store(StoreSettings(size_budget_bytes=budget))
    start = _now() - timedelta(days=60)
    readings = [
        *make_readings(30_000, start=start, step=timedelta(minutes=2)),
        *make_readings(
            30_000,
            device="amazon:acct:G1",
            metric=Metric.PM10,
            start=start,
            step=timedelta(minutes=2),
            unit="µg/m³",
        ),
    ]
    store.enqueue(readings)
    assert store.flush(20)
    assert store.status().db_size_bytes + store.status().wal_size_bytes > budget
    assert store.maintain(30)
    assert db_path.stat().st_size <= budget
    assert store.status().db_size_bytes <= budget
    kept = reading_count(db_path)
    assert 0 < kept < 60_000
    # The oldest went first: what is left is the newest of each series.
    for device in (DEVICE, "amazon:acct:G1"):
        times = [row.measured_at for row in store.reader.readings(device, limit=60_000)]
        assert times[-1] == start + timedelta(minutes=2 * 29_999)
        assert times == sorted(times)
        assert times[0] > start
    (purge,) = store.reader.events(kind="purge")
    assert purge.detail["budget_rows"] == 60_000 - kept
    assert purge.detail["reclaimed_pages"] > 0
    # Still under budget after more readings and another pass.
    store.enqueue(
        make_readings(
            10_000, start=_now() - timedelta(days=1), step=timedelta(seconds=5)
        )
    )
    assert store.flush(10)
    assert store.maintain(30)
    assert db_path.stat().st_size <= budget


def test_events_stay_bounded_by_count_and_age(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store(StoreSettings(events_max_rows=50, events_max_age_days=30))
    for number in range(120):
        store.record_event("retry", "hue", {"n": number})
        if number % 40 == 39:
            assert store.flush(5)
            assert scalar(db_path, "SELECT count(*) FROM events") == min(number + 1, 50)
    newest = [event.detail["n"] for event in store.reader.events(limit=100)]
    assert newest == list(range(119, 69, -1))
    old = int((_now() - timedelta(days=45)).timestamp() * 1000)
    with database(db_path) as conn:
        conn.execute("DELETE FROM events")
        conn.executemany(
            "INSERT INTO events (at, kind, source, detail) VALUES (?, 'old', 'test', ?)",
            [(old, json.dumps({})) for _ in range(10)],
        )
    store.record_event("fresh", "test", {})
    assert store.maintain(5)
    kinds = {event.kind for event in store.reader.events()}
    assert "old" not in kinds
    assert "fresh" in kinds


def test_a_pass_with_nothing_to_do_changes_nothing(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store(StoreSettings(retention_days=3650))
    store.enqueue(make_readings(100, start=_now() - timedelta(days=1)))
    assert store.flush(5)
    assert store.maintain(5)
    assert reading_count(db_path) == 100
    assert store.status().purged == 0
    assert store.reader.events(kind="purge") == []
    assert Path(f"{db_path}-wal").stat().st_size == 0


def test_maintenance_waits_while_the_database_refuses_writes(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = make_store(path=blocker / "history.db")
    assert not store.maintain(2)


@pytest.mark.parametrize(
    "settings",
    [
        StoreSettings(retention_days=30),
        StoreSettings(size_budget_bytes=100_000),
        StoreSettings(),
    ],
    ids=["retention", "budget", "events"],
)
def test_a_locked_file_postpones_maintenance(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: StoreSettings,
) -> None:
    impatient_locks(monkeypatch, attempts=1)
    store = make_store(settings)
    store.enqueue(make_readings(10_000, start=_now() - timedelta(days=60)))
    assert store.flush(10)
    taken = threading.Event()
    holder = hold_exclusive_lock(db_path, 1.0, taken)
    assert not store.maintain(5)
    holder.join()
    assert store.maintain(10)
    assert store.status().lock_exhaustions >= 1
    if settings.retention_days or settings.size_budget_bytes < 1_000_000:
        assert reading_count(db_path) < 10_000


def test_a_budget_below_an_empty_file_purges_everything(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store(StoreSettings(size_budget_bytes=1))
    store.enqueue(make_readings(2000))
    assert store.flush(5)
    assert store.maintain(10)
    assert reading_count(db_path) == 0
    assert store.status().purged == 2000


def test_a_file_without_incremental_vacuum_is_still_purged(
    make_store: StoreFactory, db_path: Path
) -> None:
    db_path.parent.mkdir(parents=True)
    with database(db_path) as conn:
        migrate(conn, target=1)  # an old file: no incremental auto-vacuum
    store = make_store(StoreSettings(size_budget_bytes=200_000))
    store.enqueue(make_readings(30_000, start=_now() - timedelta(days=30)))
    assert store.flush(10)
    assert store.maintain(20)
    assert 0 < reading_count(db_path) < 30_000
    assert scalar(db_path, "PRAGMA auto_vacuum") == 0
    (purge,) = store.reader.events(kind="purge")
    assert "reclaimed_pages" not in purge.detail
