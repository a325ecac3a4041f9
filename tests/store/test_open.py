"""Opening the file: WAL, fallback, integrity, migrations."""

from pathlib import Path
import sqlite3

import pytest

from custom_components.home_monitor.models import DeviceRecord
from custom_components.home_monitor.store import SchemaTooNewError
from custom_components.home_monitor.store.schema import LATEST_VERSION, migrate

from .conftest import StoreFactory
from .environment import without_shared_memory
from .helpers import DEVICE, database, event_kinds, make_readings, reading_count, scalar


def _written_file(make_store: StoreFactory, path: Path, readings: int) -> bytearray:
    """Write readings through a store, close it, return the file's bytes."""
    store = make_store()
    store.enqueue(make_readings(readings))
    store.close(10)
    return bytearray(path.read_bytes())


def test_wal_is_on_after_open(make_store: StoreFactory, db_path: Path) -> None:
    store = make_store()
    assert store.status().wal
    assert scalar(db_path, "PRAGMA journal_mode") == "wal"
    assert scalar(db_path, "PRAGMA auto_vacuum") == 2  # incremental
    assert scalar(db_path, "PRAGMA user_version") == LATEST_VERSION


def test_refused_wal_falls_back_to_a_rollback_journal(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    without_shared_memory(monkeypatch)
    store = make_store()
    status = store.status()
    assert not status.wal
    assert status.journal_mode == "delete"
    assert "cannot use WAL here" in caplog.text
    readings = make_readings(300)
    store.enqueue(readings)
    assert store.flush(10)
    assert len(store.reader.readings(limit=1000)) == 300
    store.close(5)
    assert scalar(db_path, "PRAGMA journal_mode") == "delete"
    assert reading_count(db_path) == 300
    assert "wal_unavailable" in event_kinds(db_path)


def test_a_file_that_is_not_a_database_is_moved_aside(
    make_store: StoreFactory, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not SQLite" * 500)
    store = make_store()
    (moved,) = store.status().moved_aside
    assert moved.name.startswith("history.db.corrupt-")
    assert moved.read_bytes().startswith(b"this is not SQLite")
    assert "is damaged" in caplog.text
    store.enqueue(make_readings(10))
    assert store.flush(5)
    store.close(5)
    assert reading_count(db_path) == 10
    assert "corruption" in event_kinds(db_path)


def test_damaged_pages_fail_the_quick_check_and_the_file_is_moved_aside(
    make_store: StoreFactory, db_path: Path
) -> None:
    data = _written_file(make_store, db_path, 5000)
    page_size = 4096
    # Scramble the b-tree pages after the schema page, keeping the header intact.
    for page in range(2, len(data) // page_size):
        start = page * page_size
        data[start : start + 64] = bytes(range(64))
    db_path.write_bytes(bytes(data))
    reopened = make_store()
    (moved,) = reopened.status().moved_aside
    assert moved.read_bytes() == bytes(data)  # kept for the user as it was
    assert reopened.reader.count() == 0  # every page that held readings is gone
    assert reopened.status().readings_lost > 4000
    assert scalar(db_path, "PRAGMA quick_check") == "ok"


def test_a_file_from_a_newer_version_is_left_alone(
    make_store: StoreFactory, db_path: Path
) -> None:
    db_path.parent.mkdir(parents=True)
    with database(db_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    store = make_store(opened=False)
    with pytest.raises(SchemaTooNewError, match="schema version 99"):
        store.open()
    assert scalar(db_path, "PRAGMA user_version") == 99
    assert store.status().moved_aside == ()


def test_a_file_of_the_first_schema_is_upgraded(
    make_store: StoreFactory, db_path: Path
) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path, isolation_level=None)
    migrate(conn, target=1)
    conn.execute(
        "INSERT INTO devices (device_key, source, name, model, location, first_seen, "
        "last_seen) VALUES (?, 'hue', 'Old name', 'SML001', 'Hall', 1, 2)",
        (DEVICE,),
    )
    conn.execute("INSERT INTO metrics (name) VALUES ('temperature')")
    conn.execute(
        "INSERT INTO labels (source, name, location, unit) VALUES ('hue', 'Old name', 'Hall', '°C')"
    )
    conn.execute("INSERT INTO readings VALUES (1, 1, 1767225600000, 21552, 3, 1)")
    conn.execute(
        "INSERT INTO events (at, kind, source, detail) VALUES (5, 'x', 'y', '{}')"
    )
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()

    store = make_store()
    assert store.status().schema_version == LATEST_VERSION
    (row,) = store.reader.readings(DEVICE)
    assert (row.value, row.unit, row.name, row.location) == (
        21.55,
        "°C",
        "Old name",
        "Hall",
    )
    assert row.received_delay == 3
    store.upsert_device(
        DeviceRecord(DEVICE, "hue", "New name", "SML001", "Signify", "Hall")
    )
    store.enqueue(make_readings(2))
    assert store.flush(5)
    (device,) = store.reader.devices()
    assert device.manufacturer == "Signify"
    store.close(5)
    assert scalar(db_path, "PRAGMA user_version") == LATEST_VERSION
    assert "migrated" in event_kinds(db_path)
    with database(db_path) as conn:
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(events)")}
    assert "events_at" in indexes


def test_a_quick_check_finding_is_moved_aside(
    make_store: StoreFactory, db_path: Path
) -> None:
    data = _written_file(make_store, db_path, 3000)
    data[36:40] = (999).to_bytes(4, "big")  # the header's free-page count, now wrong
    db_path.write_bytes(bytes(data))
    reopened = make_store()
    assert reopened.flush(5)
    (moved,) = reopened.status().moved_aside
    assert moved.exists()
    assert reopened.reader.count() == 3000  # every page is readable
    (event,) = reopened.reader.events(kind="corruption")
    assert "Freelist" in event.detail["error"]
    assert event.detail["readings_salvaged"] == 3000


def test_a_failed_migration_leaves_the_file_at_its_version(
    make_store: StoreFactory, db_path: Path
) -> None:
    db_path.parent.mkdir(parents=True)
    with database(db_path) as conn:
        migrate(conn, target=1)
        conn.execute(
            "CREATE INDEX events_at ON events (kind)"
        )  # in the way of migration 2
    store = make_store()
    status = store.status()
    assert not status.writable
    assert "already exists" in (status.last_error or "")
    store.close(5)
    assert scalar(db_path, "PRAGMA user_version") == 1
    with database(db_path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(devices)")}
    assert "manufacturer" not in columns
