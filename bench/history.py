"""History query benchmark: ``script/bench history [--json]``.

Everything is measured side by side in one run, on files in a scratch
directory on the same disk as the repository:

- a file of one year of 5-minute readings of 40 series (4,204,800 readings)
  is written with raw ``executemany`` at the schema before the rollups; the
  store then opens it (the migration: how long set-up waits), and the
  writer's backfill steps roll it up (readings/s, and the longest step, which
  is how long one write transaction waits for it);
- latency of ``HistoryStore.downsample()``: one-year queries of 10 random
  series into 500 buckets (daily buckets, from the rollups), and one-day
  queries of 10 random series (5-minute buckets, from the readings), from
  random start times; and one one-year query from the readings alone, what
  the rollups save; ``list_series()`` on the same file;
- ingest throughput from ``enqueue()`` to committed rows of 1,000,000
  readings of 40 series, with the rollups kept and without, on fresh files,
  the same readings for both: after one untimed warm-up run of each, four
  rounds of one run of each, the order swapped every round; the best run of
  each side counts. Every run starts after ``os.sync()`` with its own file,
  deleted after it; the rollups are complete when ``flush()`` returns.
"""

import argparse
from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
import platform
import random
import sqlite3
import statistics
import tempfile
import time

from custom_components.home_monitor.models import Metric, Reading
from custom_components.home_monitor.store import (
    HistoryStore,
    StoreSettings,
    rollups,
    rows,
)
from custom_components.home_monitor.store.downsample import Grid, raw_partials
from custom_components.home_monitor.store.records import from_ms, to_ms
from custom_components.home_monitor.store.rollups import backfill
from custom_components.home_monitor.store.rows import INSERT_READING
from custom_components.home_monitor.store.schema import MIGRATIONS, migrate

START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
PERIOD_MS = 300_000
DEVICES = 10
METRICS = (Metric.TEMPERATURE, Metric.HUMIDITY, Metric.PM25, Metric.MOTION)
SERIES = DEVICES * len(METRICS)
PER_SERIES = DAYS * 86_400_000 // PERIOD_MS
QUERY_SERIES = 10
BUCKETS = 500
QUERIES = 100
WARMUP_QUERIES = 10
RAW_YEAR_QUERIES = 3
INGEST_READINGS = 1_000_000
WARMUP_READINGS = 200_000
ROUNDS = 4
BURST = 1_000
DAY_MS = 86_400_000


def device_key(number: int) -> str:
    """Return the key of bench device `number`."""
    return f"bench:home:{number:02d}"


def stored_value(rng: random.Random, metric: Metric, step: int) -> int:
    """Return a plausible value in the stored form (two decimals, or whole)."""
    match metric:
        case Metric.TEMPERATURE:
            return (
                round((20 + 3 * ((step // 12) % 24) / 24 + rng.random()) * 100) * 10 + 2
            )
        case Metric.HUMIDITY:
            return round((45 + 10 * rng.random()) * 100) * 10 + 2
        case Metric.MOTION:
            return 10 * (rng.random() < 0.1)
        case _:
            return rng.randrange(0, 60) * 10


def build_old_file(path: Path) -> int:
    """Write a year of the 40 series at the schema before the rollups; return readings."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, MIGRATIONS.index(rollups.MIGRATION))
    rng = random.Random(7)
    start = to_ms(START)
    conn.execute("BEGIN")
    for index, metric in enumerate(METRICS, start=1):
        conn.execute("INSERT INTO metrics (id, name) VALUES (?, ?)", (index, metric))
    for device in range(1, DEVICES + 1):
        conn.execute(
            "INSERT INTO devices (id, device_key, source, name, location, first_seen, "
            "last_seen) VALUES (?, ?, 'bench', ?, 'Room', ?, ?)",
            (device, device_key(device), f"Sensor {device}", start, start),
        )
        conn.execute(
            "INSERT INTO labels (id, source, name, location, unit) "
            "VALUES (?, 'bench', ?, 'Room', '')",
            (device, f"Sensor {device}"),
        )
    written = 0
    for device in range(1, DEVICES + 1):
        for metric_id, metric in enumerate(METRICS, start=1):
            jitter = rng.randrange(PERIOD_MS)
            conn.executemany(
                INSERT_READING,
                (
                    (
                        device,
                        metric_id,
                        start + step * PERIOD_MS + jitter,
                        stored_value(rng, metric, step),
                        1,
                        device,
                    )
                    for step in range(PER_SERIES)
                ),
            )
            written += PER_SERIES
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return written


def measure_open(path: Path) -> float:
    """Return ms until the store is open on the old file (migration included)."""
    store = HistoryStore(path, StoreSettings())
    started = time.perf_counter()
    store.open()
    elapsed = (time.perf_counter() - started) * 1000
    store.close(60)
    return elapsed


def measure_backfill(path: Path, readings: int) -> tuple[float, float, float]:
    """Roll the file up in the writer's steps; return (s, readings/s, longest step ms)."""
    conn = sqlite3.connect(path, isolation_level=None)
    steps = []
    started = time.perf_counter()
    done = False
    while not done:
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        done = backfill(conn)
        conn.execute("COMMIT")
        steps.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - started
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return elapsed, readings / elapsed, max(steps)


def timed(call: object, runs: int, warmup: int) -> list[float]:
    """Return ms of `runs` calls after `warmup` untimed ones."""
    if not callable(call):
        raise TypeError(call)
    out = []
    for run in range(warmup + runs):
        started = time.perf_counter()
        call()
        if run >= warmup:
            out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    """Return the 95th percentile."""
    return statistics.quantiles(values, n=20)[18]


def measure_queries(path: Path) -> dict[str, float]:
    """Return latencies (ms) of year and day queries and of list_series."""
    store = HistoryStore(path, StoreSettings())
    store.open()
    rng = random.Random(11)
    keys = [(device_key(d), str(m)) for d in range(1, DEVICES + 1) for m in METRICS]
    year = timedelta(days=DAYS)

    def year_query() -> None:
        since = START + timedelta(minutes=rng.randrange(0, 24 * 60))
        found = store.downsample(rng.sample(keys, QUERY_SERIES), since, since + year)
        if not all(0 < len(buckets) <= BUCKETS for buckets in found.values()):
            raise RuntimeError("wrong number of buckets")

    def day_query() -> None:
        since = START + timedelta(seconds=rng.randrange(0, (DAYS - 1) * 86_400))
        found = store.downsample(
            rng.sample(keys, QUERY_SERIES), since, since + timedelta(days=1)
        )
        if not all(len(buckets) >= 280 for buckets in found.values()):
            raise RuntimeError("wrong number of buckets")

    def raw_year_query() -> None:
        low = to_ms(START)
        grid = Grid.choose(low, low + DAYS * DAY_MS, BUCKETS)
        chosen = rng.sample(range(SERIES), QUERY_SERIES)

        def run(conn: sqlite3.Connection) -> None:
            for index in chosen:
                ids = (index // len(METRICS) + 1, index % len(METRICS) + 1)
                raw_partials(conn, ids, grid, grid.low, grid.high)

        store.reader.run(run)

    try:
        year_ms = timed(year_query, QUERIES, WARMUP_QUERIES)
        day_ms = timed(day_query, QUERIES, WARMUP_QUERIES)
        raw_ms = timed(raw_year_query, RAW_YEAR_QUERIES, 1)
        list_ms = timed(store.list_series, 10, 1)
        if len(store.list_series()) != SERIES:
            raise RuntimeError("series missing")
    finally:
        store.close(60)
    return {
        "year_query_p50_ms": statistics.median(year_ms),
        "year_query_p95_ms": p95(year_ms),
        "day_query_p50_ms": statistics.median(day_ms),
        "day_query_p95_ms": p95(day_ms),
        "year_query_raw_ms": statistics.median(raw_ms),
        "list_series_ms": statistics.median(list_ms),
    }


def ingest_readings(count: int) -> list[Reading]:
    """Return `count` readings of the 40 series in arrival (time) order."""
    rng = random.Random(3)
    readings: list[Reading] = []
    step = 0
    while len(readings) < count:
        at = from_ms(to_ms(START) + step * PERIOD_MS)
        for device in range(1, DEVICES + 1):
            for metric in METRICS:
                value = stored_value(rng, metric, step) / 10 / 100
                readings.append(Reading(device_key(device), metric, value, None, at))
        step += 1
    return readings[:count]


def measure_ingest(path: Path, readings: list[Reading], keep_rollups: bool) -> float:
    """Return readings/s from enqueue() to commit, with or without the rollups."""
    rows.MAINTAIN_ROLLUPS = keep_rollups
    store = HistoryStore(path, StoreSettings())
    store.open()
    os.sync()
    try:
        started = time.perf_counter()
        for start in range(0, len(readings), BURST):
            store.enqueue(readings[start : start + BURST])
        if not store.flush(600):
            raise RuntimeError("flush did not finish")
        elapsed = time.perf_counter() - started
    finally:
        store.close(60)
        rows.MAINTAIN_ROLLUPS = True
    written = store.status().readings_written
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink()
    if written != len(readings):
        raise RuntimeError(f"{written} of {len(readings)} readings written")
    return len(readings) / elapsed


def measure_ingests(directory: Path) -> tuple[float, float]:
    """Return the best readings/s with the rollups kept and without."""
    readings = ingest_readings(INGEST_READINGS)
    for keep in (True, False):
        measure_ingest(directory / "warmup.db", readings[:WARMUP_READINGS], keep)
    best = {True: 0.0, False: 0.0}
    for run in range(ROUNDS):
        for keep in (True, False) if run % 2 == 0 else (False, True):
            rps = measure_ingest(directory / "ingest.db", readings, keep)
            best[keep] = max(best[keep], rps)
    return best[True], best[False]


def main() -> None:
    """Run every measurement and print the table or the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="scratch location")
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=".bench-history-", dir=args.dir) as tmp:
        directory = Path(tmp)
        path = directory / "year.db"
        started = time.perf_counter()
        stored = build_old_file(path)
        build_s = time.perf_counter() - started
        os.sync()
        open_ms = measure_open(path)
        backfill_s, backfill_rps, backfill_step_ms = measure_backfill(path, stored)
        file_bytes = path.stat().st_size
        queries = measure_queries(path)
        with_rps, without_rps = measure_ingests(directory)
    result = {
        "year_query_p95_ms": round(queries["year_query_p95_ms"], 2),
        "day_query_p95_ms": round(queries["day_query_p95_ms"], 2),
        "ingest_with_rollups_ratio": round(with_rps / without_rps, 3),
        "year_query_p50_ms": round(queries["year_query_p50_ms"], 2),
        "day_query_p50_ms": round(queries["day_query_p50_ms"], 2),
        "year_query_raw_ms": round(queries["year_query_raw_ms"], 1),
        "list_series_ms": round(queries["list_series_ms"], 2),
        "ingest_with_rollups_rps": round(with_rps),
        "ingest_without_rollups_rps": round(without_rps),
        "readings": stored,
        "build_s": round(build_s, 1),
        "open_old_file_ms": round(open_ms, 1),
        "backfill_s": round(backfill_s, 1),
        "backfill_rps": round(backfill_rps),
        "backfill_step_max_ms": round(backfill_step_ms, 1),
        "bytes_per_reading": round(file_bytes / stored, 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    checks = [
        ("one-year query, 10 series p50 (ms)", result["year_query_p50_ms"], ""),
        ("one-year query, 10 series p95 (ms)", result["year_query_p95_ms"], "< 150"),
        ("one-year query from readings (ms)", result["year_query_raw_ms"], ""),
        ("one-day query, 10 series p50 (ms)", result["day_query_p50_ms"], ""),
        ("one-day query, 10 series p95 (ms)", result["day_query_p95_ms"], "< 20"),
        ("list_series, 40 series (ms)", result["list_series_ms"], ""),
        ("ingest readings/s, rollups kept", f"{with_rps:,.0f}", ""),
        ("ingest readings/s, no rollups", f"{without_rps:,.0f}", ""),
        ("ingest with / without", f"{with_rps / without_rps:.0%}", ">= 80 %"),
        ("open of the old file (ms)", result["open_old_file_ms"], ""),
        ("backfill (s)", result["backfill_s"], ""),
        ("backfill readings/s", f"{backfill_rps:,.0f}", ""),
        ("longest backfill step (ms)", result["backfill_step_max_ms"], ""),
        ("bytes per reading, rollups in", result["bytes_per_reading"], ""),
    ]
    print(
        f"History query benchmark: Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )
    print(f"{'measure':36} {'value':>12}  target")
    for name, value, target in checks:
        print(f"{name:36} {value!s:>12}  {target}")
    print(
        f"file: {stored:,} readings written in {build_s:.1f} s; run took "
        f"{time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
