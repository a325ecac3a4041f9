"""Locks, full disks, read-only and vanished files: delay, spool, recover, lose nothing."""

from datetime import timedelta
import math
from pathlib import Path
import threading
import time

import pytest

from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.store import StoreSettings, database

from .conftest import StoreFactory
from .environment import (
    honour_permissions,
    impatient_locks,
    limited_disk,
    read_only_file,
)
from .helpers import (
    DEVICE,
    T0,
    event_kinds,
    expected_keys,
    hold_exclusive_lock,
    make_readings,
    stored_keys,
)


def test_a_lock_held_for_seconds_delays_but_loses_nothing(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    taken = threading.Event()
    holder = hold_exclusive_lock(db_path, 3.0, taken)
    readings = make_readings(2000)
    started = time.monotonic()
    for start in range(0, 2000, 100):
        store.enqueue(readings[start : start + 100])
    assert store.flush(30)
    waited = time.monotonic() - started
    holder.join()
    assert waited >= 2.5
    status = store.status()
    assert status.lock_retries >= 1
    assert status.lock_exhaustions == 0
    assert status.spooled == 0
    assert stored_keys(db_path) == expected_keys(readings)
    assert "lock_retry" in event_kinds(db_path)


def test_retries_exhausted_keep_the_readings_until_the_lock_goes(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    impatient_locks(monkeypatch, attempts=2)
    store = make_store()
    taken = threading.Event()
    holder = hold_exclusive_lock(db_path, 1.0, taken)
    readings = make_readings(500)
    store.enqueue(readings)
    assert not store.flush(5)
    status = store.status()
    assert status.lock_exhaustions >= 1
    assert status.spooled == 500
    assert status.writable
    assert "stayed locked through 2 attempts" in caplog.text
    holder.join()
    assert store.flush(10)
    assert store.status().spooled == 0
    assert stored_keys(db_path) == expected_keys(readings)
    kinds = event_kinds(db_path)
    assert "lock_exhausted" in kinds
    assert "lock_retry" in kinds


def test_a_full_disk_spools_then_recovers_with_each_reading_once(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    limit = limited_disk(monkeypatch)
    limit.pages = 40
    store = make_store()
    assert store.status().writable
    readings = make_readings(20_000)
    for start in range(0, 20_000, 1000):
        store.enqueue(readings[start : start + 1000])
    assert not store.flush(10)
    status = store.status()
    assert not status.writable
    assert status.spooled > 0
    assert "SQLITE_FULL" in (status.last_error or "")
    assert "cannot be written" in caplog.text
    # Every reading sent again while the disk is full: still stored once.
    store.enqueue(readings[:5000])
    assert not store.flush(5)
    limit.pages = None
    assert store.flush(20)
    status = store.status()
    assert status.writable
    assert status.spooled == 0
    assert stored_keys(db_path) == expected_keys(readings)
    assert "is writable again" in caplog.text
    kinds = event_kinds(db_path)
    assert kinds.index("unwritable") < kinds.index("recovered")


def test_a_read_only_file_spools_then_recovers(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_writable = honour_permissions(monkeypatch)
    first = make_store()
    before = make_readings(100)
    first.upsert_device(DeviceRecord(DEVICE, "hue", "Hall", location="Hall"))
    first.enqueue(before)
    first.close(5)
    set_writable(db_path, False)

    store = make_store()
    assert not store.status().writable
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Landing", location="Upstairs"))
    during = make_readings(300, start=T0 + timedelta(days=1))
    store.enqueue(during)
    store.enqueue(before[:50])
    assert not store.flush(5)
    assert store.status().spooled == 350
    assert "SQLITE_READONLY" in (store.status().last_error or "")
    set_writable(db_path, True)
    assert store.flush(10)
    assert store.status().writable
    assert stored_keys(db_path) == expected_keys(before + during)
    rows = store.reader.readings(limit=1000)
    assert {(row.name, row.location) for row in rows[:100]} == {("Hall", "Hall")}
    assert {(row.name, row.location) for row in rows[100:]} == {("Landing", "Upstairs")}
    (device,) = store.reader.devices()
    assert device.name == "Landing"


def test_a_vanished_file_is_recreated(
    make_store: StoreFactory, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store()
    store.enqueue(make_readings(10))
    assert store.flush(5)
    assert len(store.reader.readings()) == 10
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    later = make_readings(20, start=T0 + timedelta(days=2))
    store.enqueue(later)
    assert store.flush(10)
    assert db_path.exists()
    assert "vanished or was replaced" in caplog.text
    assert store.status().writable
    assert stored_keys(db_path) == expected_keys(later)
    assert [row.measured_at for row in store.reader.readings()] == [
        r.measured_at for r in later
    ]


def test_spool_overflow_is_counted_and_reported(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_writable = read_only_file(make_store, db_path, monkeypatch)
    store = make_store(StoreSettings(spool_max_readings=1000))
    readings = make_readings(1500)
    store.enqueue(readings[:1200])
    store.enqueue([Reading(DEVICE, Metric.HUMIDITY, math.nan, "%", T0)])
    store.enqueue([Reading(DEVICE, Metric.HUMIDITY, 1.0, object(), T0)])  # type: ignore[arg-type]
    assert not store.flush(5)
    store.enqueue(readings[1200:])
    assert not store.flush(5)
    status = store.status()
    assert status.spooled == 1000
    assert status.spool_overflow == 500
    assert status.readings_rejected == 2
    assert caplog.text.count("History spool is full (1000 readings)") == 1
    set_writable(db_path, True)
    assert store.flush(10)
    # The oldest were dropped, the newest kept.
    assert stored_keys(db_path) == expected_keys(readings[500:])
    assert "spool_overflow" in event_kinds(db_path)


def test_a_spool_saved_at_stop_is_replayed_at_start(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_writable = read_only_file(make_store, db_path, monkeypatch)
    store = make_store()
    store.upsert_device(
        DeviceRecord(DEVICE, "hue", "Kitchen sensor", location="Kitchen")
    )
    store.record_event("retry", "hue", {"endpoint": "/sensors"})
    readings = make_readings(800)
    store.enqueue(readings)
    store.close(10)
    spool_file = db_path.with_name("history.db.spool")
    assert spool_file.exists()
    assert store.status().spool_saved == 800
    assert "Saved 800 readings" in caplog.text

    set_writable(db_path, True)
    replayed = make_store()
    assert replayed.flush(10)
    assert not spool_file.exists()
    assert replayed.status().spool_replayed == 800
    assert stored_keys(db_path) == expected_keys(readings)
    rows = replayed.reader.readings(limit=1)
    assert (rows[0].name, rows[0].location) == ("Kitchen sensor", "Kitchen")
    kinds = [event.kind for event in replayed.reader.events()]
    assert "retry" in kinds
    assert "spool_replayed" in kinds


def test_a_damaged_spool_file_is_moved_aside(
    make_store: StoreFactory, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    spool_file = db_path.with_name("history.db.spool")
    spool_file.write_bytes(b"HMSPOOL1garbage")
    store = make_store()
    assert store.flush(5)
    assert not spool_file.exists()
    assert list(db_path.parent.glob("history.db.spool.bad-*"))
    assert "is damaged" in caplog.text
    assert [event.kind for event in store.reader.events()] == ["spool_damaged"]


def test_a_spool_that_cannot_go_beside_the_file_goes_to_the_temp_dir(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    private_temp_dir: Path,
) -> None:
    set_writable = read_only_file(make_store, db_path, monkeypatch)
    store = make_store()
    readings = make_readings(10)
    store.enqueue(readings)
    # A directory where the spool file should go: neither the reserve nor a
    # new file can be saved there.
    db_path.with_name("history.db.spool").mkdir()
    store.close(5)
    status = store.status()
    assert status.spool_saved == 10
    assert status.spool_saved_to is not None
    assert status.spool_saved_to.parent == private_temp_dir
    assert status.readings_at_risk == 0
    assert (
        f"Saved 10 readings the history database did not take to {private_temp_dir}"
        in caplog.text
    )
    db_path.with_name("history.db.spool").rmdir()
    set_writable(db_path, True)
    replayed = make_store()
    assert replayed.flush(10)
    assert replayed.status().spool_replayed == 10
    assert stored_keys(db_path) == expected_keys(readings)
    assert not list(private_temp_dir.iterdir())


def test_an_unsaveable_spool_is_reported_lost(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    private_temp_dir: Path,
) -> None:
    read_only_file(make_store, db_path, monkeypatch)
    store = make_store()
    store.enqueue(make_readings(10))
    db_path.with_name("history.db.spool").mkdir()
    private_temp_dir.rmdir()
    store.close(5)
    status = store.status()
    assert status.readings_dropped == 10
    assert status.readings_at_risk == 10
    assert status.spool_saved_to is None
    assert "Could not save 10 unwritten readings" in caplog.text


def test_space_for_the_spool_is_reserved_at_open(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store(StoreSettings(spool_max_readings=1000))
    reserve = db_path.with_name("history.db.spool-reserve")
    assert reserve.stat().st_blocks * 512 >= 1000 * 26
    status = store.status()
    assert status.spool_reserved == 1000
    assert status.readings_at_risk == 0
    store.apply_settings(StoreSettings(spool_max_readings=2000))
    assert store.maintain(5)
    assert store.status().spool_reserved == 2000
    store.close(5)
    assert not reserve.exists()  # given back at a stop with nothing to save


def test_readings_no_reserve_covers_are_at_risk(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    read_only_file(make_store, db_path, monkeypatch)
    reserve = db_path.with_name("history.db.spool-reserve")
    reserve.mkdir()  # the reserve cannot be made
    store = make_store()
    store.enqueue(make_readings(10))
    assert not store.flush(2)
    status = store.status()
    assert status.spool_reserved == 0
    assert status.readings_at_risk == 10
    assert (
        "Space for only 0 of 500000 spooled readings could be reserved" in caplog.text
    )


def test_a_spool_saved_without_readings_is_written_once(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_writable = read_only_file(make_store, db_path, monkeypatch)
    store = make_store()
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Kitchen sensor"))
    store.record_event("retry", "hue", {"endpoint": "/sensors"})
    store.close(5)
    spool_file = db_path.with_name("history.db.spool")
    assert spool_file.exists()
    set_writable(db_path, True)
    for _ in range(2):
        again = make_store()
        assert again.flush(5)
        again.close(5)
    assert not spool_file.exists()
    assert event_kinds(db_path).count("retry") == 1
    (device,) = again.reader.devices()
    assert device.name == "Kitchen sensor"


def test_an_unopenable_location_starts_degraded(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store = make_store(path=blocker / "history.db")
    status = store.status()
    assert status.open
    assert not status.writable
    store.enqueue(make_readings(3))
    for number in range(database.PENDING_EVENTS_MAX + 100):
        store.record_event("retry", "hue", {"n": number})
    assert not store.flush(2)
    status = store.status()
    assert status.spooled == 3
    assert "FileExistsError" in (status.last_error or "")
    assert status.events_dropped == 101  # the "unwritable" event went first


def test_a_saved_spool_larger_than_the_bound_is_trimmed(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_writable = read_only_file(make_store, db_path, monkeypatch)
    store = make_store()
    readings = make_readings(800)
    store.enqueue(readings)
    store.close(10)
    set_writable(db_path, True)
    smaller = make_store(StoreSettings(spool_max_readings=500))
    assert smaller.flush(10)
    status = smaller.status()
    assert status.spool_overflow == 300
    assert status.spool_replayed == 500
    assert stored_keys(db_path) == expected_keys(readings[300:])


def test_a_rename_in_a_refused_batch_keeps_labels_at_the_time(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    impatient_locks(monkeypatch, attempts=1)
    store = make_store()
    taken = threading.Event()
    holder = hold_exclusive_lock(db_path, 1.0, taken)
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall"))
    store.enqueue(make_readings(5))
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Porch"))
    store.enqueue(make_readings(5, start=T0 + timedelta(hours=1)))
    assert not store.flush(5)
    assert store.status().lock_exhaustions >= 1
    holder.join()
    assert store.flush(10)
    names = [row.name for row in store.reader.readings(limit=20)]
    assert names == ["Hall"] * 5 + ["Porch"] * 5
