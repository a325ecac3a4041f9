"""The soak's plan: when the home starts, which faults happen when, and Home Assistant's lives.

Everything follows from the seed, so a run can be repeated. Faults never overlap: each
gets a slot of its own with at least an hour of calm after it, so every fault's health
states and repairs can be told apart and seen to clear. An HA restart or a kill ends one
life of Home Assistant; the next life opens the same history file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
import random
from typing import Any

# kind -> (shortest, longest) duration in simulated seconds.
FAULTS: dict[str, tuple[int, int]] = {
    "hue_restart": (45, 120),
    "hue_unreachable": (1200, 1200),
    # Past the 30-minute grace: the "bridge unreachable" repair is raised, then cleared.
    "hue_long_outage": (2400, 2400),
    "hue_503_storm": (300, 900),
    "hue_429_storm": (300, 900),
    "malformed_events": (60, 300),
    "amazon_rate_limit": (1200, 1800),
    "amazon_503_storm": (600, 900),
    "amazon_login_expiry": (1800, 2400),
    # Another process holds the write lock for 10 real seconds; the home goes on meanwhile.
    "store_locked": (600, 600),
    "disk_full": (1200, 2400),
}
LIFE_ENDS = ("ha_restart", "ha_kill")
CALM_S = 3600
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: what, from when, for how long (simulated seconds)."""

    kind: str
    start: datetime
    seconds: int

    @property
    def end(self) -> datetime:
        """Return when the fault ends."""
        return self.start + timedelta(seconds=self.seconds)

    def as_json(self) -> dict[str, Any]:
        """Return plain data."""
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Return the fault `as_json()` described."""
        return cls(data["kind"], datetime.fromisoformat(data["start"]), data["seconds"])


@dataclass(frozen=True, slots=True)
class Plan:
    """The whole run."""

    seed: int
    days: float
    start: datetime
    faults: tuple[Fault, ...]

    @property
    def end(self) -> datetime:
        """Return when the run ends (simulated)."""
        return self.start + timedelta(days=self.days)

    def lives(self) -> list[tuple[datetime, datetime, str]]:
        """Return each life of Home Assistant: (from, to, how it ends)."""
        bounds = [f for f in self.faults if f.kind in LIFE_ENDS]
        lives, begin = [], self.start
        for fault in bounds:
            lives.append((begin, fault.start, fault.kind))
            begin = fault.end
        lives.append((begin, self.end, "end"))
        return lives

    def as_json(self) -> dict[str, Any]:
        """Return plain data."""
        return {
            "seed": self.seed,
            "days": self.days,
            "start": self.start.isoformat(),
            "faults": [fault.as_json() for fault in self.faults],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """Return the plan `as_json()` described."""
        return cls(
            data["seed"],
            data["days"],
            datetime.fromisoformat(data["start"]),
            tuple(Fault.from_json(f) for f in data["faults"]),
        )

    def describe(self) -> list[str]:
        """Return one line per fault, for the printed schedule."""
        return [
            f"  {f.start - self.start}  {f.kind:<22} {f.seconds:>5} s"
            + ("  (the lock: 10 real seconds)" if f.kind == "store_locked" else "")
            for f in self.faults
        ]


def make_plan(seed: int, days: float, now: datetime | None = None) -> Plan:
    """Draw the faults of a run of `days` simulated days from `seed`.

    Every fault kind happens once per round; a run of a week has three rounds, a run of a
    day one. The first round also holds an HA restart, the last a kill, so a week's middle
    life lasts days (memory is judged after a life's first day).
    """
    rand = random.Random(seed)  # noqa: S311 - a plan, not a secret
    now = now or datetime.now(UTC)
    # The simulated week ends about now, so every time in the file is in the past.
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=days)
    rounds = 3 if days >= 3 else 1
    kinds: list[str] = []
    for n in range(rounds):
        round_kinds = list(FAULTS)
        if n == 0:
            round_kinds.append("ha_restart")
        if n == rounds - 1:
            round_kinds.append("ha_kill")
        rand.shuffle(round_kinds)
        kinds += round_kinds
    # The first hour is calm (first poll, first events); so is the last.
    usable = days * DAY.total_seconds() - 2 * CALM_S
    slot = usable / len(kinds)
    faults = []
    for n, kind in enumerate(kinds):
        low, high = FAULTS.get(kind, (120, 300))
        seconds = rand.randint(low, high)
        room = max(0.0, slot - seconds - CALM_S)
        offset = CALM_S + n * slot + rand.uniform(0, room)
        faults.append(Fault(kind, start + timedelta(seconds=int(offset)), seconds))
    return Plan(seed, days, start, tuple(faults))
