"""Readings to write and plain SQLite looks at the resulting file."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
import sqlite3
import threading
import time

from custom_components.home_monitor.models import Metric, Reading

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEVICE = "hue:bridge1:sensor1"


def make_readings(
    count: int,
    *,
    device: str = DEVICE,
    metric: Metric = Metric.TEMPERATURE,
    start: datetime = T0,
    step: timedelta = timedelta(minutes=1),
    unit: str | None = "°C",
    value: Callable[[int], float] = lambda i: 20 + i / 100,
) -> list[Reading]:
    """Return `count` readings of one series, `step` apart."""
    return [
        Reading(device, metric, value(i), unit, start + i * step) for i in range(count)
    ]


@contextmanager
def database(path: Path) -> Iterator[sqlite3.Connection]:
    """Open the file on a connection of the test's own."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def scalar(path: Path, sql: str, *params: object) -> object:
    """Return the first column of the first row of a query."""
    with database(path) as conn:
        return conn.execute(sql, params).fetchone()[0]


def reading_count(path: Path) -> int:
    """Return how many rows the readings table holds."""
    count = scalar(path, "SELECT count(*) FROM readings")
    assert isinstance(count, int)
    return count


def stored_keys(path: Path) -> list[tuple[str, str, int]]:
    """Return (device key, metric, measured ms) of every stored reading."""
    with database(path) as conn:
        return conn.execute(
            "SELECT devices.device_key, metrics.name, readings.measured_at "
            "FROM readings JOIN devices ON devices.id = readings.device_id "
            "JOIN metrics ON metrics.id = readings.metric_id ORDER BY 1, 2, 3"
        ).fetchall()


def expected_keys(readings: list[Reading]) -> list[tuple[str, str, int]]:
    """Return the keys `stored_keys` gives for these readings, each once."""
    return sorted(
        {
            (r.device_key, str(r.metric), int(r.measured_at.timestamp() * 1000))
            for r in readings
        }
    )


def event_kinds(path: Path) -> list[str]:
    """Return the kinds of the stored events, oldest first."""
    with database(path) as conn:
        return [row[0] for row in conn.execute("SELECT kind FROM events ORDER BY id")]


def hold_exclusive_lock(
    path: Path, seconds: float, taken: threading.Event
) -> threading.Thread:
    """Hold an exclusive lock on the file from another connection for a while."""

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        taken.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(5)
    return thread
