"""Downsampled history for charts: buckets of min, mean, max and count per series.

`downsample()` splits [start, end) into at most N buckets of a round width
(`bucket_step`) on a grid aligned to the epoch, and aggregates each series
into them in SQLite. Buckets without readings are left out, so gaps stay
gaps. `list_series()` names every series that holds readings. Both run on the
reader's connection and block: call them from an executor.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
import sqlite3
from typing import NamedTuple

from .records import from_ms, to_ms
from .rollups import backfill_position, covered, rollup_partials

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
# Bucket widths a chart reads well; past the last one, whole weeks.
STEPS_MS = (
    SECOND_MS, 2 * SECOND_MS, 5 * SECOND_MS, 10 * SECOND_MS, 15 * SECOND_MS,
    30 * SECOND_MS, MINUTE_MS, 2 * MINUTE_MS, 5 * MINUTE_MS, 10 * MINUTE_MS,
    15 * MINUTE_MS, 30 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 6 * HOUR_MS,
    12 * HOUR_MS, DAY_MS, 2 * DAY_MS, WEEK_MS, 2 * WEEK_MS, 4 * WEEK_MS,
)  # fmt: skip
DEFAULT_BUCKETS = 500

_RAW_ROWS = (
    "SELECT measured_at, value FROM readings WHERE device_id = ? AND metric_id = ? "
    "AND measured_at >= ? AND measured_at < ? ORDER BY measured_at"
)
_POWERS = tuple(10**decimals for decimals in range(10))
_FIRST_AT = (
    "SELECT min(measured_at) FROM readings WHERE device_id = ? AND metric_id = ?"
)
_SERIES_IDS = """
SELECT devices.id, metrics.id FROM devices, metrics
WHERE devices.device_key = ? AND metrics.name = ?"""


class Bucket(NamedTuple):
    """Readings of one series in one bucket; `start` is the bucket's first instant."""

    start: datetime
    min: float
    mean: float
    max: float
    count: int  # type: ignore[assignment]  # replaces tuple.count on purpose


class SeriesInfo(NamedTuple):
    """A series that holds readings, with its device's current name and location.

    `unit` is the unit of its newest reading.
    """

    device_key: str
    metric: str
    name: str
    location: str | None
    unit: str | None
    first_at: datetime
    last_at: datetime
    count: int  # type: ignore[assignment]  # replaces tuple.count on purpose


type SeriesKey = tuple[str, str]
# (bucket index, count, sum, min, max)
type Partial = tuple[int, int, float, float, float]


def bucket_step(span_ms: int, buckets: int) -> int:
    """Return the smallest round width that splits `span_ms` into at most `buckets`."""
    width = -(-span_ms // buckets)
    for step in STEPS_MS:
        if step >= width:
            return step
    return -(-width // WEEK_MS) * WEEK_MS


class Grid(NamedTuple):
    """Buckets of `step` ms from `origin` (aligned to the epoch) covering [low, high)."""

    origin: int
    step: int
    low: int
    high: int

    @classmethod
    def choose(cls, low: int, high: int, buckets: int) -> Grid:
        """Return the grid of at most `buckets` buckets over [low, high).

        The round width of `bucket_step` fits unless the range straddles its
        grid lines badly; then the next few widths are tried, and at last a
        grid of whole hours from the hour `low` falls in.
        """
        step = bucket_step(high - low, buckets)
        for _ in range(3):
            origin = low - low % step
            if -(-(high - origin) // step) <= buckets:
                return cls(origin, step, low, high)
            step = next((s for s in STEPS_MS if s > step), step + WEEK_MS)
        origin = low - low % HOUR_MS
        step = -(-(high - origin) // (buckets * HOUR_MS)) * HOUR_MS
        return cls(origin, step, low, high)


def raw_partials(
    conn: sqlite3.Connection, ids: tuple[int, int], grid: Grid, low: int, high: int
) -> list[Partial]:
    """Aggregate the readings of one series in [low, high) into the grid's buckets.

    Raw ranges are short (buckets under an hour, or the cut hours at the
    ends), with few readings per bucket: fetching them in key order and
    adding them up here costs a fraction of SQLite's GROUP BY, which builds
    its aggregates per bucket.
    """
    if low >= high:
        return []
    origin, step = grid.origin, grid.step
    powers = _POWERS
    out: list[Partial] = []
    index = None
    count, total, least, most = 0, 0.0, 0.0, 0.0
    for at, stored in conn.execute(_RAW_ROWS, (ids[0], ids[1], low, high)):
        value = (
            (stored // 10) / powers[stored % 10] if stored.__class__ is int else stored
        )
        if (at - origin) // step != index:
            if index is not None:
                out.append((index, count, total, least, most))
            index = (at - origin) // step
            count, total, least, most = 1, value, value, value
            continue
        count += 1
        total += value
        if value < least:
            least = value
        elif value > most:
            most = value
    if index is not None:
        out.append((index, count, total, least, most))
    return out


def series_partials(
    conn: sqlite3.Connection,
    ids: tuple[int, int],
    grid: Grid,
    position: tuple[int, int, int] | None,
) -> list[Partial]:
    """Aggregate one series into the grid's buckets, from rollups where they fit.

    Buckets of whole hours on whole hours take the rollups of the whole hours
    inside the range (of whole days, for buckets of whole days), from the
    series' first reading on (hours before it may still hold rollups of purged
    readings until the next write), and the readings of the cut hours at both
    ends. Other grids, and series the backfill has not reached, read readings.
    """
    low, high = grid.low, grid.high
    if grid.step % HOUR_MS or grid.origin % HOUR_MS:
        return raw_partials(conn, ids, grid, low, high)
    (first,) = conn.execute(_FIRST_AT, ids).fetchone()
    if first is None or first >= high:
        return []
    low = max(low, first)
    hours_low = -(-low // HOUR_MS) * HOUR_MS
    hours_high = high - high % HOUR_MS
    if hours_high <= hours_low or not covered(position, ids, hours_high):
        return raw_partials(conn, ids, grid, low, high)
    days_low = -(-hours_low // DAY_MS) * DAY_MS
    days_high = hours_high - hours_high % DAY_MS
    if grid.step % DAY_MS or grid.origin % DAY_MS or days_high <= days_low:
        days_low = days_high = hours_high
    parts = raw_partials(conn, ids, grid, low, hours_low)
    for span, width in (
        ((hours_low, days_low), HOUR_MS),
        ((days_low, days_high), DAY_MS),
        ((days_high, hours_high), HOUR_MS),
    ):
        if span[0] < span[1]:
            rolled = rollup_partials(
                conn, ids, grid.origin, grid.step, span, width=width
            )
            parts = join(parts, rolled)
    return join(parts, raw_partials(conn, ids, grid, hours_high, high))


def join(before: list[Partial], after: list[Partial]) -> list[Partial]:
    """Concatenate the buckets of two consecutive spans; one bucket may be in both."""
    if before and after and before[-1][0] == after[0][0]:
        (index, count, total, low, high), other = before[-1], after[0]
        before[-1] = (
            index,
            count + other[1],
            total + other[2],
            min(low, other[3]),
            max(high, other[4]),
        )
        after = after[1:]
    before += after
    return before


def merge(grid: Grid, parts: list[Partial]) -> list[Bucket]:
    """Return the buckets of partials in time order, one per bucket (the hot loop)."""
    origin, step = grid.origin, grid.step
    stamp = datetime.fromtimestamp
    new = tuple.__new__
    buckets = [
        new(
            Bucket,
            (stamp((origin + index * step) / 1000, UTC), low, total / n, high, n),
        )
        for index, n, total, low, high in parts
    ]
    if buckets and buckets[0].start < (first := from_ms(grid.low)):
        buckets[0] = buckets[0]._replace(start=first)
    return buckets


def series_ids(conn: sqlite3.Connection, key: SeriesKey) -> tuple[int, int] | None:
    """Return (device id, metric id) of a series, None if either is unknown."""
    row = conn.execute(_SERIES_IDS, key).fetchone()
    return None if row is None else (row[0], row[1])


def downsample(
    conn: sqlite3.Connection,
    series: Sequence[SeriesKey],
    start: datetime,
    end: datetime,
    buckets: int = DEFAULT_BUCKETS,
) -> dict[SeriesKey, list[Bucket]]:
    """Return at most `buckets` buckets of each series in [start, end).

    Every requested series is a key of the answer; one without readings in
    the range (or unknown) has an empty list. Raises ValueError for fewer
    than one bucket or times without a timezone.
    """
    if buckets < 1:
        raise ValueError("buckets must be at least 1")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone aware")
    low, high = to_ms(start), to_ms(end)
    answer: dict[SeriesKey, list[Bucket]] = {}
    if high <= low:
        return {(key, metric): [] for key, metric in series}
    grid = Grid.choose(low, high, buckets)
    position = backfill_position(conn)
    for key, metric in series:
        ids = series_ids(conn, (key, metric))
        answer[(key, metric)] = (
            []
            if ids is None
            else merge(grid, series_partials(conn, ids, grid, position))
        )
    return answer


_SERIES = """
SELECT devices.id, metrics.id, devices.device_key, metrics.name, devices.name,
       devices.location
FROM devices CROSS JOIN metrics ORDER BY devices.device_key, metrics.name"""
_EDGE = (
    "SELECT measured_at, label_id FROM readings "
    "WHERE device_id = ? AND metric_id = ? ORDER BY measured_at {} LIMIT 1"
)
_FIRST = _EDGE.format("ASC")
_LAST = _EDGE.format("DESC")


def list_series(conn: sqlite3.Connection) -> list[SeriesInfo]:
    """Return every series that holds readings, by device key and metric."""
    units = {
        label_id: unit or None
        for label_id, unit in conn.execute("SELECT id, unit FROM labels")
    }
    found = []
    position = backfill_position(conn)
    for device_id, metric_id, key, metric, name, location in conn.execute(
        _SERIES
    ).fetchall():
        ids = (device_id, metric_id)
        first = conn.execute(_FIRST, ids).fetchone()
        if first is None:
            continue
        last = conn.execute(_LAST, ids).fetchone()
        origin = first[0] - first[0] % HOUR_MS
        span = last[0] + 1 - origin
        whole = Grid(origin, -(-span // HOUR_MS) * HOUR_MS, first[0], last[0] + 1)
        count = sum(part[1] for part in series_partials(conn, ids, whole, position))
        found.append(
            SeriesInfo(
                key,
                metric,
                name,
                location,
                units.get(last[1]),
                from_ms(first[0]),
                from_ms(last[0]),
                count,
            )
        )
    return found
