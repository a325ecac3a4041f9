"""History store benchmark: ``script/bench store [--json]``.

Everything is measured side by side in one run, on files in a scratch
directory on the same disk as the repository (not a RAM disk, so commits pay
for their syncs):

- readings/s from ``enqueue()`` to committed rows (1,000,000 readings of a big
  home, handed over in calls of 1,000), against raw ``executemany`` of the
  same rows, already encoded, in one transaction (what SQLite itself can do),
  and against naive one-commit-per-reading inserts; the best of two
  interleaved runs each;
- the lateness of a 1 ms ticker on the event loop while 100,000 readings are
  enqueued from it in bursts of 1,000 and committed by the writer thread;
- bytes per reading of the file after the 1,000,000 readings;
- latency of one-day queries for one device and metric, through the reader,
  in a 5,000,000-reading file built with raw ``executemany``;
- salvage of a damaged file: readings/s read page by page from a
  1,000,000-reading file with one bad leaf page into a new file, and the
  share of the readings kept.
"""

import argparse
import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import heapq
import json
import os
from pathlib import Path
import platform
import random
import sqlite3
import statistics
import tempfile
import threading
import time

from custom_components.home_monitor.models import Metric, Reading
from custom_components.home_monitor.store import HistoryStore, StoreSettings
from custom_components.home_monitor.store.records import encode_value, to_ms
from custom_components.home_monitor.store.rows import INSERT_READING, Row
from custom_components.home_monitor.store.salvage import salvage
from custom_components.home_monitor.store.schema import open_database
from custom_components.home_monitor.store.writer import lower_priority

START = datetime(2026, 1, 1, tzinfo=UTC)
BULK_READINGS = 1_000_000
ROUNDS = 2
NAIVE_READINGS = 2_000
LAG_READINGS = 100_000
BURST = 1_000
QUERY_STORE_READINGS = 5_000_000
QUERIES = 400
WARMUP_QUERIES = 20
SALVAGE_READINGS = 1_000_000
INDEX_LEAF_PAGE = 0x0A
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Series:
    """One metric of one device and how often it reports."""

    device_key: str
    metric: Metric
    unit: str | None
    period_s: int


def big_home() -> list[Series]:
    """Return the series of a big home: 60 Hue motion sensors, 10 air monitors."""
    series = []
    for number in range(60):
        key = f"hue:bridge:{number:02d}"
        series += [
            Series(key, Metric.TEMPERATURE, "°C", 300),
            Series(key, Metric.ILLUMINANCE, "lx", 120),
            Series(key, Metric.MOTION, None, 180),
            Series(key, Metric.BATTERY, "%", 21_600),
        ]
    for number in range(10):
        key = f"amazon:account:{number:02d}"
        for metric, unit in (
            (Metric.PM25, "µg/m³"),
            (Metric.PM10, "µg/m³"),
            (Metric.VOC_INDEX, None),
            (Metric.CO, "ppm"),
            (Metric.HUMIDITY, "%"),
            (Metric.TEMPERATURE, "°C"),
            (Metric.AIR_QUALITY, None),
        ):
            series.append(Series(key, metric, unit, 60))
    return series


def sample(rng: random.Random, metric: Metric) -> float:
    """Return a plausible value as a source would report it."""
    match metric:
        case Metric.TEMPERATURE:
            return round(rng.uniform(17, 26), 2)
        case Metric.ILLUMINANCE:
            return float(rng.randint(0, 30_000))
        case Metric.MOTION:
            return float(rng.randint(0, 1))
        case Metric.HUMIDITY:
            return round(rng.uniform(30, 70), 1)
        case Metric.CO:
            return round(rng.uniform(0, 5), 1)
        case _:
            return float(rng.randint(0, 100))


def home_readings(count: int, seed: int = 1) -> list[Reading]:
    """Return `count` readings of the big home in arrival (time) order."""
    rng = random.Random(seed)
    home = big_home()
    # Series report at staggered times; merge them by next report time.
    due = sorted((rng.uniform(0, s.period_s), index) for index, s in enumerate(home))
    readings: list[Reading] = []

    heapq.heapify(due)
    while len(readings) < count:
        at, index = heapq.heappop(due)
        series = home[index]
        readings.append(
            Reading(
                series.device_key,
                series.metric,
                sample(rng, series.metric),
                series.unit,
                START + timedelta(seconds=round(at, 3)),
            )
        )
        heapq.heappush(due, (at + series.period_s * rng.uniform(0.5, 1.5), index))
    return readings


def chunks[T](items: list[T], size: int) -> Iterator[list[T]]:
    """Yield consecutive slices of `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def encoded_rows(
    conn: sqlite3.Connection, readings: list[Reading]
) -> list[tuple[int, ...]]:
    """Return readings as rows of the readings table, ids created as needed."""
    devices: dict[str, int] = {}
    metrics: dict[str, int] = {}
    labels: dict[tuple[str, str | None], int] = {}
    rows: list[Row] = []
    now = to_ms(START)
    for reading in readings:
        if (device := devices.get(reading.device_key)) is None:
            device = devices[reading.device_key] = conn.execute(
                "INSERT INTO devices (device_key, source, name, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (reading.device_key, "bench", reading.device_key, now, now),
            ).fetchone()[0]
        if (metric := metrics.get(reading.metric)) is None:
            metric = metrics[reading.metric] = conn.execute(
                "INSERT INTO metrics (name) VALUES (?) RETURNING id", (reading.metric,)
            ).fetchone()[0]
        if (label := labels.get((reading.device_key, reading.unit))) is None:
            label = labels[(reading.device_key, reading.unit)] = conn.execute(
                "INSERT INTO labels (source, name, location, unit) VALUES (?, ?, '', ?) "
                "RETURNING id",
                ("bench", reading.device_key, reading.unit or ""),
            ).fetchone()[0]
        measured = to_ms(reading.measured_at)
        rows.append((device, metric, measured, encode_value(reading.value), 1, label))
    return rows


def measure_ours(directory: Path, readings: list[Reading]) -> tuple[float, float]:
    """Return (readings/s through enqueue to commit, bytes per reading)."""
    store = HistoryStore(directory / "ours.db", StoreSettings())
    store.open()
    started = time.perf_counter()
    for chunk in chunks(readings, BURST):
        store.enqueue(chunk)
    if not store.flush(600):
        raise RuntimeError("flush did not finish")
    elapsed = time.perf_counter() - started
    store.close(60)
    written = store.status().readings_written
    if written != len(readings):
        raise RuntimeError(f"{written} of {len(readings)} readings written")
    return len(readings) / elapsed, (directory / "ours.db").stat().st_size / written


def measure_raw(directory: Path, readings: list[Reading]) -> float:
    """Return readings/s of one executemany of encoded rows in one transaction.

    Runs on a thread at the writer's priority, so that both face the same
    competition from other processes on the machine.
    """
    result: list[float] = []
    thread = threading.Thread(target=lambda: result.append(_raw(directory, readings)))
    thread.start()
    thread.join()
    return result[0]


def prepared(
    path: Path, readings: list[Reading]
) -> tuple[sqlite3.Connection, list[Row]]:
    """Open a fresh file of our format and encode the readings for it."""
    conn = open_database(path).conn
    conn.execute("BEGIN")
    rows = encoded_rows(conn, readings)
    conn.execute("COMMIT")
    return conn, rows


def _raw(directory: Path, readings: list[Reading]) -> float:
    lower_priority()
    conn, rows = prepared(directory / "raw.db", readings)
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(INSERT_READING, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def measure_naive(directory: Path, readings: list[Reading]) -> float:
    """Return readings/s of one INSERT and one COMMIT per reading."""
    conn, rows = prepared(directory / "naive.db", readings)
    started = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN")
        conn.execute(INSERT_READING, row)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


async def _lag_run(store: HistoryStore, readings: list[Reading]) -> list[float]:
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(0.001)
            lags.append(max(0.0, loop.time() - before - 0.001) * 1000)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    for chunk in chunks(readings, BURST):
        store.enqueue(chunk)
        await asyncio.sleep(0.01)
    flushed = await loop.run_in_executor(None, store.flush, 120)
    done.set()
    await task
    if not flushed:
        raise RuntimeError("flush did not finish")
    return lags


def measure_lag(directory: Path, readings: list[Reading]) -> tuple[float, float]:
    """Return (p99, max) ticker lateness in ms while the writer commits."""
    store = HistoryStore(directory / "lag.db", StoreSettings())
    store.open()
    try:
        lags = asyncio.run(_lag_run(store, readings))
    finally:
        store.close(60)
    return statistics.quantiles(lags, n=100)[98], max(lags)


def build_query_store(path: Path, count: int) -> list[tuple[str, str, int, int]]:
    """Write `count` readings of the big home, series by series; return the series.

    Each returned entry is (device key, metric, first ms, last ms).
    """
    rng = random.Random(5)
    home = big_home()
    total_rate = sum(1 / s.period_s for s in home)
    span_s = count / total_rate
    conn = open_database(path).conn
    conn.execute("BEGIN")
    sample_rows = encoded_rows(
        conn,
        [Reading(s.device_key, s.metric, 0.0, s.unit, START) for s in home],
    )
    conn.execute("COMMIT")
    start_ms = to_ms(START)
    written = 0
    out = []
    for index, (series, ids) in enumerate(zip(home, sample_rows, strict=True)):
        wanted = (
            count - written
            if index == len(home) - 1
            else round(span_s / series.period_s)
        )
        period_ms = series.period_s * 1000
        times = [
            start_ms + k * period_ms + rng.randrange(period_ms // 2)
            for k in range(wanted)
        ]
        value = encode_value(sample(rng, series.metric))
        conn.execute("BEGIN")
        conn.executemany(
            INSERT_READING,
            ((ids[0], ids[1], at, value, 1, ids[5]) for at in times),
        )
        conn.execute("COMMIT")
        written += wanted
        out.append((series.device_key, str(series.metric), times[0], times[-1]))
    conn.close()
    return out


def measure_queries(directory: Path) -> tuple[float, float, int]:
    """Return (p50, p99) in ms of one-day queries, and the readings stored."""
    path = directory / "query.db"
    series = build_query_store(path, QUERY_STORE_READINGS)
    os.sync()
    store = HistoryStore(path, StoreSettings())
    store.open()
    rng = random.Random(9)
    timings = []
    try:
        stored = store.reader.count()
        for query in range(WARMUP_QUERIES + QUERIES):
            key, metric, first, last = rng.choice(series)
            day = rng.randrange(first, max(first + 1, last - DAY_MS))
            since = START + timedelta(milliseconds=day - to_ms(START))
            started = time.perf_counter()
            store.reader.readings(
                key, metric, since, since + timedelta(days=1), limit=100_000
            )
            if query >= WARMUP_QUERIES:
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        store.close(60)
    return statistics.median(timings), statistics.quantiles(timings, n=100)[98], stored


def measure_salvage(directory: Path) -> tuple[float, float, int]:
    """Return (readings/s, % kept, readings lost) salvaging a file with one bad page."""
    path = directory / "salvage.db"
    build_query_store(path, SALVAGE_READINGS)
    data = bytearray(path.read_bytes())
    size = 4096
    leaves = [
        number
        for number in range(2, len(data) // size + 1)
        if data[(number - 1) * size] == INDEX_LEAF_PAGE
    ]
    bad = leaves[len(leaves) // 2]
    data[(bad - 1) * size : bad * size] = random.Random(3).randbytes(size)
    damaged = directory / "damaged.db"
    damaged.write_bytes(bytes(data))
    conn = open_database(directory / "salvaged.db").conn
    try:
        started = time.perf_counter()
        found = salvage(damaged, conn)
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return found.readings / elapsed, found.readings / SALVAGE_READINGS * 100, found.lost


def main() -> None:
    """Run every measurement and print the table or the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="scratch location")
    args = parser.parse_args()
    began = time.perf_counter()
    readings = home_readings(BULK_READINGS)
    with tempfile.TemporaryDirectory(prefix=".bench-store-", dir=args.dir) as tmp:
        directory = Path(tmp)
        # Other processes share this machine: interleave two runs of each and
        # keep the best, so a burst of outside load does not decide the ratio.
        ours_rps, raw_rps, bytes_per_reading = 0.0, 0.0, 0.0
        for run in range(ROUNDS):
            run_dir = directory / f"run{run}"
            run_dir.mkdir()
            rps, bytes_per_reading = measure_ours(run_dir, readings)
            ours_rps = max(ours_rps, rps)
            raw_rps = max(raw_rps, measure_raw(run_dir, readings))
        naive_rps = measure_naive(directory, readings[:NAIVE_READINGS])
        os.sync()  # let the files above reach the disk before timing the loop
        lag_p99, lag_max = measure_lag(directory, home_readings(LAG_READINGS, seed=2))
        query_p50, query_p99, stored = measure_queries(directory)
        salvage_rps, salvage_kept, salvage_lost = measure_salvage(directory)
    result = {
        "ours_rps": round(ours_rps),
        "naive_rps": round(naive_rps),
        "raw_rps": round(raw_rps),
        "loop_lag_p99_ms": round(lag_p99, 3),
        "loop_lag_max_ms": round(lag_max, 3),
        "bytes_per_reading": round(bytes_per_reading, 2),
        "query_p50_ms": round(query_p50, 3),
        "query_p99_ms": round(query_p99, 3),
        "salvage_rps": round(salvage_rps),
        "salvage_kept_pct": round(salvage_kept, 3),
        "salvage_lost": salvage_lost,
    }
    if args.json:
        print(json.dumps(result))
        return
    checks = [
        ("readings/s, enqueue() to commit", f"{ours_rps:,.0f}", ""),
        ("readings/s, raw executemany", f"{raw_rps:,.0f}", ""),
        ("readings/s, naive commit each", f"{naive_rps:,.0f}", ""),
        ("ours / raw", f"{ours_rps / raw_rps:.0%}", ">= 50 %"),
        ("ours / naive", f"{ours_rps / naive_rps:,.0f}x", ">= 20x"),
        ("loop lag p99 (ms)", f"{lag_p99:.2f}", "< 5"),
        ("loop lag max (ms)", f"{lag_max:.2f}", "< 20"),
        ("bytes per reading (1M)", f"{bytes_per_reading:.2f}", "<= 32"),
        ("one-day query p50 (ms)", f"{query_p50:.2f}", ""),
        ("one-day query p99 (ms)", f"{query_p99:.2f}", "< 10"),
        ("salvage readings/s (1M, 1 bad page)", f"{salvage_rps:,.0f}", ""),
        ("salvage readings kept", f"{salvage_kept:.2f} %", ">= 90 %"),
        ("salvage readings lost (estimate)", f"{salvage_lost:,}", ""),
    ]
    print(
        f"History store benchmark: Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )
    print(f"{'measure':34} {'value':>12}  target")
    for name, value, target in checks:
        print(f"{name:34} {value:>12}  {target}")
    print(
        f"query store: {stored:,} readings; run took "
        f"{time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
