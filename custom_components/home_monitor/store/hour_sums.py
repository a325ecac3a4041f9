"""A write transaction's readings added up by series, hour and day.

Readings mostly arrive in time order. While it builds the rows
(`rows.reading_rows`), the writer keeps the hour the readings are in and puts
each value into a list per series; when a reading starts a later hour,
`Sums.start` notes how long each list is (in C), so the lists are cut into
hours without keeping times. A reading from before the current hour is kept
aside with its time (`strays`). At the end of the transaction `add_sums`
slices the lists at those marks, adds the parts up with the builtins mapped in
C, the strays by hour, the hours into days, and adds both to the rollups in
multi-row upserts. Whether the sums may be trusted (every row stored at its
own key) is the caller's business (`rollups.refresh`).
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from itertools import chain, compress, repeat
from operator import eq, itemgetter, lt
import sqlite3

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
BEFORE_ALL = -(2**62)

_ADD = """
INSERT INTO {table} (device_id, metric_id, {key}, count, total, low, high)
VALUES {values}
ON CONFLICT DO UPDATE SET count = count + excluded.count,
    total = total + excluded.total,
    low = min(low, excluded.low), high = max(high, excluded.high)"""
# Rows per statement: SQLite steps once per statement, and binding is cheaper.
# Rows with the same key in one statement are added one after the other.
ADD_ROWS = 64
_ONE, _MANY = "(?, ?, ?, ?, ?, ?, ?)", ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * ADD_ROWS)
_ADD_HOURS = (
    _ADD.format(table="rollups", key="hour", values=_ONE),
    _ADD.format(table="rollups", key="hour", values=_MANY),
)
_ADD_DAYS = (
    _ADD.format(table="rollup_days", key="day", values=_ONE),
    _ADD.format(table="rollup_days", key="day", values=_MANY),
)
_SERIES = itemgetter(1)


class Sums:
    """The values one transaction stores, per series, marked by hour."""

    def __init__(self) -> None:
        """Start with no series; the first reading starts an hour."""
        self.series: dict[tuple[int, int], list[float]] = {}
        self._lists: list[list[float]] = []  # the same lists, in order made
        # First ms of each hour started, and how long each list was then.
        self.marks: list[tuple[int, list[int]]] = []
        self.strays: list[tuple[int, int, int, float]] = []

    def __bool__(self) -> bool:
        """Return whether any value was kept."""
        return bool(self.marks or self.strays)

    def put(self, ids: tuple[int, ...]) -> Callable[[float], None]:
        """Return the append of the values list of series `ids` (device, metric)."""
        key = (ids[0], ids[1])
        if (values := self.series.get(key)) is None:
            values = self.series[key] = []
            self._lists.append(values)
        return values.append

    def start(self, ms: int) -> tuple[int, int]:
        """Start the hour of `ms` (later than the current one); return its bounds."""
        low = ms - ms % HOUR_MS
        self.marks.append((low, list(map(len, self._lists))))
        return low, low + HOUR_MS


def add_sums(conn: sqlite3.Connection, sums: Sums) -> None:
    """Add the hours and days of `sums` to the rollups (in the caller's transaction)."""
    hours, days = add_up(sums)
    _add(conn, _ADD_HOURS, hours)
    _add(conn, _ADD_DAYS, days)


def add_up(sums: Sums) -> tuple[list[float], list[float]]:
    """Return the hours and the days of `sums`, flat.

    Seven items per hour or day: device id, metric id, first ms, count, sum,
    min, max; the same key may come more than once (strays). `sum`
    compensates its rounding like `math.fsum`, at about half the cost; a day
    adds up its hours, as when days are made again from their hours.
    """
    hours: list[float] = []
    days: list[float] = []
    firsts = [first for first, _ in sums.marks]
    made = sorted(enumerate(sums.series.items()), key=_SERIES)  # key order
    for index, ((device, metric), values) in made:
        starts = [lens[index] if index < len(lens) else 0 for _, lens in sums.marks]
        ends = starts[1:]
        ends.append(len(values))
        cut, ones = firsts, starts
        if any(map(eq, starts, ends, strict=True)):  # hours without its values
            full = list(map(lt, starts, ends, strict=True))
            cut, ones, ends = [list(compress(x, full)) for x in (firsts, starts, ends)]
        parts = list(map(values.__getitem__, map(slice, ones, ends, strict=True)))
        _add_parts(hours, days, (device, metric), cut, parts)
    strays: defaultdict[tuple[int, int, int], list[float]] = defaultdict(list)
    for device, metric, ms, value in sums.strays:
        strays[(device, metric, ms - ms % HOUR_MS)].append(value)
    for (device, metric, first), values in sorted(strays.items()):
        _add_parts(hours, days, (device, metric), [first], [values])
    return hours, days


def _add_parts(
    hours: list[float],
    days: list[float],
    series: tuple[int, int],
    firsts: list[int],
    parts: list[list[float]],
) -> None:
    """Add the hours starting at `firsts` (ascending) with values `parts`, and their days."""
    counts = list(map(len, parts))
    totals = list(map(sum, parts))
    lows = list(map(min, parts))
    highs = list(map(max, parts))
    device, metric = series
    hours.extend(
        chain.from_iterable(
            zip(repeat(device), repeat(metric), firsts, counts, totals, lows, highs)
        )
    )
    i, count = 0, len(firsts)
    while i < count:
        first = firsts[i] - firsts[i] % DAY_MS
        j = bisect_left(firsts, first + DAY_MS, i)
        days += (device, metric, first, sum(counts[i:j]), sum(totals[i:j]))
        days += (min(lows[i:j]), max(highs[i:j]))
        i = j


def _add(conn: sqlite3.Connection, sql: tuple[str, str], flat: list[float]) -> None:
    """Add flat rows of seven items, ADD_ROWS to a statement."""
    step = 7 * ADD_ROWS
    whole = len(flat) - len(flat) % step
    if whole:
        conn.executemany(sql[1], [flat[at : at + step] for at in range(0, whole, step)])
    if whole < len(flat):
        conn.executemany(
            sql[0], [flat[at : at + 7] for at in range(whole, len(flat), 7)]
        )
