"""Hourly and daily rollups: count, sum, min and max of every series.

Long-range queries read these instead of the readings (a year of a series is
365 daily rows instead of 105,120 readings at five minutes). They change in
the same transaction as the readings, and no reading counts twice:

- The writer keeps the values it stores per series, marked by hour, while it
  builds the rows (`hour_sums`); `refresh` adds them up into hours and days
  and adds those to the hourly and daily rows at the end of the transaction. That
  holds only for chunks of rows all stored at their own keys: a chunk with a
  repeat (ignored) or a moved value, and spool replays, are noted in `Touched`
  instead; their hours are recomputed from the readings after the adds, and
  their days made again from their hours. A relabel changes nothing (the
  label is not part of the key).
- A trigger notes the hour of every deleted reading (purges, salvage) in
  `rollup_dirty`; the next write transaction recomputes it and its day.
- An existing file is rolled up after its migration by `backfill`, a bounded
  step at the end of each write transaction that walks the readings in key
  order; `rollup_backfill` holds where it is. Until a series has been passed,
  queries read its readings instead (`covered`).

Every function here runs inside a transaction the caller holds.
"""

from collections.abc import Iterable, Sequence
from operator import itemgetter
import sqlite3

from .hour_sums import DAY_MS, HOUR_MS, Sums, add_sums

# Readings rolled up from old data per write transaction (about 50 ms).
BACKFILL_READINGS = 50_000
END_MS = 2**62
# A chunk of rows spanning at most this is noted by its span, not row by row.
SPAN_MS = 2 * HOUR_MS
_TIME_OF = itemgetter(2)
_SERIES_OF = itemgetter(0, 1)

type Hour = tuple[int, int, int]  # (device id, metric id, first ms of the hour)
type Run = tuple[int, int, int, int]  # (device id, metric id, first ms, end ms)
type Partial = tuple[int, int, float, float, float]  # (bucket, count, sum, min, max)


def hour_of(column: str) -> str:
    """Return SQL for the first millisecond of the hour of `column` (floored)."""
    return f"{column} - (({column} % {HOUR_MS}) + {HOUR_MS}) % {HOUR_MS}"


MIGRATION = (
    """CREATE TABLE rollups (
        device_id INTEGER NOT NULL,
        metric_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        count INTEGER NOT NULL,
        total REAL NOT NULL,
        low REAL NOT NULL,
        high REAL NOT NULL,
        PRIMARY KEY (device_id, metric_id, hour)) WITHOUT ROWID""",
    """CREATE TABLE rollup_dirty (
        device_id INTEGER NOT NULL,
        metric_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        PRIMARY KEY (device_id, metric_id, hour)) WITHOUT ROWID""",
    """CREATE TRIGGER rollup_deleted AFTER DELETE ON readings BEGIN
        INSERT OR IGNORE INTO rollup_dirty (device_id, metric_id, hour)
        VALUES (old.device_id, old.metric_id, old.measured_at
                - ((old.measured_at % 3600000) + 3600000) % 3600000);
    END""",
    # One row while old readings wait to be rolled up: the next key to do.
    # A new file (no readings yet) has nothing to roll up.
    """CREATE TABLE rollup_backfill (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        device_id INTEGER NOT NULL,
        metric_id INTEGER NOT NULL,
        measured_at INTEGER NOT NULL)""",
    """INSERT INTO rollup_backfill SELECT 1, -1, -1, -4611686018427387904
        WHERE EXISTS (SELECT 1 FROM readings)""",
)

# Daily rollups, made from the hourly ones whenever those change: a year of a
# series is 365 rows. Files that have hourly rollups already roll up again.
DAYS_MIGRATION = (
    """CREATE TABLE rollup_days (
        device_id INTEGER NOT NULL,
        metric_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        count INTEGER NOT NULL,
        total REAL NOT NULL,
        low REAL NOT NULL,
        high REAL NOT NULL,
        PRIMARY KEY (device_id, metric_id, day)) WITHOUT ROWID""",
    """INSERT OR REPLACE INTO rollup_backfill
        SELECT 1, -1, -1, -4611686018427387904
        WHERE EXISTS (SELECT 1 FROM readings)""",
)

# Aggregates without decoding every reading (see `records.encode_value`: a
# stored integer is mantissa * 10 + decimals): the readings of a bucket are
# grouped by the last digit of their stored integer (SQLite's % keeps the
# sign, so negative values form groups of their own), within which the stored
# order is the value order and the sum decodes from the sum; stored floats
# (the NULL group) are taken as they are. Only the groups are decoded.
_POWER_OF_D = (
    "CASE d WHEN 0 THEN 1.0 WHEN 1 THEN 10.0 WHEN 2 THEN 100.0 WHEN 3 THEN 1e3 "
    "WHEN 4 THEN 1e4 WHEN 5 THEN 1e5 WHEN 6 THEN 1e6 WHEN 7 THEN 1e7 WHEN 8 THEN 1e8 "
    "ELSE 1e9 END"
)


def aggregated(bucket: str) -> str:
    """Return SQL for (bucket, count, sum, min, max) of one series' readings.

    `bucket` is an expression of `measured_at`; the readings are those of
    :device and :metric in [:low, :high), the rows in bucket order.
    """
    return f"""
SELECT b, sum(n) AS n, sum(iif(d IS NULL, s, (s - n * d) / 10.0 / p)) AS s,
       min(iif(d IS NULL, lo, ((lo - d) / 10) / p)) AS lo,
       max(iif(d IS NULL, hi, ((hi - d) / 10) / p)) AS hi
FROM (SELECT b, n, s, lo, hi, d, {_POWER_OF_D} AS p
      FROM (SELECT b, (k + 10) % 10 AS d, count(*) AS n, total(value) AS s,
                   min(value) AS lo, max(value) AS hi
            FROM (SELECT {bucket} AS b, value,
                         iif(typeof(value) = 'integer', value % 10, NULL) AS k
                  FROM readings
                  WHERE device_id = :device AND metric_id = :metric
                    AND measured_at >= :low AND measured_at < :high)
            GROUP BY b, k))
GROUP BY b ORDER BY b"""  # noqa: S608 - constant text


_REBUILD = f"""
INSERT OR REPLACE INTO rollups (device_id, metric_id, hour, count, total, low, high)
SELECT :device, :metric, * FROM ({aggregated(hour_of("measured_at"))})"""  # noqa: S608
# The same for times from 1970 on, where SQLite's / floors (a cheaper key).
_REBUILD_SINCE_1970 = f"""
INSERT OR REPLACE INTO rollups (device_id, metric_id, hour, count, total, low, high)
SELECT :device, :metric, b * {HOUR_MS}, n, s, lo, hi
FROM ({aggregated(f"measured_at / {HOUR_MS}")})"""  # noqa: S608
_REBUILD_DAYS = """
INSERT OR REPLACE INTO rollup_days (device_id, metric_id, day, count, total, low, high)
SELECT :device, :metric, hour - ((hour % 86400000) + 86400000) % 86400000 AS day,
       sum(count), sum(total), min(low), max(high)
FROM rollups
WHERE device_id = :device AND metric_id = :metric AND hour >= :low AND hour < :high
GROUP BY day"""
_ROLLED = """
SELECT total(count) FROM rollups
WHERE device_id = ? AND metric_id = ? AND hour >= ? AND hour < ?"""
_NEXT_KEY = """
SELECT device_id, metric_id, measured_at FROM readings
WHERE (device_id, metric_id, measured_at) >= (?, ?, ?)
ORDER BY device_id, metric_id, measured_at LIMIT 1"""
_NTH_AFTER = """
SELECT measured_at FROM readings
WHERE device_id = ? AND metric_id = ? AND measured_at >= ?
ORDER BY measured_at LIMIT 1 OFFSET ?"""
_BUCKETS = """
SELECT (hour - :origin) / :step, sum(count), sum(total), min(low), max(high)
FROM rollups
WHERE device_id = :device AND metric_id = :metric AND hour >= :low AND hour < :high
GROUP BY 1 ORDER BY 1"""
_DAY_BUCKETS = """
SELECT (day - :origin) / :step, sum(count), sum(total), min(low), max(high)
FROM rollup_days
WHERE device_id = :device AND metric_id = :metric AND day >= :low AND day < :high
GROUP BY 1 ORDER BY 1"""


class Touched:
    """The (series, hour) pairs a transaction's rows fall in.

    Rows mostly arrive in time order, so a chunk of them spans an hour or
    two: such a chunk is noted as its set of series and its span, found by
    loops in C, and consecutive chunks of the same series join into one span.
    Every series of a span gets every hour of it (recomputing an hour without
    readings of the series changes nothing). Other chunks are noted row by row.
    """

    def __init__(self) -> None:
        """Start with nothing noted."""
        self.hours: set[Hour] = set()
        self._spans: list[tuple[frozenset[tuple[int, int]], int, int]] = []

    def note(self, rows: Sequence[tuple[int, int, int, *tuple[object, ...]]]) -> None:
        """Note the series and hours of readings rows."""
        if not rows:
            return
        times = list(map(_TIME_OF, rows))
        low, high = min(times), max(times)
        if high - low > SPAN_MS:
            self.hours.update([(r[0], r[1], r[2] - r[2] % HOUR_MS) for r in rows])
            return
        series = frozenset(map(_SERIES_OF, rows))
        low, high = low - low % HOUR_MS, high - high % HOUR_MS
        spans = self._spans
        if spans and spans[-1][0] == series and low <= spans[-1][2] + HOUR_MS:
            last = spans[-1]
            spans[-1] = (series, min(last[1], low), max(last[2], high))
        else:
            spans.append((series, low, high))

    def runs(self) -> list[Run]:
        """Return (device, metric, low, high) of the noted hours, joined into runs."""
        spans = [
            (device, metric, low, high + HOUR_MS)
            for series, low, high in self._spans
            for device, metric in series
        ]
        spans += [
            (device, metric, hour, hour + HOUR_MS)
            for device, metric, hour in self.hours
        ]
        self._spans.clear()
        self.hours.clear()
        return join_runs(spans)


def join_runs(spans: Iterable[Run]) -> list[Run]:
    """Return (device, metric, low, high) spans sorted, touching ones joined."""
    runs: list[Run] = []
    for device, metric, low, high in sorted(spans):
        if runs and runs[-1][:2] == (device, metric) and low <= runs[-1][3]:
            runs[-1] = (device, metric, runs[-1][2], max(runs[-1][3], high))
        else:
            runs.append((device, metric, low, high))
    return runs


def refresh(
    conn: sqlite3.Connection,
    touched: Touched,
    sums: Sums | None = None,
) -> None:
    """Bring the rollups up to date at the end of a write transaction.

    `sums` (the values the transaction stored, per series and hour) are added
    up into hours and days and added to the rollups; then the touched hours (rows
    that were repeats or moved, rows without sums) and the dirty ones are
    recomputed from the readings, which corrects anything added there, and
    their days made again from their hours; then a backfill step is taken.
    """
    dirty = conn.execute(
        "SELECT device_id, metric_id, hour FROM rollup_dirty"
    ).fetchall()
    if dirty:
        conn.executemany(
            "DELETE FROM rollups WHERE device_id = ? AND metric_id = ? AND hour = ?",
            dirty,
        )
        conn.executemany(
            "DELETE FROM rollup_days WHERE device_id = ? AND metric_id = ? AND day = ?",
            [(device, metric, hour - hour % DAY_MS) for device, metric, hour in dirty],
        )
        conn.execute("DELETE FROM rollup_dirty")
        touched.hours.update(dirty)
    if sums:
        add_sums(conn, sums)
    remade: list[Run] = []
    for device, metric, low, high in touched.runs():
        _rebuild_hours(conn, device, metric, low, high)
        remade.append((device, metric, low - low % DAY_MS, high))
    for device, metric, low, high in join_runs(remade):
        _rebuild_days(conn, device, metric, low, high)
    backfill(conn)


def rebuild(
    conn: sqlite3.Connection, device: int, metric: int, low: int, high: int
) -> None:
    """Recompute one series' hours in [low, high) from its readings, and their days."""
    _rebuild_hours(conn, device, metric, low, high)
    _rebuild_days(conn, device, metric, low - low % DAY_MS, high)


def _rebuild_hours(
    conn: sqlite3.Connection, device: int, metric: int, low: int, high: int
) -> None:
    conn.execute(
        _REBUILD_SINCE_1970 if low >= 0 else _REBUILD,
        {"device": device, "metric": metric, "low": low, "high": high},
    )


def _rebuild_days(
    conn: sqlite3.Connection, device: int, metric: int, low: int, high: int
) -> None:
    """Make the days in [low, high) again from their hours (`high` is rounded up)."""
    high = min(END_MS, -(-high // DAY_MS) * DAY_MS)
    conn.execute(
        _REBUILD_DAYS, {"device": device, "metric": metric, "low": low, "high": high}
    )


def backfill(conn: sqlite3.Connection, budget: int | None = None) -> bool:
    """Roll up about `budget` more old readings; return True once all are done."""
    budget = BACKFILL_READINGS if budget is None else budget
    row = conn.execute(
        "SELECT device_id, metric_id, measured_at FROM rollup_backfill"
    ).fetchone()
    if row is None:
        return True
    device, metric, at = row
    while budget > 0:
        found = conn.execute(_NEXT_KEY, (device, metric, at)).fetchone()
        if found is None:
            conn.execute("DELETE FROM rollup_backfill")
            return True
        device, metric, first = found
        low = first - first % HOUR_MS
        nth = conn.execute(_NTH_AFTER, (device, metric, low, budget)).fetchone()
        high = END_MS if nth is None else max(nth[0] - nth[0] % HOUR_MS, low + HOUR_MS)
        rebuild(conn, device, metric, low, high)
        (done,) = conn.execute(_ROLLED, (device, metric, low, high)).fetchone()
        budget -= max(int(done), 1)
        at = high
    conn.execute(
        "UPDATE rollup_backfill SET device_id = ?, metric_id = ?, measured_at = ?",
        (device, metric, at),
    )
    return False


def restart_backfill(conn: sqlite3.Connection) -> None:
    """Roll up every reading again, from the first (after readings were copied in)."""
    conn.execute(
        "INSERT OR REPLACE INTO rollup_backfill VALUES (1, -1, -1, ?)", (-END_MS,)
    )


def backfill_position(conn: sqlite3.Connection) -> tuple[int, int, int] | None:
    """Return the key the backfill has reached, None once it is done."""
    try:
        row = conn.execute(
            "SELECT device_id, metric_id, measured_at FROM rollup_backfill"
        ).fetchone()
    except sqlite3.OperationalError:  # a file from before the rollups
        return (-1, -1, -END_MS)
    return None if row is None else (row[0], row[1], row[2])


def covered(
    position: tuple[int, int, int] | None, ids: tuple[int, int], high: int
) -> bool:
    """Return whether the rollups of series `ids` are complete before `high`."""
    return position is None or (ids[0], ids[1], high) <= position


def rollup_partials(
    conn: sqlite3.Connection,
    ids: tuple[int, int],
    origin: int,
    step: int,
    span: tuple[int, int],
    *,
    width: int = HOUR_MS,
) -> list[Partial]:
    """Aggregate the rollups of one series' whole hours (or days) in `span` into buckets.

    `origin`, `step` and `span` must be whole multiples of `width`.
    """
    return conn.execute(
        _DAY_BUCKETS if width == DAY_MS else _BUCKETS,
        {
            "origin": origin,
            "step": step,
            "device": ids[0],
            "metric": ids[1],
            "low": span[0],
            "high": span[1],
        },
    ).fetchall()
