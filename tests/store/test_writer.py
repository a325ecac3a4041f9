"""Writing readings, devices and events through the facade."""

from dataclasses import replace
from datetime import datetime, timedelta
import logging
import math
from pathlib import Path
import time

import pytest

from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.store import StoreSettings, writer as writer_module
from custom_components.home_monitor.store.schema import LATEST_VERSION

from .conftest import StoreFactory
from .helpers import (
    DEVICE,
    T0,
    database,
    expected_keys,
    make_readings,
    reading_count,
    stored_keys,
)


def test_readings_are_committed_and_read_back(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    readings = make_readings(500)
    store.enqueue(readings)
    assert store.flush(10)
    assert stored_keys(db_path) == expected_keys(readings)
    rows = store.reader.readings(DEVICE, Metric.TEMPERATURE, limit=1000)
    assert [row.value for row in rows] == [r.value for r in readings]
    assert [row.measured_at for row in rows] == [r.measured_at for r in readings]
    status = store.status()
    assert status.readings_written == 500
    assert status.queued == 0
    assert status.writable
    assert status.last_commit_at is not None
    assert status.db_size_bytes > 0


def test_same_reading_twice_is_stored_once(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    readings = make_readings(100)
    store.enqueue(readings)
    store.enqueue(readings[:60])
    assert store.flush(10)
    store.enqueue(readings[40:])
    assert store.flush(10)
    assert reading_count(db_path) == 100
    status = store.status()
    assert status.readings_written == 100
    assert status.readings_duplicate == 120


def test_bad_readings_are_skipped_and_logged(
    make_store: StoreFactory, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store()
    good = make_readings(3)
    bad = [
        Reading(DEVICE, Metric.HUMIDITY, math.nan, "%", T0),
        Reading(DEVICE, Metric.HUMIDITY, math.inf, "%", T0),
        Reading(DEVICE, Metric.HUMIDITY, 40.0, "%", datetime(2026, 1, 1)),  # noqa: DTZ001
        Reading(DEVICE, Metric.HUMIDITY, "40", "%", T0),  # type: ignore[arg-type]
        Reading(DEVICE, Metric.HUMIDITY, 40.0, object(), T0),  # type: ignore[arg-type]
        Reading(None, Metric.HUMIDITY, 40.0, "%", T0),  # type: ignore[arg-type]
        Reading(DEVICE, 7, 40.0, "%", T0),  # type: ignore[arg-type]
        Reading(DEVICE, Metric.HUMIDITY, 40.0, ["%"], T0),  # type: ignore[arg-type]
    ]
    with caplog.at_level(logging.WARNING):
        store.enqueue([*good[:2], *bad, good[2]])
        assert store.flush(10)
    assert reading_count(db_path) == 3
    assert store.status().readings_rejected == 8
    assert store.status().writable
    assert "Skipped 8 readings that cannot be stored" in caplog.text


def test_empty_enqueue_is_a_no_op(make_store: StoreFactory) -> None:
    store = make_store()
    store.enqueue([])
    store.enqueue(iter(()))
    assert store.status().queued == 0
    assert store.flush(5)


def test_generator_input_is_taken_at_once(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    store.enqueue(reading for reading in make_readings(10))
    assert store.flush(5)
    assert reading_count(db_path) == 10


def test_readings_carry_the_device_name_at_the_time(make_store: StoreFactory) -> None:
    store = make_store()
    first = make_readings(3)
    later = make_readings(3, start=T0 + timedelta(hours=1))
    store.upsert_device(
        DeviceRecord(DEVICE, "hue", "Hall sensor", "SML001", "Signify", "Hall")
    )
    store.enqueue(first)
    store.upsert_device(
        DeviceRecord(DEVICE, "hue", "Porch sensor", "SML001", "Signify", "Porch")
    )
    store.enqueue(later)
    assert store.flush(5)
    rows = store.reader.readings(DEVICE, limit=10)
    assert [(row.name, row.location) for row in rows] == [
        ("Hall sensor", "Hall")
    ] * 3 + [("Porch sensor", "Porch")] * 3
    (device,) = store.reader.devices()
    assert (device.name, device.location, device.model, device.manufacturer) == (
        "Porch sensor",
        "Porch",
        "SML001",
        "Signify",
    )
    assert device.active
    assert device.first_seen <= device.last_seen


def test_a_device_known_only_from_readings_gets_a_placeholder(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    store.enqueue(make_readings(1, device="amazon:abc:G123"))
    store.enqueue(make_readings(1, device="plain-key"))
    assert store.flush(5)
    devices = {device.device_key: device for device in store.reader.devices()}
    assert devices["amazon:abc:G123"].source == "amazon"
    assert devices["amazon:abc:G123"].name == "amazon:abc:G123"
    assert devices["plain-key"].source == "plain-key"


def test_events_are_stored_with_their_detail(make_store: StoreFactory) -> None:
    store = make_store()
    store.record_event(
        "retry", "hue", {"endpoint": "/sensors", "attempt": 2, "when": T0}
    )
    assert store.flush(5)
    (event,) = store.reader.events()
    assert (event.kind, event.source) == ("retry", "hue")
    assert event.detail == {"endpoint": "/sensors", "attempt": 2, "when": str(T0)}
    assert store.reader.events(kind="other") == []


def test_status_is_a_snapshot_without_sqlite(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store(opened=False)
    status = store.status()
    assert status.path == db_path
    assert not status.open
    store.open()
    store.open()  # a second open is harmless
    status = store.status()
    assert status.open
    assert status.wal
    assert status.journal_mode == "wal"
    assert status.schema_version == LATEST_VERSION
    data = status.as_dict()
    assert data["path"] == str(db_path)
    assert data["moved_aside"] == []


def test_flush_before_open_reports_pending_work(make_store: StoreFactory) -> None:
    store = make_store(opened=False)
    assert store.flush(0.1)
    store.enqueue(make_readings(2))
    assert not store.flush(0.1)
    assert store.status().queued == 2
    store.open()
    assert store.flush(5)
    assert store.status().readings_written == 2


def test_close_writes_what_is_queued(make_store: StoreFactory, db_path: Path) -> None:
    store = make_store()
    store.enqueue(make_readings(50))
    store.close(10)
    assert reading_count(db_path) == 50
    status = store.status()
    assert not status.open
    assert status.wal_size_bytes == 0
    assert not Path(f"{db_path}-wal").exists()


def test_enqueue_after_close_is_counted_and_logged(
    make_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store()
    store.close(5)
    store.enqueue(make_readings(4))
    assert store.status().readings_dropped == 4
    assert "History store is closed; 4 readings not stored" in caplog.text
    assert not store.maintain(1)


def test_a_reading_waits_at_most_about_a_second(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    store.enqueue(make_readings(1))
    deadline = time.monotonic() + 3
    while store.status().readings_written == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reading_count(db_path) == 1


def test_large_batches_split_into_several_transactions(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "TXN_READINGS", 1000)
    store = make_store(opened=False)
    for start in range(0, 5000, 500):
        store.enqueue(make_readings(500, start=T0 + timedelta(minutes=start)))
    store.open()
    assert store.flush(20)
    assert reading_count(db_path) == 5000
    assert store.status().batches >= 5


def test_settings_can_change_before_open(make_store: StoreFactory) -> None:
    store = make_store(opened=False)
    store.apply_settings(StoreSettings(retention_days=5))
    store.open()
    assert store.settings.retention_days == 5


def test_settings_apply_while_running(make_store: StoreFactory) -> None:
    store = make_store(StoreSettings(spool_max_readings=100))
    new = replace(store.settings, spool_max_readings=200, retention_days=30)
    store.apply_settings(new)
    assert store.settings is new
    assert store.maintain(5)


def test_idle_writer_truncates_the_wal(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "IDLE_CHECKPOINT_S", 0.2)
    store = make_store()
    store.enqueue(make_readings(200))
    assert store.flush(5)
    assert Path(f"{db_path}-wal").stat().st_size > 0
    deadline = time.monotonic() + 5
    while Path(f"{db_path}-wal").stat().st_size and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Path(f"{db_path}-wal").stat().st_size == 0
    assert store.status().wal_size_bytes == 0
    with database(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM readings").fetchone()[0] == 200


def test_nothing_is_queued_after_close(make_store: StoreFactory) -> None:
    store = make_store()
    store.close(5)
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall"))
    store.record_event("retry", "hue", {})
    assert store.status().queued == 0
    assert store.flush(0.1)  # nothing waits for a writer that is gone


def test_a_different_value_at_a_taken_time_moves_to_the_next_free_millisecond(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    first = Reading(DEVICE, Metric.TEMPERATURE, 20.5, "°C", T0)
    second = replace(first, value=21.0)
    third = replace(first, value=21.5)
    later = replace(first, value=22.0, measured_at=T0 + timedelta(milliseconds=1))
    store.enqueue([first, second])
    store.enqueue([later])
    assert store.flush(5)
    store.enqueue([third])
    assert store.flush(5)
    rows = store.reader.readings(DEVICE, limit=10)
    assert [(row.value, row.measured_at - T0) for row in rows] == [
        (20.5, timedelta(0)),
        (22.0, timedelta(milliseconds=1)),  # its own time, written in the same batch
        (21.0, timedelta(milliseconds=2)),
        (21.5, timedelta(milliseconds=3)),
    ]
    status = store.status()
    assert status.readings_moved == 2
    assert status.readings_duplicate == 0
    # Replays stay idempotent: every value already stored is stored once.
    store.enqueue([first, second, third, later])
    assert store.flush(5)
    assert reading_count(db_path) == 4
    status = store.status()
    assert status.readings_moved == 2
    assert status.readings_duplicate == 4
