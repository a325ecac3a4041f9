"""`python -m soak --days 7 --seed 1`: the soak's driver (see script/soak).

Draws the plan from the seed and prints it, runs each life of Home Assistant as a process
of its own (`soak.life`), sends SIGKILL when a life asks for its kill, then checks
everything (`soak.checks`), prints the figures and writes them to docs/reliability.md.
Exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

import certifi

from .checks import (
    Verdict,
    check_disk,
    check_health,
    check_lag,
    check_logs,
    check_memory,
    check_readings,
)
from .report import print_verdict, write_docs
from .schedule import Plan, make_plan


def source_version() -> str:
    """Return the commit the integration was run at (`+changes`: uncommitted ones too)."""
    if given := os.environ.get("SOAK_SOURCE"):
        return given  # a run from an exported tree says which commit it is
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "custom_components"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except OSError, subprocess.CalledProcessError:
        return "unknown"
    return head + ("+changes" if changed else "")


def private_ca_bundle(work: Path) -> None:
    """Give the lives a copy of certifi's CA file (Home Assistant loads it at import).

    Another job reinstalling the environment can rewrite the shared file while a life
    starts; a private copy, checked once, cannot change under the soak.
    """
    copy = work / "cacert.pem"
    for _ in range(10):
        shutil.copyfile(certifi.where(), copy)
        try:
            ssl.create_default_context(cafile=str(copy))
        except ssl.SSLError:
            time.sleep(1)
            continue
        os.environ["REQUESTS_CA_BUNDLE"] = str(copy)
        return


def run_lives(work: Path, count: int, verdict: Verdict) -> list[tuple[float, float]]:
    """Run every life in turn; return each kill's window (burst start, kill), real time."""
    kills: list[tuple[float, float]] = []
    for index in range(count):
        started = time.monotonic()
        with (work / f"life-{index}.log").open("w") as errors:
            proc = subprocess.Popen(  # noqa: S603 - this interpreter, our module
                [sys.executable, "-m", "soak.life", str(work), str(index)],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
            if proc.stdout is None:
                raise RuntimeError("no pipe")
            killed = False
            for line in proc.stdout:
                if line.startswith("SOAK-KILL"):
                    os.kill(proc.pid, signal.SIGKILL)
                    kills.append((float(line.split()[1]), time.time()))
                    killed = True
                else:
                    print(line, end="")  # noqa: T201
            code = proc.wait()
        wall = time.monotonic() - started
        how = "killed (SIGKILL)" if killed else f"exit {code}"
        print(f"  life {index}: {how}, {wall:.0f} s", flush=True)  # noqa: T201
        if not killed and code != 0:
            tail = (work / f"life-{index}.log").read_text().splitlines()[-30:]
            print("\n".join(tail), file=sys.stderr)  # noqa: T201
            verdict.failures.append(f"life {index} failed (exit {code})")
            break
    return kills


def main() -> int:
    """Run the soak; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="script/soak", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--docs",
        type=Path,
        default=Path("docs/reliability.md"),
        help="where to write the figures (docs/reliability.md)",
    )
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--recheck", type=Path, help="check a kept work folder again (no run)"
    )
    args = parser.parse_args()
    started = time.monotonic()
    verdict = Verdict()
    if args.recheck is not None:
        work = args.recheck
        plan = Plan.from_json(json.loads((work / "plan.json").read_text()))
        kills = [tuple(k) for k in json.loads((work / "kills.json").read_text())]
    else:
        work = Path(tempfile.mkdtemp(prefix="home-monitor-soak."))
        (work / "config").mkdir()
        plan = make_plan(args.seed, args.days)
        (work / "plan.json").write_text(json.dumps(plan.as_json()))
        print(  # noqa: T201
            f"== soak: {args.days:g} simulated days, seed {args.seed}, "
            f"{len(plan.lives())} lives of Home Assistant, work folder {work}"
        )
        print("fault schedule (offset from the start, kind, duration):")  # noqa: T201
        print("\n".join(plan.describe()), flush=True)  # noqa: T201
        private_ca_bundle(work)
        kills = run_lives(work, len(plan.lives()), verdict)
        (work / "kills.json").write_text(json.dumps(kills))
    lives = plan.lives()
    results = []
    for index in range(len(lives)):
        path = work / f"life-{index}.json"
        if path.exists():
            results.append(json.loads(path.read_text()))
    if len(results) == len(lives) and not verdict.failures:
        samples = [s for life in results for s in life["samples"]]
        check_readings(verdict, plan, work, kills)
        check_disk(verdict, samples)
        check_health(verdict, plan, samples)
        check_logs(verdict, plan, results)
        check_memory(verdict, results)
        check_lag(verdict, results)
        for life in results:
            for note in life["notes"]:
                verdict.failures.append(f"life {life['life']}: {note}")
            if life.get("sqlite_on_loop"):
                verdict.failures.append(
                    f"life {life['life']}: SQLite on the event loop"
                )
    run_file = work / "run.json"
    if args.recheck is None or not run_file.exists():
        run = {
            "wall_s": round(time.monotonic() - started),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "source": source_version(),
        }
        run_file.write_text(json.dumps(run))
    run = json.loads(run_file.read_text())
    verdict.figures.update(
        run,
        seed=plan.seed,
        days=plan.days,
        lives=len(lives),
        kills=len(kills),
        emitted=sum(life.get("emitted", 0) for life in results),
        sqlite_on_loop=sum(life.get("sqlite_on_loop", 0) for life in results),
        timers_fired=sum(life.get("timers_fired", 0) for life in results),
    )
    print_verdict(plan, verdict)
    if not args.no_docs:
        write_docs(args.docs, plan, verdict)
    if not args.keep and args.recheck is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if verdict.failures else 0


if __name__ == "__main__":
    sys.exit(main())
