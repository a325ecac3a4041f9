"""A write transaction's readings added up by series, hour and day.

While it builds the rows, the writer puts the time and value of each reading
it stores into a list per series (two appends, `rows.reading_rows`). At the
end of the transaction `add_sums` cuts each series at hour boundaries by
bisection, adds the parts up with the builtins mapped in C, adds the hours up
into days, and adds both to the rollups in multi-row upserts, in key order.
Whether these sums may be trusted (every row stored at its own key) is the
caller's business (`rollups.refresh`).
"""

from bisect import bisect_left
from itertools import chain, repeat
import sqlite3
from typing import cast

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Per (device id, metric id): time (ms) and value of each reading stored, in
# arrival order, one after the other.
type Sums = dict[tuple[int, int], list[float]]

_ADD = """
INSERT INTO {table} (device_id, metric_id, {key}, count, total, low, high)
VALUES {values}
ON CONFLICT DO UPDATE SET count = count + excluded.count,
    total = total + excluded.total,
    low = min(low, excluded.low), high = max(high, excluded.high)"""
# Rows per statement: SQLite steps once per statement, and binding is cheaper.
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


def add_sums(conn: sqlite3.Connection, sums: Sums) -> None:
    """Add the hours and days of `sums` to the rollups (in the caller's transaction)."""
    hours, days = add_up(sums)
    _add(conn, _ADD_HOURS, hours)
    _add(conn, _ADD_DAYS, days)


def add_up(sums: Sums) -> tuple[list[float], list[float]]:
    """Return the hours and the days of `sums`, flat, in key order.

    Seven items per hour or day: device id, metric id, first ms, count, sum,
    min, max. Times out of order are sorted first. `sum` compensates its
    rounding like `math.fsum`, at about half the cost; a day's total is the
    sum of its hours' totals, as when days are made again from their hours.
    """
    hours: list[float] = []
    days: list[float] = []
    for (device, metric), both in sorted(sums.items()):
        times, values = cast("list[int]", both[0::2]), both[1::2]
        if times != sorted(times):
            order = sorted(range(len(times)), key=times.__getitem__)
            values = [values[i] for i in order]
            times.sort()
        firsts, parts = _cut(times, values)
        counts = list(map(len, parts))
        totals = list(map(sum, parts))
        lows = list(map(min, parts))
        highs = list(map(max, parts))
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
    return hours, days


def _cut(times: list[int], values: list[float]) -> tuple[list[int], list[list[float]]]:
    """Return the first ms and the values of each hour of sorted `times`."""
    firsts: list[int] = []
    parts: list[list[float]] = []
    i, count = 0, len(times)
    while i < count:
        first = times[i] - times[i] % HOUR_MS
        j = bisect_left(times, first + HOUR_MS, i)
        firsts.append(first)
        parts.append(values[i:j])
        i = j
    return firsts, parts


def _add(conn: sqlite3.Connection, sql: tuple[str, str], flat: list[float]) -> None:
    """Add flat rows of seven items, ADD_ROWS to a statement."""
    step = 7 * ADD_ROWS
    whole = len(flat) - len(flat) % step
    if whole:
        conn.executemany(sql[1], [flat[at : at + step] for at in range(0, whole, step)])
    if whole < len(flat):
        conn.executemany(sql[0], [flat[at : at + 7] for at in range(whole, len(flat), 7)])
