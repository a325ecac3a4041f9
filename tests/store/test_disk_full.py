"""A really full disk at stop: the spool goes to space reserved ahead.

The store runs in a child process on a 16 MB tmpfs mounted in a private mount
namespace (`unshare -m`, which needs root), so SQLite and the spool meet a
real ENOSPC, not a simulated one.
"""

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = Path(__file__).parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from custom_components.home_monitor.models import Metric, Reading
    from custom_components.home_monitor.store import HistoryStore, StoreSettings

    folder = Path(sys.argv[1])
    path = folder / "home_monitor" / "history.db"
    T0 = datetime(2026, 1, 1, tzinfo=UTC)
    SETTINGS = StoreSettings(spool_max_readings=50_000)


    def readings(start, count):
        return [
            Reading("hue:b:1", Metric.TEMPERATURE, 20 + i / 100, "°C",
                    T0 + timedelta(seconds=i))
            for i in range(start, start + count)
        ]


    def fill(filler):
        with filler.open("wb", buffering=0) as file:
            for size in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        file.write(bytes(size))
                except OSError:
                    pass


    store = HistoryStore(path, SETTINGS)
    store.open()
    store.enqueue(readings(0, 5_000))
    assert store.flush(10)
    assert store.maintain(10)  # checkpointed: the WAL has no room left over
    fill(folder / "filler")
    store.enqueue(readings(5_000, 30_000))
    flushed = store.flush(3)
    full = store.status()
    store.close(30)
    stopped = store.status()
    (folder / "filler").unlink()
    again = HistoryStore(path, SETTINGS)
    again.open()
    assert again.flush(30)
    times = [row.measured_at for row in again.reader.readings(limit=100_000)]
    replayed = again.status()
    again.close(10)
    print(json.dumps({
        "flushed_while_full": flushed,
        "spooled_while_full": full.spooled,
        "at_risk_while_full": getattr(full, "readings_at_risk", None),
        "error_while_full": full.last_error,
        "saved": stopped.spool_saved,
        "saved_to": str(getattr(stopped, "spool_saved_to", None)),
        "dropped": stopped.readings_dropped,
        "replayed": replayed.spool_replayed,
        "stored": len(times),
        "distinct": len(set(times)),
        "expected": [(T0 + timedelta(seconds=i)).isoformat() for i in (0, 34_999)],
        "first_last": [times[0].isoformat(), times[-1].isoformat()] if times else [],
    }))
    """
)


def _run_on_a_small_tmpfs(folder: Path) -> dict[str, object]:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a private tmpfs mount needs root and unshare")
    mount_and_run = 'mount -t tmpfs -o size=16m tmpfs "$1" && exec "$2" -c "$3" "$1"'
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [  # noqa: S607 - unshare from the system's PATH
            "unshare",
            "--mount",
            "--propagation",
            "unchanged",
            "sh",
            "-c",
            mount_and_run,
            "sh",
            str(folder),
            sys.executable,
            SCRIPT,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "mount" in result.stderr and result.returncode == 32:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    report["log"] = result.stderr
    return report


def test_disk_full_at_stop_then_space_freed_stores_every_reading_once(
    tmp_path: Path,
) -> None:
    report = _run_on_a_small_tmpfs(tmp_path)
    assert not report["flushed_while_full"]
    assert "SQLITE_FULL" in str(report["error_while_full"])
    assert report["spooled_while_full"]
    assert report["at_risk_while_full"] == 0  # the reserve covers the spool
    assert report["saved"] == report["spooled_while_full"]
    assert str(report["saved_to"]).endswith("history.db.spool")
    assert report["dropped"] == 0
    assert report["replayed"] == report["saved"]
    assert report["stored"] == report["distinct"] == 35_000
    assert report["first_last"] == report["expected"]
    assert "they are lost" not in str(report["log"])
