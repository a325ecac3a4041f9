"""Renames in the store: labels at the time, and history rewrites that resume after a stop."""

from pathlib import Path
import threading
import time

import pytest

from custom_components.home_monitor.models import DeviceRecord, Metric
from custom_components.home_monitor.store import StoreSettings, relabel
from custom_components.home_monitor.store.records import StoreStatus

from .conftest import StoreFactory
from .environment import impatient_locks
from .helpers import DEVICE, T0, event_kinds, hold_exclusive_lock, make_readings, scalar

OTHER = "hue:bridge1:sensor2"
# Quotes, an emoji and right-to-left text are stored exactly.
NEW_NAME = 'Kitchen "north" 🌡️ מטבח'


def _labels(store_rows: list) -> set[tuple[str, str | None, str | None]]:
    return {(row.name, row.location, row.unit) for row in store_rows}


def test_rename_keeps_the_labels_readings_were_taken_under(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor", location="Hall"))
    store.enqueue(make_readings(10))
    assert store.flush(10)

    ticket = store.rename_device(DEVICE, NEW_NAME, "Kitchen")
    assert ticket.wait(10)
    assert (ticket.ok, ticket.relabelled) == (True, 0)
    store.enqueue(make_readings(5, start=T0.replace(year=2027)))
    assert store.flush(10)

    rows = store.reader.readings(limit=100)
    assert [(row.name, row.location) for row in rows] == [
        ("Hall sensor", "Hall")
    ] * 10 + [(NEW_NAME, "Kitchen")] * 5
    assert {(row.current_name, row.current_location) for row in rows} == {
        (NEW_NAME, "Kitchen")
    }
    (device,) = store.reader.devices()
    assert (device.name, device.location) == (NEW_NAME, "Kitchen")


def test_rewrite_relabels_every_past_reading_of_the_device(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor", location="Hall"))
    store.upsert_device(DeviceRecord(OTHER, "hue", "Stairs", location="Hall"))
    store.enqueue(make_readings(3000))
    store.enqueue(make_readings(500, metric=Metric.BATTERY, unit="%"))
    store.enqueue(make_readings(200, device=OTHER))
    assert store.flush(10)

    ticket = store.rename_device(DEVICE, NEW_NAME, None, rewrite=True, total=3500)
    assert ticket.wait(30)
    assert (ticket.ok, ticket.relabelled) == (True, 3500)

    mine = store.reader.readings(DEVICE, limit=10_000)
    assert len(mine) == 3500
    assert _labels(mine) == {(NEW_NAME, None, "°C"), (NEW_NAME, None, "%")}
    # Another device's readings keep their labels.
    assert _labels(store.reader.readings(OTHER, limit=10_000)) == {
        ("Stairs", "Hall", "°C")
    }
    status = store.status()
    assert (status.relabel_pending, status.readings_relabelled) == (0, 3500)
    assert scalar(db_path, "SELECT count(*) FROM relabel_jobs") == 0
    assert "relabelled" in event_kinds(db_path)

    # Rewriting again to the same name changes nothing.
    again = store.rename_device(DEVICE, NEW_NAME, None, rewrite=True, total=3500)
    assert again.wait(30)
    assert (again.ok, again.relabelled) == (True, 0)


def _wait_for(check: object, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_rewrite_stopped_half_way_goes_on_at_the_next_open(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 10_000
    first = make_store()
    first.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor", location="Hall"))
    first.enqueue(make_readings(count))
    assert first.flush(10)
    first.close(10)

    # Tiny steps, so the stop comes while the rewrite is under way.
    monkeypatch.setattr(relabel, "FIRST_STEP_ROWS", 10)
    monkeypatch.setattr(relabel, "MAX_STEP_ROWS", 10)
    store = make_store()
    ticket = store.rename_device(DEVICE, NEW_NAME, "Kitchen", rewrite=True, total=count)
    _wait_for(lambda: store.status().readings_relabelled > 0)
    assert store.status().relabel_pending > 0
    store.close(10)
    assert ticket.done.is_set()  # released at the stop
    assert not ticket.ok
    done = scalar(db_path, "SELECT done FROM relabel_jobs")
    assert isinstance(done, int)
    assert 0 < done < count
    assert (
        0
        < scalar(
            db_path,
            "SELECT count(*) FROM readings JOIN labels ON labels.id = label_id "
            "WHERE labels.name = ?",
            NEW_NAME,
        )
        < count
    )

    monkeypatch.undo()
    again = make_store()
    _wait_for(lambda: scalar(db_path, "SELECT count(*) FROM relabel_jobs") == 0)
    rows = again.reader.readings(limit=2 * count)
    assert _labels(rows) == {(NEW_NAME, "Kitchen", "°C")}
    assert again.status().relabel_pending == 0
    assert again.status().readings_relabelled == count - done


def test_progress_is_a_status_figure(make_store: StoreFactory) -> None:
    status = make_store(StoreSettings()).status()
    assert isinstance(status, StoreStatus)
    assert (status.relabel_pending, status.readings_relabelled) == (0, 0)
    assert {"relabel_pending", "readings_relabelled"} <= set(status.as_dict())


def test_a_rename_that_meets_a_locked_file_is_applied_once_it_is_free(
    make_store: StoreFactory, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    impatient_locks(monkeypatch, attempts=2)
    store = make_store()
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor", location="Hall"))
    store.enqueue(make_readings(2000))
    assert store.flush(10)

    taken = threading.Event()
    holder = hold_exclusive_lock(db_path, 0.5, taken)
    ticket = store.rename_device(DEVICE, NEW_NAME, "Kitchen", rewrite=True, total=2000)
    assert not ticket.wait(0.2)  # the file is locked
    holder.join()
    assert ticket.wait(30)
    assert (ticket.ok, ticket.relabelled) == (True, 2000)
    assert _labels(store.reader.readings(limit=5000)) == {(NEW_NAME, "Kitchen", "°C")}
    assert store.status().lock_exhaustions > 0


def test_a_rename_without_rewrite_during_a_rewrite_keeps_its_readings(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relabel, "FIRST_STEP_ROWS", 10)
    monkeypatch.setattr(relabel, "MAX_STEP_ROWS", 10)
    store = make_store()
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor", location="Hall"))
    store.enqueue(make_readings(3000))
    assert store.flush(10)

    rewrite = store.rename_device(
        DEVICE, "Kitchen", "Kitchen", rewrite=True, total=3000
    )
    _wait_for(lambda: store.status().readings_relabelled > 0)
    assert store.rename_device(DEVICE, "Pantry", "Kitchen").wait(10)
    later = T0.replace(year=2027)
    store.enqueue(make_readings(50, start=later))
    assert rewrite.wait(60)
    assert rewrite.relabelled == 3000
    assert store.flush(10)

    rows = store.reader.readings(limit=5000)
    assert {(row.name, row.location) for row in rows if row.measured_at < later} == {
        ("Kitchen", "Kitchen")
    }
    assert {(row.name, row.location) for row in rows if row.measured_at >= later} == {
        ("Pantry", "Kitchen")
    }
    assert {row.current_name for row in rows} == {"Pantry"}
