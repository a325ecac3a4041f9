"""Downsampled queries against a brute-force computation over the stored readings."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
import math
from pathlib import Path
import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.store import (
    Bucket,
    HistoryReadError,
    HistoryStore,
    SeriesInfo,
    StoreSettings,
)
from custom_components.home_monitor.store.downsample import (
    HOUR_MS,
    STEPS_MS,
    WEEK_MS,
    Grid,
    bucket_step,
)
from custom_components.home_monitor.store.records import from_ms, to_ms

from .conftest import StoreFactory
from .helpers import DEVICE, T0, make_readings

OTHER = "amazon:acct:G1"
HOUR = timedelta(hours=1)


def brute_force(
    store: HistoryStore,
    key: tuple[str, str],
    start: datetime,
    end: datetime,
    buckets: int,
) -> list[Bucket]:
    """Aggregate the stored readings in Python, one by one."""
    low, high = to_ms(start), to_ms(end)
    grid = Grid.choose(low, high, buckets)
    groups: dict[int, list[float]] = defaultdict(list)
    for row in store.reader.readings(key[0], key[1], start, end, limit=10**7):
        groups[(to_ms(row.measured_at) - grid.origin) // grid.step].append(row.value)
    return [
        Bucket(
            from_ms(max(grid.origin + index * grid.step, low)),
            min(values),
            math.fsum(values) / len(values),
            max(values),
            len(values),
        )
        for index, values in sorted(groups.items())
    ]


def assert_same(found: list[Bucket], expected: list[Bucket]) -> None:
    assert [(b.start, b.min, b.max, b.count) for b in found] == [
        (b.start, b.min, b.max, b.count) for b in expected
    ]
    for got, want in zip(found, expected, strict=True):
        assert got.mean == pytest.approx(want.mean, rel=1e-9, abs=1e-9)


@given(
    span=st.integers(1, 10**13),
    buckets=st.integers(1, 2000),
    offset=st.integers(-(10**12), 10**13),
)
def test_grid_holds_at_most_the_buckets_asked_for(
    span: int, buckets: int, offset: int
) -> None:
    grid = Grid.choose(offset, offset + span, buckets)
    assert grid.origin <= offset < grid.origin + grid.step
    assert grid.origin % grid.step == 0 or grid.origin % HOUR_MS == 0
    assert -(-(offset + span - grid.origin) // grid.step) <= buckets
    assert grid.step >= span / buckets
    assert grid.step in STEPS_MS or grid.step % HOUR_MS == 0


def test_bucket_steps_are_round() -> None:
    day = 86_400_000
    assert bucket_step(day, 500) == 5 * 60_000
    assert bucket_step(365 * day, 500) == day
    assert bucket_step(7 * day, 500) == 30 * 60_000
    assert bucket_step(30 * day, 500) == 2 * 3_600_000
    assert bucket_step(10, 500) == 1000
    assert bucket_step(100 * 365 * day, 500) % WEEK_MS == 0


values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.integers(-500, 500).map(lambda n: n / 10),
    st.sampled_from([0.0, 1.0]),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 5 * 86_400_000), values, st.booleans()),
        min_size=0,
        max_size=300,
    ),
    start=st.integers(-86_400_000, 3 * 86_400_000),
    span=st.integers(1, 6 * 86_400_000),
    buckets=st.integers(1, 700),
)
def test_downsample_matches_brute_force(
    data: list[tuple[int, float, bool]], start: int, span: int, buckets: int
) -> None:
    readings = [
        Reading(
            DEVICE if first else OTHER,
            Metric.TEMPERATURE,
            value,
            "°C",
            T0 + timedelta(milliseconds=at),
        )
        for at, value, first in data
    ]
    since = T0 + timedelta(milliseconds=start)
    until = since + timedelta(milliseconds=span)
    keys = [(DEVICE, "temperature"), (OTHER, "temperature"), (DEVICE, "pm25")]
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(Path(tmp) / "history.db", StoreSettings())
        store.open()
        try:
            store.enqueue(readings)
            assert store.flush(10)
            found = store.downsample(keys, since, until, buckets)
            assert list(found) == keys
            for key in keys:
                assert len(found[key]) <= buckets
                assert_same(found[key], brute_force(store, key, since, until, buckets))
        finally:
            store.close(10)


def test_gaps_stay_gaps_and_edges_are_half_open(make_store: StoreFactory) -> None:
    store = make_store()
    # Readings every 10 minutes for two hours, then none for a day, then an hour.
    store.enqueue(make_readings(12, step=timedelta(minutes=10)))
    later = T0 + timedelta(days=1)
    store.enqueue(make_readings(6, start=later, step=timedelta(minutes=10)))
    assert store.flush(10)
    key = (DEVICE, "temperature")
    found = store.downsample([key], T0, T0 + timedelta(days=2), buckets=48)[key]
    assert [b.start for b in found] == [T0, T0 + HOUR, later]
    assert [b.count for b in found] == [6, 6, 6]
    assert found[0].min == 20.0
    assert found[0].max == 20.05
    assert found[0].mean == pytest.approx(20.025)
    # The end is excluded, the start included, the first bucket starts at `start`.
    since = T0 + timedelta(minutes=10)
    found = store.downsample([key], since, T0 + HOUR, buckets=1)[key]
    assert found == [Bucket(since, 20.01, pytest.approx(20.03), 20.05, 5)]


def test_motion_series_average_to_a_share(make_store: StoreFactory) -> None:
    store = make_store()
    store.enqueue(
        make_readings(
            8, metric=Metric.MOTION, unit=None, value=lambda i: float(i % 4 == 0)
        )
    )
    assert store.flush(10)
    key = (DEVICE, "motion")
    (bucket,) = store.downsample([key], T0, T0 + HOUR, buckets=1)[key]
    assert (bucket.min, bucket.mean, bucket.max, bucket.count) == (0.0, 0.25, 1.0, 8)


def test_bad_arguments(make_store: StoreFactory) -> None:
    store = make_store()
    key = (DEVICE, "temperature")
    assert store.downsample([key], T0, T0) == {key: []}
    with pytest.raises(ValueError, match="buckets"):
        store.downsample([key], T0, T0 + HOUR, buckets=0)
    with pytest.raises(ValueError, match="timezone"):
        store.downsample([key], datetime(2026, 1, 1), T0 + HOUR)  # noqa: DTZ001


def test_read_errors_are_history_read_errors(make_store: StoreFactory) -> None:
    store = make_store(opened=False)
    with pytest.raises(HistoryReadError):
        store.downsample([(DEVICE, "temperature")], T0, T0 + HOUR)
    with pytest.raises(HistoryReadError):
        store.list_series()


def test_list_series_names_units_and_counts(make_store: StoreFactory) -> None:
    store = make_store()
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall", location="Hall"))
    store.enqueue(make_readings(10, unit="°F"))
    store.enqueue(make_readings(5, start=T0 + HOUR))
    store.enqueue(
        make_readings(3, device=OTHER, metric=Metric.PM25, unit="µg/m³", value=float)
    )
    assert store.flush(10)
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Landing", location="Upstairs"))
    assert store.flush(10)
    minute = timedelta(minutes=1)
    assert store.list_series() == [
        SeriesInfo(OTHER, "pm25", OTHER, None, "µg/m³", T0, T0 + 2 * minute, 3),
        SeriesInfo(
            DEVICE,
            "temperature",
            "Landing",
            "Upstairs",
            "°C",
            T0,
            T0 + HOUR + 4 * minute,
            15,
        ),
    ]


def test_times_are_utc(make_store: StoreFactory) -> None:
    store = make_store()
    store.enqueue(make_readings(1))
    assert store.flush(10)
    key = (DEVICE, "temperature")
    (bucket,) = store.downsample([key], T0, T0 + HOUR)[key]
    assert bucket.start.tzinfo is UTC


def test_long_ranges_add_up_days_hours_and_readings(make_store: StoreFactory) -> None:
    store = make_store()
    store.enqueue(
        make_readings(
            10 * 48, step=timedelta(minutes=30), value=lambda i: (i * 7919 % 1000) / 8
        )
    )
    assert store.flush(10)
    key = (DEVICE, "temperature")
    # Cut hours at both ends, whole hours, then whole days (1-day buckets).
    since = T0 + timedelta(hours=5, minutes=10)
    until = T0 + timedelta(days=9, hours=7, minutes=50)
    for buckets in (10, 30, 200):
        found = store.downsample([key], since, until, buckets)[key]
        assert_same(found, brute_force(store, key, since, until, buckets))
    assert len(store.downsample([key], since, until, 10)[key]) == 10
