"""What the soak watches while Home Assistant runs: logs, event-loop lag, memory.

- `LogTally` counts the integration's log records (lines and bytes by level, formatted as
  Home Assistant writes them to its log file) and keeps every WARNING-or-worse record's
  simulated time and message template, to see how often a persistent fault logs.
- `LagMonitor` is a thread that asks the event loop to run a callback every 20 ms and
  measures how late it runs (the event-loop lag).
- `memory_sample()` reads the process's resident memory, the count of objects the collector
  tracks, the Python heap and the part of it the integration's own code allocated and still
  holds (tracemalloc, which each life turns on), and the store's queue and spool.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime
import gc
import logging
import os
from pathlib import Path
import threading
import time
from typing import Any

LOGGER_NAME = "custom_components.home_monitor"
INTEGRATION_FILES = "*/custom_components/home_monitor/*"
HA_FORMAT = (
    "%(asctime)s.%(msecs)03d %(levelname)s (%(threadName)s) [%(name)s] %(message)s"
)


class LogTally(logging.Handler):
    """Counts the integration's log output; keeps the warnings for the fault checks."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        """Stamp each warning with the simulated time `clock` gives."""
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter(HA_FORMAT, "%Y-%m-%d %H:%M:%S"))
        self._clock = clock
        self.lines: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.warnings: list[tuple[str, str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record (and its traceback, if any)."""
        text = self.format(record) + "\n"
        self.lines[record.levelname] += 1
        self.bytes[record.levelname] += len(text.encode())
        if record.levelno >= logging.WARNING:
            self.warnings.append(
                (
                    self._clock().isoformat(),
                    record.levelname,
                    record.name,
                    str(record.msg)[:160],
                )
            )

    def install(self) -> None:
        """Listen to the integration's logger at INFO (Home Assistant's default is WARNING)."""
        logger = logging.getLogger(LOGGER_NAME)
        logger.setLevel(logging.INFO)
        logger.addHandler(self)

    def remove(self) -> None:
        """Stop listening."""
        logging.getLogger(LOGGER_NAME).removeHandler(self)

    def as_json(self) -> dict[str, Any]:
        """Return the counts and the warnings."""
        return {
            "lines": dict(self.lines),
            "bytes": dict(self.bytes),
            "warnings": self.warnings,
        }


class LagMonitor(threading.Thread):
    """Measures how late the event loop runs a callback it is handed (every 20 ms)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, every: float = 0.02) -> None:
        """Watch `loop`."""
        super().__init__(name="soak_lag_monitor", daemon=True)
        self._loop = loop
        self._every = every
        self._stop = threading.Event()
        self._paused = threading.Event()
        self.samples: list[float] = []
        # What the loop was doing (set by the soak's driver) and the worst lags seen in it.
        self.doing = "start"
        self.worst: list[tuple[float, str]] = []

    def pause(self, paused: bool) -> None:
        """Stop measuring while the soak itself holds the loop (its own checks)."""
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    def run(self) -> None:
        """Hand the loop a callback, wait for it, note the delay; repeat."""
        while not self._stop.wait(self._every):
            if self._paused.is_set():
                continue
            done = threading.Event()
            sent = time.perf_counter()
            arrived: list[float] = []

            def mark(
                arrived: list[float] = arrived, done: threading.Event = done
            ) -> None:
                arrived.append(time.perf_counter())
                done.set()

            try:
                self._loop.call_soon_threadsafe(mark)
            except RuntimeError:
                return
            if not done.wait(30) or self._stop.is_set():
                continue
            if not self._paused.is_set():
                lag = arrived[0] - sent
                self.samples.append(lag)
                if len(self.worst) < 5 or lag > self.worst[-1][0]:
                    self.worst = sorted([*self.worst, (lag, self.doing)], reverse=True)[
                        :5
                    ]

    def stop(self) -> None:
        """End the thread."""
        self._stop.set()
        self.join(5)


def rss_bytes() -> int:
    """Return the process's resident memory."""
    pages = Path("/proc/self/statm").read_text(encoding="ascii").split()[1]
    return int(pages) * os.sysconf("SC_PAGE_SIZE")


def memory_sample(when: datetime, store_status: Any | None) -> dict[str, Any]:
    """Return one memory sample (taken each simulated hour)."""
    import tracemalloc  # noqa: PLC0415

    sample: dict[str, Any] = {
        "at": when.isoformat(),
        "rss": rss_bytes(),
        "objects": len(gc.get_objects()),
    }
    if tracemalloc.is_tracing():
        sample["heap"] = tracemalloc.get_traced_memory()[0]
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(inclusive=True, filename_pattern=INTEGRATION_FILES)]
        )
        sample["integration"] = sum(
            stat.size for stat in snapshot.statistics("filename")
        )
        sample["sites"] = {
            f"{Path(stat.traceback[0].filename).name}:{stat.traceback[0].lineno}": stat.size
            for stat in snapshot.statistics("lineno")[:12]
        }
    if store_status is not None:
        sample["queued"] = store_status.queued
        sample["spooled"] = store_status.spooled
    return sample
