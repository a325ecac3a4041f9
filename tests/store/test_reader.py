"""Queries on the reader's own connection, and CSV export."""

import csv
from datetime import timedelta
from pathlib import Path

import pytest

from custom_components.home_monitor.models import DeviceRecord, Metric
from custom_components.home_monitor.store import HistoryReadError, HistoryStore
from custom_components.home_monitor.store.reader import COLUMNS, export_csv

from .conftest import StoreFactory
from .helpers import DEVICE, T0, make_readings

OTHER = "amazon:acct:G1"


@pytest.fixture
def filled(make_store: StoreFactory) -> HistoryStore:
    """Return a store with three series of 100 readings each, minutes apart."""
    store = make_store()
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall", location="Hall"))
    store.enqueue(make_readings(100))
    store.enqueue(make_readings(100, metric=Metric.ILLUMINANCE, unit="lx", value=float))
    store.enqueue(
        make_readings(
            100,
            device=OTHER,
            metric=Metric.PM25,
            unit="µg/m³",
            start=T0 + timedelta(seconds=30),
            value=lambda i: i * 0.5,
        )
    )
    assert store.flush(10)
    return store


def test_query_by_device_metric_and_time(filled: HistoryStore) -> None:
    rows = filled.reader.readings(
        DEVICE,
        Metric.TEMPERATURE,
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=20),
    )
    assert [row.measured_at for row in rows] == [
        T0 + timedelta(minutes=minute) for minute in range(10, 20)
    ]
    first = rows[0]
    assert (first.device_key, first.metric, first.value, first.unit) == (
        DEVICE,
        "temperature",
        20.1,
        "°C",
    )
    assert (first.source, first.name, first.location) == ("hue", "Hall", "Hall")
    assert first.received_at >= first.measured_at
    data = first.as_dict()
    assert data["measured_at"] == (T0 + timedelta(minutes=10)).isoformat()
    assert data["received_at"] == first.received_at.isoformat()


def test_readings_of_several_series_come_merged_in_time_order(
    filled: HistoryStore,
) -> None:
    rows = filled.reader.readings(limit=1000)
    assert len(rows) == 300
    times = [row.measured_at for row in rows]
    assert times == sorted(times)
    limited = filled.reader.readings(limit=7)
    assert [row.measured_at for row in limited] == times[:7]
    by_device = filled.reader.readings(DEVICE, limit=150)
    assert len(by_device) == 150
    assert {row.device_key for row in by_device} == {DEVICE}
    by_metric = filled.reader.readings(metric="pm25", limit=500)
    assert len(by_metric) == 100
    assert by_metric[3].value == 1.5


def test_unknown_device_or_metric_gives_nothing(filled: HistoryStore) -> None:
    assert filled.reader.readings("nobody") == []
    assert filled.reader.readings(metric="co") == []
    assert filled.reader.count("nobody") == 0


def test_iterating_in_chunks_covers_everything(filled: HistoryStore) -> None:
    rows = list(filled.reader.iter_readings(chunk=7))
    assert len(rows) == 300
    assert len({(row.device_key, row.metric, row.measured_at) for row in rows}) == 300
    since = list(filled.reader.iter_readings(OTHER, start=T0 + timedelta(minutes=95)))
    assert [row.measured_at for row in since] == [
        T0 + timedelta(minutes=minute, seconds=30) for minute in range(95, 100)
    ]


def test_count_and_devices(filled: HistoryStore) -> None:
    assert filled.reader.count() == 300
    assert filled.reader.count(DEVICE) == 200
    assert filled.reader.count(DEVICE, "illuminance") == 100
    assert [device.device_key for device in filled.reader.devices()] == [OTHER, DEVICE]


def test_export_writes_a_complete_csv(filled: HistoryStore, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    count = export_csv(
        filled.reader, target, device_key=OTHER, end=T0 + timedelta(minutes=10)
    )
    assert count == 10
    with target.open(encoding="utf-8") as file:
        table = list(csv.reader(file))
    assert tuple(table[0]) == COLUMNS
    # ... and the current name and location.
    assert table[1][2:] == [
        OTHER,
        OTHER,
        "",
        "amazon",
        "pm25",
        "0.0",
        "µg/m³",
        OTHER,
        "",
    ]
    assert table[2][7] == "0.5"
    assert len(table) == 11
    assert not list(tmp_path.glob(".*partial"))


def test_a_failed_export_leaves_no_partial_file(
    filled: HistoryStore, tmp_path: Path
) -> None:
    with pytest.raises(OSError, match="No such file"):
        export_csv(filled.reader, tmp_path / "missing" / "out.csv")
    target = tmp_path / "out.csv"
    filled.close(5)
    target.parent.mkdir(exist_ok=True)
    # The reader opens on demand; with the file gone it reports a read error.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{filled.path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(HistoryReadError, match="does not exist"):
        export_csv(filled.reader, target)
    assert not target.exists()
    assert not list(tmp_path.glob(".*partial"))


def test_read_errors_are_store_errors(make_store: StoreFactory, db_path: Path) -> None:
    store = make_store()
    store.close(5)
    db_path.write_bytes(b"garbage" * 1000)
    with pytest.raises(HistoryReadError):
        store.reader.readings()


def test_export_keeps_spreadsheets_from_running_names_as_formulas(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    store = make_store()
    store.upsert_device(
        DeviceRecord(DEVICE, "hue", '=HYPERLINK("x")', location="@Hall")
    )
    store.enqueue(make_readings(2, value=lambda i: -5.0 - i))
    assert store.flush(10)
    target = tmp_path / "out.csv"
    assert export_csv(store.reader, target) == 2
    with target.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert rows[0]["name"] == '\'=HYPERLINK("x")'
    assert rows[0]["location"] == "'@Hall"
    # Numbers stay numbers, minus sign included.
    assert [row["value"] for row in rows] == ["-5.0", "-6.0"]
