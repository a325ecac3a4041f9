"""The soak's figures: printed, and kept in docs/reliability.md (one section per run)."""

from __future__ import annotations

from pathlib import Path
import re

from .checks import Verdict
from .schedule import Plan

HEADER = """# Reliability: the soak

`script/soak --days 7 --seed N` runs Home Monitor inside Home Assistant (the test harness's
`hass`, on a simulated clock) against the Hue bridge and Amazon simulators for a week of
simulated time: 12 Hue motion sensors (temperature and light level every 5 minutes, motion in
bursts), 3 Amazon air-quality monitors polled every 300 s, and a fault schedule drawn from
the seed. Home Assistant is restarted once and killed (SIGKILL) once; every life opens the
same history file. The readings the simulators served are compared with the history file
read afterwards. How it works: `docs/architecture.md`, "Soak". Each section below is one run
(the latest run of a seed and length replaces the earlier one).
"""


def lines(plan: Plan, verdict: Verdict) -> list[str]:
    """Return the run's figures as Markdown lines."""
    f = verdict.figures
    out = [
        f"## {f['days']:g} days, seed {f['seed']} ({f['date']})",
        "",
        (
            f"Result: **{'FAIL' if verdict.failures else 'pass'}** in {f['wall_s']} s of "
            f"wall time; {f['lives']} lives of Home Assistant, {f['kills']} kill(s); "
            f"integration at {f.get('source', 'unknown')}."
        ),
        "",
        "| check | figure |",
        "| --- | --- |",
    ]
    if "served" in f:
        out += [
            f"| readings served / stored (compared metrics) | {f['served']} / {f['stored']} |",
            f"| lost / duplicated | {f['lost']} / {f['duplicated']} |",
            f"| lost, by the fault they followed | {f['lost_by_fault'] or '-'} |",
            f"| duplicated, by the fault they followed | {f['duplicated_by_fault'] or '-'} |",
            (
                f"| lost within {f['kill_window_s']} s before a kill (allowed) | "
                f"{f['lost_in_kill_window']} |"
            ),
            f"| largest file + WAL / size budget | {f['disk_max']:,} / {f['budget']:,} bytes |",
            f"| largest WAL / bound | {f['wal_max']:,} / {f['wal_bound']:,} bytes |",
            f"| log lines by level | {f['log_lines']} |",
            f"| log bytes by level (total) | {f['log_bytes']} ({f['log_total']:,}) |",
            f"| event-loop lag p99 / max | {f.get('lag_p99_ms')} / {f.get('lag_max_ms')} ms |",
            f"| worst lags | {'; '.join(f.get('lag_worst', [])) or '-'} |",
            (
                f"| repairs raised (all cleared) | "
                f"{', '.join(f.get('repairs_raised', [])) or 'none'} |"
            ),
            f"| SQLite calls on the event loop | {f.get('sqlite_on_loop', 0)} |",
            (
                f"| readings the home emitted; timers run on the simulated clock | "
                f"{f.get('emitted')}; {f.get('timers_fired')} |"
            ),
        ]
        out += [
            "",
            "Memory after the first day of each life (slope per day, mean):",
            "",
        ]
        out += [
            (
                "| life | hours (judged from) | integration: slope/day, mean, sd | "
                "heap slope/day | RSS slope/day | grew most |"
            ),
            "| --- | --- | --- | --- | --- | --- |",
        ]
        out += [_memory_row(row) for row in f.get("memory", [])]
        out += [
            "",
            "Health while each fault lasted (samples, statuses, repairs, ok before):",
            "",
        ]
        out += [
            f"- {row[0]}: {row[1]} sample(s), {row[2]}, repairs {row[3]}, "
            f"ok before {row[4]}"
            for row in f.get("health", [])
        ]
    out += ["", "Fault schedule (offset, kind, duration):", "", "```"]
    out += [line.strip() for line in plan.describe()]
    out += ["```"]
    if verdict.failures:
        out += ["", "Failures:", ""] + [f"- {failure}" for failure in verdict.failures]
    return out


def _kb(value: float) -> str:
    return f"{value / 1000:+.1f} kB"


def _memory_row(row: dict) -> str:
    slope, mean = row.get("integration", (0, 0))
    judged = f"from {row['from_hour']}" if row.get("judged") else "not judged"
    return (
        f"| {row['life']} | {row['hours']} ({judged}) | {_kb(slope)}, "
        f"{mean / 1000:.0f} kB, {row.get('integration_sd', 0) / 1000:.0f} kB | "
        f"{_kb(row.get('heap', (0, 0))[0])} | {_kb(row.get('rss', (0, 0))[0])} | "
        f"{', '.join(row.get('grew_most', [])) or '-'} |"
    )


def print_verdict(plan: Plan, verdict: Verdict) -> None:
    """Print the figures and the failures."""
    print("\n".join(lines(plan, verdict)))  # noqa: T201
    if examples := verdict.figures.get("lost_examples"):
        print(f"lost, for example: {examples}")  # noqa: T201
    if examples := verdict.figures.get("duplicated_examples"):
        print(f"duplicated, for example: {examples}")  # noqa: T201
    print("soak: " + ("FAILED" if verdict.failures else "passed"))  # noqa: T201


def write_docs(path: Path, plan: Plan, verdict: Verdict) -> None:
    """Put the run's section into `path`, replacing an earlier run of the same seed/length."""
    text = path.read_text() if path.exists() else HEADER
    f = verdict.figures
    title = re.escape(f"## {f['days']:g} days, seed {f['seed']} (")
    sections = re.split(r"(?m)^(?=## )", text)
    kept = [s for s in sections if not re.match(title, s)]
    section = "\n".join(lines(plan, verdict)) + "\n"
    body = "".join(kept).rstrip("\n") + "\n\n" + section
    path.write_text(body)
