"""Device life cycle in the store: inactive when unseen, active when seen, removed marks."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from custom_components.home_monitor.models import DeviceRecord
from custom_components.home_monitor.store import (
    StoredDevice,
    StoreSettings,
    history_store,
    lifecycle,
)
from custom_components.home_monitor.store.database import wall_ms

from .conftest import StoreFactory
from .helpers import DEVICE, T0, make_readings, reading_count, scalar

OTHER = "hue:bridge1:sensor2"
DAY_MS = 86_400_000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Let the test move the store's wall clock on by whole days."""
    offset = [0]

    def now() -> int:
        return wall_ms() + offset[0]

    monkeypatch.setattr(lifecycle, "wall_ms", now)
    monkeypatch.setattr(history_store, "wall_ms", now)

    def advance(days: int) -> None:
        offset[0] += days * DAY_MS

    return advance


def _devices(store: history_store.HistoryStore) -> dict[str, StoredDevice]:
    assert store.flush(10)
    return {device.device_key: device for device in store.reader.devices()}


@pytest.mark.parametrize(("inactive_days", "inactive"), [(30, True), (60, False)])
def test_devices_unseen_for_the_set_days_become_inactive(
    make_store: StoreFactory,
    clock: Callable[[int], None],
    inactive_days: int,
    inactive: bool,
) -> None:
    store = make_store(StoreSettings(inactive_days=inactive_days))
    for key in (DEVICE, OTHER):
        store.upsert_device(DeviceRecord(key, "hue", key))
        store.enqueue(make_readings(3, device=key))
    assert all(device.active for device in _devices(store).values())

    clock(31)
    # OTHER reports again; DEVICE is only renamed in Home Assistant, which is
    # not its source seeing it.
    store.enqueue(make_readings(1, device=OTHER, start=T0 + timedelta(days=31)))
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Renamed"))
    devices = _devices(store)
    assert devices[OTHER].active
    assert devices[DEVICE].active is not inactive
    assert devices[DEVICE].name == "Renamed"
    summaries = {s.device.device_key: s for s in store.reader.device_summaries()}
    assert summaries[DEVICE].readings == 3  # its history is kept
    assert summaries[DEVICE].device.active is not inactive

    # Seen again: active again.
    store.enqueue(make_readings(1, device=DEVICE, start=T0 + timedelta(days=31)))
    assert _devices(store)[DEVICE].active


def test_a_device_without_readings_is_judged_by_its_record(
    make_store: StoreFactory, clock: Callable[[int], None]
) -> None:
    store = make_store()
    store.upsert_device(DeviceRecord("hue:bridge1", "hue", "Bridge"))
    assert _devices(store)["hue:bridge1"].active
    clock(31)
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Sensor"))
    assert not _devices(store)["hue:bridge1"].active


def test_removed_devices_keep_their_history_and_their_id(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor"))
    store.enqueue(make_readings(20))
    assert store.flush(10)
    device_id = scalar(db_path, "SELECT id FROM devices WHERE device_key = ?", DEVICE)

    assert store.mark_removed(DEVICE).wait(10)
    assert _devices(store)[DEVICE].removed
    assert reading_count(db_path) == 20

    # Added again (the same physical sensor): the same row, its history intact.
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor"))
    ticket = store.mark_removed(DEVICE, removed=False)
    assert ticket.wait(10)
    assert ticket.ok
    assert not _devices(store)[DEVICE].removed
    assert scalar(db_path, "SELECT id FROM devices WHERE device_key = ?", DEVICE) == (
        device_id
    )
    assert len(store.reader.readings(DEVICE, limit=100)) == 20


def test_requests_after_close_are_refused(make_store: StoreFactory) -> None:
    store = make_store()
    store.close(10)
    ticket = store.rename_device(DEVICE, "Late", None)
    assert ticket.done.is_set()
    assert not ticket.ok
