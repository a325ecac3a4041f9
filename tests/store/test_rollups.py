"""Hourly rollups: kept exact by the writer, rebuilt for old files, used by queries."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
import math
from pathlib import Path
import random
import sqlite3

from homeassistant.core import HomeAssistant
import pytest

from custom_components.home_monitor.models import Metric, Reading
from custom_components.home_monitor.store import HistoryStore, StoreSettings, rollups
from custom_components.home_monitor.store.records import decode_value, to_ms
from custom_components.home_monitor.store.schema import (
    LATEST_VERSION,
    MIGRATIONS,
    migrate,
)

from .conftest import StoreFactory
from .helpers import DEVICE, T0, database, make_readings

OTHER = "amazon:acct:G1"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

type Rolled = dict[tuple[int, int, int], tuple[int, float, float, float]]


def backfill_left(path: Path) -> tuple[int, int, int] | None:
    with database(path) as conn:
        return conn.execute(
            "SELECT device_id, metric_id, measured_at FROM rollup_backfill"
        ).fetchone()


def stored_rollups(path: Path) -> Rolled:
    with database(path) as conn:
        return {
            (device, metric, hour): (count, total, low, high)
            for device, metric, hour, count, total, low, high in conn.execute(
                "SELECT * FROM rollups"
            )
        }


def brute_rollups(path: Path) -> Rolled:
    """Aggregate every stored reading by series and hour, in Python."""
    groups: dict[tuple[int, int, int], list[float]] = defaultdict(list)
    with database(path) as conn:
        for device, metric, at, value in conn.execute(
            "SELECT device_id, metric_id, measured_at, value FROM readings"
        ):
            groups[(device, metric, at - at % 3_600_000)].append(decode_value(value))
    return {
        key: (len(values), math.fsum(values), min(values), max(values))
        for key, values in groups.items()
    }


def stored_days(path: Path) -> Rolled:
    with database(path) as conn:
        return {
            (device, metric, day): (count, total, low, high)
            for device, metric, day, count, total, low, high in conn.execute(
                "SELECT * FROM rollup_days"
            )
        }


def days_of(hours: Rolled) -> Rolled:
    """Aggregate hourly rollups by day."""
    days: dict[tuple[int, int, int], list[float]] = {}
    for (device, metric, hour), (count, total, low, high) in hours.items():
        key = (device, metric, hour - hour % 86_400_000)
        if (day := days.get(key)) is None:
            days[key] = [count, total, low, high]
        else:
            day[0] += count
            day[1] += total
            day[2] = min(day[2], low)
            day[3] = max(day[3], high)
    return {key: (int(c), t, lo, hi) for key, (c, t, lo, hi) in days.items()}


def assert_rollups_exact(path: Path) -> None:
    hours = brute_rollups(path)
    assert_same(stored_rollups(path), hours)
    assert_same(stored_days(path), days_of(hours))


def assert_same(found: Rolled, expected: Rolled) -> None:
    assert found.keys() == expected.keys()
    for key, (count, total, low, high) in expected.items():
        assert found[key][0] == count
        assert found[key][1] == pytest.approx(total, rel=1e-12, abs=1e-9)
        assert found[key][2:] == (low, high)


def test_the_writer_keeps_rollups_exact(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    store.enqueue(make_readings(500, step=timedelta(seconds=37)))
    store.enqueue(
        make_readings(
            300, device=OTHER, metric=Metric.PM25, value=lambda i: -i * 0.25 - 3.5
        )
    )
    assert store.flush(10)
    assert_rollups_exact(db_path)
    assert len(stored_rollups(db_path)) == 6 + 5


def test_repeats_moves_and_replays_count_once(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    readings = make_readings(120)
    store.enqueue(readings)
    store.enqueue(readings[:50])  # repeats, ignored
    # Another value at a taken time goes to the next free millisecond; the last
    # millisecond of an hour moves into the next hour.
    last_ms = T0 + HOUR - timedelta(milliseconds=1)
    store.enqueue([Reading(DEVICE, Metric.TEMPERATURE, 1.5, "°C", last_ms)])
    store.enqueue([Reading(DEVICE, Metric.TEMPERATURE, 2.5, "°C", last_ms)])
    store.enqueue([Reading(DEVICE, Metric.TEMPERATURE, 99.0, "°C", T0)])
    assert store.flush(10)
    store.enqueue([Reading(DEVICE, Metric.TEMPERATURE, 99.0, "°C", T0)])  # replay
    store.enqueue(readings[60:])
    assert store.flush(10)
    assert store.status().readings_moved == 2
    assert_rollups_exact(db_path)
    rolled = stored_rollups(db_path)
    assert sorted(count for count, *_ in rolled.values()) == [61, 62]
    key = (DEVICE, "temperature")
    found = store.downsample([key], T0, T0 + 2 * HOUR, buckets=2)[key]
    assert [bucket.count for bucket in found] == [62, 61]
    assert found[0].max == 99.0
    assert found[1].min == 2.5


def test_a_relabel_changes_no_rollup(make_store: StoreFactory, db_path: Path) -> None:
    store = make_store()
    store.enqueue(make_readings(100, unit="°C"))
    store.enqueue(make_readings(100, unit="°F"))  # repeats under another label
    assert store.flush(10)
    before = stored_rollups(db_path)
    with database(db_path) as conn:
        conn.execute("UPDATE readings SET label_id = label_id + 1")
    store.enqueue(make_readings(1, start=T0 + DAY))
    assert store.flush(10)
    after = stored_rollups(db_path)
    assert {key: after[key] for key in before} == before
    assert_rollups_exact(db_path)


def test_purged_hours_leave_the_rollups(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store(StoreSettings(retention_days=7))
    now = datetime.now(UTC)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=10)
    store.enqueue(make_readings(20 * 24, start=start, step=timedelta(minutes=30)))
    assert store.flush(10)
    key = (DEVICE, "temperature")
    whole = store.downsample([key], start, start + 20 * DAY, buckets=20)[key]
    assert sum(bucket.count for bucket in whole) == 20 * 24
    assert store.maintain(10)
    # Until the next write, queries skip the rollups of purged hours.
    kept = store.reader.count()
    assert 0 < kept < 20 * 24
    found = store.downsample([key], start, start + 20 * DAY, buckets=20)[key]
    assert sum(bucket.count for bucket in found) == kept
    store.enqueue(make_readings(1, start=now))
    assert store.flush(10)
    assert_rollups_exact(db_path)


BEFORE_ROLLUPS = MIGRATIONS.index(rollups.MIGRATION)
BEFORE_DAYS = MIGRATIONS.index(rollups.DAYS_MIGRATION)


def _old_file(path: Path, series: int, per_series: int, version: int) -> None:
    """Write a file at an older schema, with readings in it."""
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, version)
    conn.execute("INSERT INTO metrics (id, name) VALUES (1, 'temperature')")
    conn.execute(
        "INSERT INTO labels (id, source, name, location, unit) VALUES (1, 'hue', 'x', '', '°C')"
    )
    start = to_ms(T0)
    conn.execute("BEGIN")
    for device in range(1, series + 1):
        conn.execute(
            "INSERT INTO devices (id, device_key, source, name, first_seen, last_seen) "
            "VALUES (?, ?, 'hue', ?, 0, 0)",
            (device, f"hue:b:{device}", f"Sensor {device}"),
        )
        conn.executemany(
            "INSERT INTO readings VALUES (?, 1, ?, ?, 0, 1)",
            (
                (device, start + i * 300_000 + device, (200 + i % 50) * 10 + 1)
                for i in range(per_series)
            ),
        )
    conn.execute("COMMIT")
    conn.close()


@pytest.mark.parametrize("version", [BEFORE_ROLLUPS, BEFORE_DAYS])
def test_an_old_file_is_rolled_up_step_by_step(
    make_store: StoreFactory,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    version: int,
) -> None:
    _old_file(db_path, series=3, per_series=2000, version=version)
    monkeypatch.setattr(rollups, "BACKFILL_READINGS", 1500)
    store = make_store()
    assert store.status().schema_version == LATEST_VERSION
    keys = [(f"hue:b:{device}", "temperature") for device in (1, 2, 3)]
    span = (T0, T0 + 8 * DAY)

    def totals() -> list[tuple[int, float]]:
        found = store.downsample(keys, *span, buckets=8)
        return [
            (
                sum(b.count for b in found[key]),
                sum(b.mean * b.count for b in found[key]),
            )
            for key in keys
        ]

    expected = totals()  # before any step: from the readings
    assert [count for count, _ in expected] == [2000] * 3
    steps = 0
    while backfill_left(db_path) is not None:
        store.enqueue(make_readings(1, start=T0 + 30 * DAY + steps * HOUR))
        assert store.flush(10)
        steps += 1
        found = totals()
        assert [count for count, _ in found] == [2000] * 3  # the same at each step
        for (_, total), (_, want) in zip(found, expected, strict=True):
            assert total == pytest.approx(want)
    assert steps == 4  # 6,000 readings, 1,500 a step
    assert_rollups_exact(db_path)


def test_a_new_file_has_nothing_to_roll_up(
    make_store: StoreFactory, db_path: Path
) -> None:
    make_store()
    assert backfill_left(db_path) is None


async def test_queries_run_in_the_executor(hass: HomeAssistant, db_path: Path) -> None:
    store = HistoryStore(db_path, StoreSettings())
    await hass.async_add_executor_job(store.open)
    try:
        store.enqueue(make_readings(240))
        assert await hass.async_add_executor_job(store.flush, 10)
        key = (DEVICE, "temperature")
        found = await hass.async_add_executor_job(
            store.downsample, [key], T0, T0 + DAY, 24
        )
        assert [bucket.count for bucket in found[key]] == [60] * 4
        (series,) = await hass.async_add_executor_job(store.list_series)
        assert series.count == 240
    finally:
        await hass.async_add_executor_job(store.close, 10)


def test_a_batch_out_of_order_adds_up_by_hour_and_day(
    make_store: StoreFactory, db_path: Path
) -> None:
    """The writer's sums: shuffled times, two labels of one series, a day's edge."""
    store = make_store()
    series = make_readings(
        200, start=T0 + 20 * HOUR, step=timedelta(minutes=17), value=lambda i: i * 0.37
    )
    store.enqueue(series[:100])
    assert store.flush(10)
    later = series[100:] + make_readings(
        150,
        start=T0 + 20 * HOUR + timedelta(seconds=30),
        step=timedelta(minutes=29),
        unit="°F",
        value=lambda i: 5 - i / 8,
    )
    later += make_readings(80, device=OTHER, metric=Metric.PM25, step=HOUR)
    random.Random(5).shuffle(later)
    store.enqueue(later)  # one batch: more hours than one statement adds
    assert store.flush(10)
    assert store.status().batches == 2
    assert_rollups_exact(db_path)
    assert sum(count for count, *_ in stored_days(db_path).values()) == 430
    assert len(stored_days(db_path)) == 4 + 4


def test_readings_back_in_time_and_new_series_add_up_once(
    make_store: StoreFactory, db_path: Path
) -> None:
    """Readings of an earlier hour than the writer's current one, series that come late."""
    store = make_store()
    store.enqueue(make_readings(30))
    store.enqueue(make_readings(5, start=T0 + 5 * HOUR))  # the hour jumps ahead
    store.enqueue(make_readings(20, start=T0 + 30 * timedelta(minutes=1)))  # and back
    for start in (T0 + 2 * HOUR, T0 + 6 * HOUR, T0 - DAY):
        store.enqueue(make_readings(10, device=OTHER, metric=Metric.PM25, start=start))
    assert store.flush(10)
    assert_rollups_exact(db_path)
    assert sum(count for count, *_ in stored_rollups(db_path).values()) == 85
    assert sum(count for count, *_ in stored_days(db_path).values()) == 85


def test_readings_before_1970_roll_up_by_their_own_hours(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    store.enqueue(
        make_readings(
            300,
            start=epoch - 2 * HOUR,
            step=timedelta(seconds=61),
            value=lambda i: -i / 4,
        )
    )
    assert store.flush(10)
    assert_rollups_exact(db_path)
    assert len(stored_rollups(db_path)) == 6


def test_a_salvaged_file_is_rolled_up_again(
    make_store: StoreFactory, db_path: Path
) -> None:
    store = make_store()
    store.enqueue(make_readings(3000, step=timedelta(seconds=50)))
    assert store.flush(10)
    store.close(10)
    data = bytearray(db_path.read_bytes())
    data[:100] = bytes(100)  # a zeroed header: the file is moved aside and salvaged
    db_path.write_bytes(bytes(data))
    salvaged = make_store()
    assert salvaged.status().moved_aside
    assert backfill_left(db_path) is not None
    salvaged.enqueue(make_readings(1, start=T0 + DAY))
    assert salvaged.flush(10)
    assert backfill_left(db_path) is None
    assert_rollups_exact(db_path)
    assert sum(count for count, *_ in stored_rollups(db_path).values()) == 3001
