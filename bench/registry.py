"""Device registry benchmark: ``script/bench registry [--json]``.

A rename with ``rewrite_history`` relabels every past reading of the device on
the writer thread, in steps between ingest batches. This measures, side by
side in one run, on a file in a scratch directory on the repository's disk:

- ``rewrite_s``: the rewrite of one device with 1,000,000 readings, from the
  request until the store says it is done, while other devices' readings
  come in at 1,000 a second;
- ``max_ingest_gap_ms``: the longest gap between two commits of ingested
  readings during the rewrite (target < 1,000), and ``baseline_gap_ms``, the
  same over 20 s of the same ingest without a rewrite, just before it;
- ``lost``: ingested readings that did not reach the file (must be 0).

Commits are seen by a thread polling the store's status every millisecond.
"""

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools
import json
import os
from pathlib import Path
import platform
import sqlite3
import statistics
import tempfile
import threading
import time

from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.store import HistoryStore, StoreSettings
from custom_components.home_monitor.store.relabel import RelabelJobs

DEVICE = "hue:bench:renamed"
HISTORY_READINGS = 1_000_000
HISTORY_METRICS = (
    Metric.TEMPERATURE,
    Metric.ILLUMINANCE,
    Metric.MOTION,
    Metric.BATTERY,
)
INGEST_PER_S = 1_000
INGEST_DEVICES = 50
TICK_S = 0.01
POLL_S = 0.001
START = datetime(2025, 1, 1, tzinfo=UTC)
FLUSH_S = 120.0
SETTLE_S = 2.0
BASELINE_S = 20.0
MINUTE = timedelta(minutes=1)
REWRITE_WAIT_S = 1_800.0
GAP_TARGET_MS = 1_000


def history(chunk: int) -> Iterator[list[Reading]]:
    """Yield the renamed device's past in chunks: four metrics, one a minute each."""
    per_metric = HISTORY_READINGS // len(HISTORY_METRICS)
    for metric in HISTORY_METRICS:
        for first in range(0, per_metric, chunk):
            yield [
                Reading(DEVICE, metric, (i % 400) / 10, "x", START + i * MINUTE)
                for i in range(first, min(first + chunk, per_metric))
            ]


@dataclass(slots=True)
class Ingest:
    """Readings of other devices at INGEST_PER_S, and the commits they cause."""

    store: HistoryStore
    sent: int = 0
    commits: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def produce(self) -> None:
        """Enqueue INGEST_PER_S * TICK_S readings every TICK_S, keys all distinct."""
        per_tick = round(INGEST_PER_S * TICK_S)
        began = time.monotonic()
        tick = 0
        while not self.stop.is_set():
            # Every reading at a millisecond of its own: no two share a key.
            self.store.enqueue(
                Reading(
                    f"hue:bench:live{(tick + n) % INGEST_DEVICES}",
                    Metric.TEMPERATURE,
                    20.0 + n / 1000,
                    "°C",
                    START + timedelta(milliseconds=tick * per_tick + n),
                )
                for n in range(per_tick)
            )
            self.sent += per_tick
            tick += 1
            delay = began + tick * TICK_S - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def watch(self) -> None:
        """Note the time of every ingest commit (the status counts batches)."""
        batches = self.store.status().batches
        while not self.stop.is_set():
            now = self.store.status().batches
            if now != batches:
                batches = now
                self.commits.append(time.monotonic())
            time.sleep(POLL_S)

    def max_gap_ms(self, since: float, until: float) -> float:
        """Return the longest time between commits within [since, until]."""
        marks = [since, *(t for t in self.commits if since <= t <= until), until]
        return max(b - a for a, b in itertools.pairwise(marks)) * 1000


def _check(ok: bool, problem: str) -> None:
    if not ok:
        raise SystemExit(f"script/bench registry: {problem}")


def record_steps() -> list[float]:
    """Collect how long each rewrite step held the writer, commit included."""
    steps: list[float] = []
    took = RelabelJobs.took

    def noting(self: RelabelJobs, seconds: float) -> None:
        steps.append(seconds)
        took(self, seconds)

    RelabelJobs.took = noting  # type: ignore[method-assign]
    return steps


def run(directory: Path) -> dict[str, float | int]:
    """Build the history, then measure the baseline and the rewrite."""
    steps = record_steps()
    store = HistoryStore(directory / "history.db", StoreSettings())
    store.open()
    try:
        store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor", location="Hall"))
        for readings in history(100_000):
            store.enqueue(readings)
            _check(store.flush(FLUSH_S), "the history was not written")
        os.sync()
        ingest = Ingest(store)
        threads = [
            threading.Thread(target=ingest.produce, name="bench ingest"),
            threading.Thread(target=ingest.watch, name="bench commits"),
        ]
        for thread in threads:
            thread.start()
        time.sleep(SETTLE_S)  # into the rhythm of commits
        baseline_from = time.monotonic()
        time.sleep(BASELINE_S)
        baseline_gap = ingest.max_gap_ms(baseline_from, time.monotonic())

        began = time.monotonic()
        total = store.reader.count(DEVICE)
        ticket = store.rename_device(
            DEVICE, "Kitchen sensor", "Kitchen", rewrite=True, total=total
        )
        _check(ticket.wait(REWRITE_WAIT_S), "the rewrite did not finish")
        ended = time.monotonic()
        rewrite_s = ended - began
        rewrite_gap = ingest.max_gap_ms(began, ended)
        ingest.stop.set()
        for thread in threads:
            thread.join()
        _check(store.flush(FLUSH_S), "the ingest was not written")
        stored = store.reader.count() - store.reader.count(DEVICE)
        relabelled = ticket.relabelled
    finally:
        store.close(60)
    return {
        "readings": total,
        "relabelled": relabelled,
        "rewrite_s": round(rewrite_s, 2),
        "rewrite_readings_per_s": round(total / rewrite_s),
        "rewrite_steps": len(steps),
        "median_step_ms": round(statistics.median(steps) * 1000, 1),
        "max_step_ms": round(max(steps) * 1000, 1),
        "max_ingest_gap_ms": round(rewrite_gap, 1),
        "baseline_gap_ms": round(baseline_gap, 1),
        "ingested": ingest.sent,
        "lost": ingest.sent - stored,
    }


def main() -> None:
    """Run the measurement and print the table or the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="scratch location")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix=".bench-registry-", dir=args.dir) as tmp:
        result = run(Path(tmp))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"Device registry benchmark: Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )
    rows = [
        ("readings of the renamed device", f"{result['readings']:,}", ""),
        ("readings relabelled", f"{result['relabelled']:,}", ""),
        ("rewrite (s)", f"{result['rewrite_s']:.1f}", ""),
        ("rewrite readings/s", f"{result['rewrite_readings_per_s']:,}", ""),
        ("rewrite steps", f"{result['rewrite_steps']:,}", ""),
        ("median step, commit included (ms)", f"{result['median_step_ms']:.0f}", ""),
        ("longest step, commit included (ms)", f"{result['max_step_ms']:.0f}", "~100"),
        (
            "longest ingest gap, rewrite (ms)",
            f"{result['max_ingest_gap_ms']:.0f}",
            f"< {GAP_TARGET_MS:,}",
        ),
        ("longest ingest gap, baseline (ms)", f"{result['baseline_gap_ms']:.0f}", ""),
        ("readings ingested meanwhile", f"{result['ingested']:,}", ""),
        ("readings lost", f"{result['lost']:,}", "0"),
    ]
    print(f"{'measure':36} {'value':>12}  target")
    for name, value, target in rows:
        print(f"{name:36} {value:>12}  {target}")


if __name__ == "__main__":
    main()
