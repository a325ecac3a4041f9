"""A history file written by the release before the device registry is migrated in place."""

from pathlib import Path
import sqlite3

from custom_components.home_monitor.store.records import encode_value
from custom_components.home_monitor.store.schema import (
    LATEST_VERSION,
    migrate,
    schema_version,
)

from .conftest import StoreFactory
from .helpers import DEVICE, T0, event_kinds, scalar

# The schema of the release before devices had a life cycle and renames could
# rewrite history.
RELEASED_VERSION = 2
T0_MS = int(T0.timestamp() * 1000)


def _write_released_file(path: Path) -> None:
    """Write a file the way that release did: its migrations, then its rows."""
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, RELEASED_VERSION)
    assert schema_version(conn) == RELEASED_VERSION
    conn.execute("BEGIN")
    conn.execute("INSERT INTO metrics (id, name) VALUES (1, 'temperature')")
    conn.execute(
        "INSERT INTO devices (id, device_key, source, name, model, location, "
        "first_seen, last_seen, active, manufacturer) "
        "VALUES (7, ?, 'hue', 'Hall sensor', 'SML001', 'Hall', ?, ?, 1, 'Signify')",
        (DEVICE, T0_MS, T0_MS),
    )
    conn.execute(
        "INSERT INTO labels (id, source, name, location, unit) "
        "VALUES (3, 'hue', 'Hall sensor', 'Hall', '°C')"
    )
    conn.execute(
        "INSERT INTO events (at, kind, source, detail) VALUES (?, 'purge', 'store', '{}')",
        (T0_MS,),
    )
    conn.execute("COMMIT")
    conn.executemany(
        "INSERT INTO readings VALUES (7, 1, ?, ?, 2, 3)",
        [(T0_MS + i * 60_000, encode_value(20 + i / 10)) for i in range(100)],
    )
    conn.close()


def test_a_released_file_is_migrated_in_place(
    make_store: StoreFactory, db_path: Path
) -> None:
    _write_released_file(db_path)

    store = make_store()
    assert store.flush(10)
    assert store.status().schema_version == LATEST_VERSION
    assert scalar(db_path, "PRAGMA user_version") == LATEST_VERSION
    assert "migrated" in event_kinds(db_path)

    (device,) = store.reader.devices()
    assert (device.name, device.location, device.model, device.manufacturer) == (
        "Hall sensor",
        "Hall",
        "SML001",
        "Signify",
    )
    # Its readings stop in January 2026: unseen for more than 30 days.
    assert (device.active, device.removed) == (False, False)
    rows = store.reader.readings(limit=1000)
    assert len(rows) == 100
    assert rows[0].value == 20.0
    assert (rows[0].name, rows[0].current_name) == ("Hall sensor", "Hall sensor")
    (summary,) = store.reader.device_summaries()
    assert (summary.id, summary.readings) == (7, 100)
    assert summary.last_reading_at is not None
    assert int(summary.last_reading_at.timestamp() * 1000) == T0_MS + 99 * 60_000

    # The migrated file takes renames that rewrite its history.
    ticket = store.rename_device(DEVICE, "Porch", "Outside", rewrite=True, total=100)
    assert ticket.wait(30)
    assert ticket.relabelled == 100
    assert {(row.name, row.location) for row in store.reader.readings(limit=1000)} == {
        ("Porch", "Outside")
    }
    assert scalar(db_path, "SELECT id FROM devices WHERE device_key = ?", DEVICE) == 7
