"""A writer process killed mid-stream loses nothing it reported committed."""

import os
from pathlib import Path
import signal
import subprocess
import sys
import textwrap

from .helpers import database

ROOT = Path(__file__).parents[2]

WRITER = textwrap.dedent(
    """
    import sys, threading, time
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from custom_components.home_monitor.models import Metric, Reading
    from custom_components.home_monitor.store import HistoryStore, StoreSettings

    T0 = datetime(2026, 1, 1, tzinfo=UTC)
    store = HistoryStore(Path(sys.argv[1]), StoreSettings())
    store.open()

    def produce():
        n = 0
        while True:
            store.enqueue(
                Reading("hue:b:1", Metric.TEMPERATURE, float(i), "°C", T0 + timedelta(seconds=i))
                for i in range(n, n + 500)
            )
            n += 500
            time.sleep(0.002)

    threading.Thread(target=produce, daemon=True).start()
    while True:
        # readings are committed in the order they were queued
        print(store.status().readings_written, flush=True)
        time.sleep(0.005)
    """
)


def test_sigkill_mid_stream_keeps_every_reported_reading(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WRITER, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    reported = 0
    try:
        for line in process.stdout:
            reported = max(reported, int(line))
            if reported >= 60_000:
                break
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    assert reported >= 60_000
    with database(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = conn.execute(
            "SELECT count(*), min(measured_at), max(measured_at) FROM readings"
        ).fetchone()
    count, first, last = stored
    assert count >= reported
    # Every reading up to the last one reported is there, with no gap.
    assert first == 1767225600000
    assert last - first == (count - 1) * 1000
