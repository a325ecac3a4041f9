"""The soak's verdict: every check on what the lives recorded and what the store holds.

Readings: the served log (what the simulators sent while the integration was connected)
against the history file read afterwards. A reading served within the last commit interval
before a kill (the burst a dying life sends, see `life.Life.die`) may be missing: those are
counted apart, with the window. Every other check
reads the lives' samples: file sizes, health and repairs around each fault, the log's
lines and bytes, memory after the first day, event-loop lag.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import sqlite3
from typing import Any

from custom_components.home_monitor.store.schema import AUTOCHECKPOINT_PAGES
from custom_components.home_monitor.store.writer import TXN_READINGS

from .schedule import LIFE_ENDS, Plan

# SQLite checkpoints the WAL after the commit that takes it past the auto-checkpoint size
# (and cuts it back to `journal_size_limit`), so its bound is that size plus the largest
# transaction the writer makes (at most TXN_READINGS readings, under 40 bytes each).
WAL_BOUND = AUTOCHECKPOINT_PAGES * (4096 + 24) + 32 + TXN_READINGS * 40
LOG_BUDGET = 1_000_000
# Memory "flat": after a life's first day, the integration's heap grows (slope times the
# days judged) by no more than 5 % of itself or twice the spread of the hourly samples (it
# holds the readings in flight, which come and go). Judged in lives of 36 hours or more
# (shorter ones are printed).
MEMORY_GROWTH_SHARE = 0.05
MEMORY_JUDGED_HOURS = 36
# Per fault: the component that must leave ok while it lasts, and the repair it raises.
# Faults not listed must raise no repair at all (a blip gets none: grace periods).
EXPECTED: dict[str, tuple[str, str | None]] = {
    "hue_unreachable": ("hue", None),
    "hue_long_outage": ("hue", "hue_unreachable"),
    "hue_503_storm": ("hue", None),
    "hue_429_storm": ("hue", None),
    "amazon_rate_limit": ("amazon", None),
    "amazon_login_expiry": ("amazon", "login_expired"),
    "disk_full": ("store", "store_not_writable"),
}
COMPARED = {
    "temperature",
    "illuminance",
    "motion",
    "humidity",
    "voc_index",
    "pm25",
    "pm10",
    "co",
    "air_quality",
}


@dataclass
class Verdict:
    """Figures and failures."""

    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        """Record a failure unless `ok`."""
        if not ok:
            self.failures.append(message)


def stored_keys(db: Path) -> list[tuple[str, str, int]]:
    """Return every stored reading's (device, metric, time) (the file read afterwards)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT d.device_key, m.name, r.measured_at FROM readings r "
            "JOIN devices d ON d.id = r.device_id JOIN metrics m ON m.id = r.metric_id"
        ).fetchall()
    finally:
        conn.close()


def near_fault(plan: Plan, at_ms: int) -> str:
    """Return the fault a reading's time falls in (or up to 15 minutes after), if any."""
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    for fault in plan.faults:
        if fault.start <= at <= fault.end + timedelta(minutes=15):
            return fault.kind
    return "no fault"


def check_readings(
    verdict: Verdict, plan: Plan, work: Path, kills: list[tuple[float, float]]
) -> None:
    """Compare the served log with the store."""
    served: dict[tuple[str, str, int], float] = {}
    for line in (work / "served.jsonl").read_text().splitlines():
        try:
            device, metric, at, real, _ = json.loads(line)
        except ValueError:
            continue  # the line being written at a kill
        served.setdefault((device, metric, at), real)
    stored = [
        k
        for k in stored_keys(work / "config/home_monitor/history.db")
        if k[1] in COMPARED
    ]
    counts = Counter(stored)
    missing = [key for key in served if key not in counts]
    in_window = [
        key
        for key in missing
        if any(burst <= served[key] <= kill for burst, kill in kills)
    ]
    extra = [key for key in counts if key not in served]
    verdict.figures.update(
        served=len(served),
        stored=len(stored),
        lost=len(missing) - len(in_window),
        duplicated=len(extra) + sum(n - 1 for n in counts.values()),
        lost_in_kill_window=len(in_window),
        kill_window_s=round(max((kill - burst for burst, kill in kills), default=0), 2),
    )
    lost = [key for key in missing if key not in in_window]
    verdict.figures["lost_examples"] = [list(k) for k in lost[:5]]
    verdict.figures["lost_by_fault"] = dict(
        Counter(near_fault(plan, k[2]) for k in lost)
    )
    verdict.figures["duplicated_by_fault"] = dict(
        Counter(near_fault(plan, k[2]) for k in extra)
    )
    verdict.figures["duplicated_examples"] = [list(k) for k in extra[:5]]
    verdict.check(
        verdict.figures["lost"] == 0, f"{verdict.figures['lost']} reading(s) lost"
    )
    verdict.check(
        verdict.figures["duplicated"] == 0,
        f"{verdict.figures['duplicated']} duplicated",
    )


def check_disk(verdict: Verdict, samples: list[dict[str, Any]]) -> None:
    """Every sample under the size budget and the WAL bound."""
    sized = [s for s in samples if "budget" in s]
    db_max = max((s["db"] + s["wal"] for s in sized), default=0)
    wal_max = max((s["wal"] for s in sized), default=0)
    budget = min((s["budget"] for s in sized if s["budget"]), default=0)
    verdict.figures.update(
        disk_max=db_max,
        wal_max=wal_max,
        budget=budget,
        wal_bound=WAL_BOUND,
        disk_samples=len(sized),
    )
    verdict.check(
        all(s["db"] + s["wal"] <= s["budget"] for s in sized), "store over its budget"
    )
    verdict.check(all(s["wal"] <= WAL_BOUND for s in sized), "WAL over its bound")


def _status(sample: dict[str, Any], component: str) -> str:
    found = [c[2] for c in sample.get("components", []) if c[0] == component]
    order = ["ok", "degraded", "critical"]
    return max(found, key=order.index, default="ok")


def check_health(verdict: Verdict, plan: Plan, samples: list[dict[str, Any]]) -> None:
    """Each fault moves health as expected; health is ok again before the next one."""
    if not any("health" in s for s in samples):
        verdict.failures.append(
            "no health report (the integration has no health model)"
        )
        return
    by_label = defaultdict(list)
    for s in samples:
        by_label[s["label"]].append(s)
    rows, raised = [], set()
    for s in samples:
        raised.update(s["repairs"])
    for kind in sorted({f.kind for f in plan.faults if f.kind not in LIFE_ENDS}):
        during = by_label.get(f"during {kind}", [])
        before = by_label.get(f"before {kind}", [])
        statuses = Counter(s.get("health", "?") for s in during)
        repairs = sorted({r for s in during for r in s["repairs"]})
        rows.append(
            [
                kind,
                len(during),
                dict(statuses),
                repairs,
                sum(s.get("health") == "ok" and not s["repairs"] for s in before),
            ]
        )
        verdict.check(
            all(s.get("health") == "ok" and not s["repairs"] for s in before),
            f"health not ok (or a repair open) before {kind}",
        )
        component, repair = EXPECTED.get(kind, (None, None))
        if component is not None:
            verdict.check(
                all(_status(s, component) != "ok" for s in during),
                f"{kind}: {component} stayed ok",
            )
        if repair is None:
            verdict.check(not repairs, f"{kind}: a repair for a blip: {repairs}")
        else:
            verdict.check(
                all(any(repair in r for r in s["repairs"]) for s in during),
                f"{kind}: no {repair} repair",
            )
    last = samples[-1] if samples else {}
    verdict.check(
        last.get("health") == "ok" and not last.get("repairs"), "not ok at the end"
    )
    verdict.figures.update(health=rows, repairs_raised=sorted(raised))


def check_logs(verdict: Verdict, plan: Plan, lives: list[dict[str, Any]]) -> None:
    """Log volume by level; a persistent fault logs at its start and end, not every cycle."""
    lines, size = Counter(), Counter()
    warnings = []
    for life in lives:
        lines.update(life["logs"]["lines"])
        size.update(life["logs"]["bytes"])
        warnings += life["logs"]["warnings"]
    total = sum(size.values())
    verdict.figures.update(log_lines=dict(lines), log_bytes=dict(size), log_total=total)
    verdict.check(total < LOG_BUDGET, f"log output {total} bytes (budget {LOG_BUDGET})")
    repeats = []
    for fault in plan.faults:
        if fault.kind in LIFE_ENDS:
            continue
        begin, end = fault.start, fault.end + timedelta(hours=1)
        seen = Counter(
            (name, template)
            for at, _, name, template in warnings
            if begin <= datetime.fromisoformat(at) <= end
        )
        repeats += [f"{fault.kind}: {n}x {t!r}" for (_, t), n in seen.items() if n > 2]
    verdict.figures["log_repeats"] = repeats
    verdict.check(not repeats, f"a fault logged repeatedly: {repeats[:3]}")


def slope_per_day(points: list[tuple[float, float]]) -> float:
    """Return the least-squares slope of (hours, value) points, per day."""
    if len(points) < 3:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return 24 * sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def check_memory(verdict: Verdict, lives: list[dict[str, Any]]) -> None:
    """Memory after the first day of each life grows by about 0 (slope per day, mean)."""
    rows = []
    for life in lives:
        samples = life["memory"]
        if len(samples) < 6:
            continue
        t0 = datetime.fromisoformat(samples[0]["at"])
        hours = [
            (datetime.fromisoformat(s["at"]) - t0).total_seconds() / 3600
            for s in samples
        ]
        warm = min(24.0, hours[-1] / 2)
        kept = [(h, s) for h, s in zip(hours, samples, strict=True) if h >= warm]
        row = {
            "life": life["life"],
            "hours": round(hours[-1]),
            "from_hour": round(warm),
            "judged": hours[-1] + 1 >= MEMORY_JUDGED_HOURS,
        }
        for key in ("integration", "heap", "rss", "objects", "queued", "spooled"):
            if all(key in s for _, s in kept):
                values = [s[key] for _, s in kept]
                mean = sum(values) / len(values)
                row[key] = (
                    round(slope_per_day([(h, s[key]) for h, s in kept]), 1),
                    round(mean),
                )
                if key == "integration":
                    spread = sum((v - mean) ** 2 for v in values) / len(values)
                    row["integration_sd"] = round(spread**0.5)
        first, last = kept[0][1].get("sites", {}), kept[-1][1].get("sites", {})
        growth = sorted(((last[k] - first.get(k, 0), k) for k in last), reverse=True)[
            :3
        ]
        row["grew_most"] = [f"{k} +{g}" for g, k in growth if g > 0]
        rows.append(row)
    verdict.figures["memory"] = rows
    for row in rows:
        if not row["judged"]:
            continue
        slope, mean = row.get("integration", (0, 1))
        days = (row["hours"] - row["from_hour"]) / 24
        allowed = max(MEMORY_GROWTH_SHARE * mean, 2 * row.get("integration_sd", 0))
        verdict.check(
            slope * days <= allowed,
            f"life {row['life']}: the integration's memory grows {slope:.0f} bytes/day "
            f"(mean {mean}): {slope * days:.0f} over {days:.1f} days, more than {allowed:.0f}",
        )


def check_lag(verdict: Verdict, lives: list[dict[str, Any]]) -> None:
    """Event-loop lag p99 and max over the run."""
    lag = sorted(x for life in lives for x in life["lag"])
    if not lag:
        return
    p99 = lag[min(len(lag) - 1, int(len(lag) * 0.99))]
    verdict.figures.update(
        lag_p99_ms=round(p99 * 1000, 1),
        lag_max_ms=round(lag[-1] * 1000, 1),
        lag_samples=len(lag),
    )
    worst = sorted(
        (tuple(w) for life in lives for w in life.get("lag_worst", [])), reverse=True
    )[:3]
    verdict.figures["lag_worst"] = [
        f"{x * 1000:.0f} ms during {doing}" for x, doing in worst
    ]
    verdict.check(p99 < 0.25, f"event-loop lag p99 {p99 * 1000:.0f} ms")
