"""One life of Home Assistant in the soak: from a start (or restart) to a stop or a kill.

`python -m soak.life WORKDIR INDEX` runs life INDEX of the plan in WORKDIR/plan.json: the
test harness's Home Assistant on WORKDIR/config (the same history file in every life), the
simulated home on 127.0.0.1, both entries set up as a user's would be, the simulated clock
stepped through the readings, timers and faults of the life. It writes WORKDIR/life-N.json
(figures) and WORKDIR/state.json (the home and the entries, for the next life). A life that
ends in a kill prints `SOAK-KILL` once readings are in flight, and the parent sends SIGKILL.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import json
import os
from pathlib import Path
import sys
import time
import tracemalloc
from typing import Any
from unittest.mock import patch

from tests.simulators.hue_home import Clock

from .vtime import install_clock

CLOCK = Clock()
install_clock(
    CLOCK
)  # before Home Assistant's helpers and the integration bind `utcnow`

# ruff: noqa: E402 - the clock first
from aiohttp.resolver import ThreadedResolver
from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.home_monitor.history import get_store
from custom_components.home_monitor.sources.amazon.auth import stored_login_data
from custom_components.home_monitor.sources.amazon.client import SIMULATOR_ENV
from tests.sqlite_guard import VIOLATIONS

from .faults import FaultRunner, install_connection_guard
from .home import SimulatedHome
from .observe import LagMonitor, LogTally, memory_sample
from .sampler import Sampler
from .schedule import LIFE_ENDS, Plan
from .vtime import SimulatedTimers

STEP = timedelta(seconds=30)
HOUR = timedelta(hours=1)
QUIET_ROUNDS = 3
KILL_BURST = 12
KILL_SETTLE_S = 1.5


class Life:
    """One run of Home Assistant over part of the plan."""

    def __init__(self, work: Path, index: int) -> None:
        """Read the plan and the last life's state."""
        self.work = work
        self.index = index
        self.plan = Plan.from_json(json.loads((work / "plan.json").read_text()))
        self.begin, self.end, self.ending = self.plan.lives()[index]
        state_file = work / "state.json"
        self.state: dict[str, Any] = (
            json.loads(state_file.read_text()) if index and state_file.exists() else {}
        )
        CLOCK.now = self.begin
        self.home = SimulatedHome(
            CLOCK, self.plan.seed, work / "served.jsonl", self.state.get("home")
        )
        self.db = work / "config" / "home_monitor" / "history.db"
        self.results: dict[str, Any] = {"life": index, "begin": self.begin.isoformat()}
        self.tally = LogTally(lambda: CLOCK.now)

    def entries(self) -> list[MockConfigEntry]:
        """Return the Hue and Amazon entries, as the user added them (kept across lives)."""
        saved = self.state.get("entries", {})
        bridge = self.home.bridge
        hue = MockConfigEntry(
            domain="home_monitor",
            entry_id="soakhueentry",
            unique_id=bridge.bridge_id,
            title="Hue Bridge",
            data={
                "source": "hue",
                "host": bridge.host,
                "api_key": self.home.app_key,
                "api_version": 2,
            },
            options={"poll_interval": 10},
        )
        account = self.home.amazon.state.account
        amazon_data = saved.get("amazon") or {
            "source": "amazon",
            "username": account.email,
            "login_data": dict(stored_login_data(self.home.amazon.login_data())),
        }
        amazon = MockConfigEntry(
            domain="home_monitor",
            entry_id="soakamazonentry",
            unique_id=account.user_id,
            title=account.email,
            data=amazon_data,
            options={"poll_interval": 300},
        )
        return [hue, amazon]

    async def run(self) -> None:
        """Run the life to its end."""
        await self.home.start()
        os.environ[SIMULATOR_ENV] = self.home.amazon.target
        self.tally.install()
        # As the harness does: no zeroconf resolver (only 127.0.0.1 is reached).
        resolver: Any = ThreadedResolver()
        resolver.real_close = resolver.close
        with patch(
            "homeassistant.helpers.aiohttp_client._async_make_resolver",
            return_value=resolver,
        ):
            await self._run_hass()
        self.tally.remove()
        await self.home.stop()

    async def _run_hass(self) -> None:
        async with async_test_home_assistant(
            config_dir=str(self.work / "config")
        ) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
            self.hass = hass
            loop = asyncio.get_running_loop()
            for entry in self.entries():
                entry.add_to_hass(hass)
                await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
            self.timers = SimulatedTimers(loop, CLOCK)
            self.faults = FaultRunner(hass, self.home, self.db)
            self.sampler = Sampler(hass, self.db, self.tally)
            self.lag = lag = LagMonitor(loop)
            lag.start()
            await self.quiesce()
            await self.sampler.sample("start", CLOCK.now)
            await self.step_through()
            lag.stop()
            self.results.update(
                end=CLOCK.now.isoformat(),
                lag=[round(x, 5) for x in lag.samples],
                lag_worst=[[round(x, 4), doing] for x, doing in lag.worst],
                timers_fired=self.timers.fired,
                emitted=self.home.emitted,
                served=self.home.served.count,
                notes=self.faults.notes,
                sqlite_on_loop=len(VIOLATIONS),
                entries_loaded=[
                    e.state is ConfigEntryState.LOADED
                    for e in hass.config_entries.async_entries("home_monitor")
                ],
            )
            self.save(hass)
            if self.ending == "ha_kill":
                await self.die()
            await hass.async_stop(force=True)

    async def step_through(self) -> None:
        """Step the simulated clock to the life's end: readings, timers, faults, samples."""
        events: list[tuple[datetime, str, str]] = []
        for fault in self.plan.faults:
            if fault.kind in LIFE_ENDS or not self.begin <= fault.start < self.end:
                continue
            events += [
                (fault.start, "start", fault.kind),
                (fault.end, "end", fault.kind),
            ]
        events.sort()
        next_hour = CLOCK.now + HOUR
        while CLOCK.now < self.end:
            limit = min(self.end, next_hour, events[0][0] if events else self.end)
            due = min(self.home.next_time(), self.timers.next_due() or limit)
            target = min(limit, max(due, CLOCK.now) + STEP)
            self.lag.doing = f"step at {CLOCK.now.isoformat(timespec='seconds')}"
            self.home.run_until(target)
            self.timers.run_due(target)
            CLOCK.now = max(CLOCK.now, target)
            await self.quiesce()
            while events and events[0][0] <= CLOCK.now:
                _, what, kind = events.pop(0)
                await self.fault(what, kind)
            if CLOCK.now >= next_hour:
                next_hour += HOUR
                store = get_store(self.hass)
                self.lag.pause(True)  # the soak's own work on the loop is not lag
                self.sampler.memory.append(
                    memory_sample(CLOCK.now, store.status() if store else None)
                )
                self.lag.pause(False)
                self.lag.doing = "the hourly health report"
                await self.sampler.sample("hourly", CLOCK.now)
                self.home.amazon.reset_counts()  # the simulator's request log, not ours

    async def fault(self, what: str, kind: str) -> None:
        """Start or end a fault; look at health before and after."""
        self.lag.doing = f"{what} of {kind}"
        if what == "start":
            await self.sampler.sample(f"before {kind}", CLOCK.now)
            await self.faults.start(kind)
        else:
            await self.sampler.sample(f"during {kind}", CLOCK.now)
            await self.faults.end(kind)
        await self.quiesce()

    def signature(self) -> tuple[int, ...]:
        """Return figures that change while anything is still moving."""
        bridge, counters = self.home.bridge, self.home.bridge.counters
        hass: Any = self.hass
        return (
            bridge.request_count,
            counters.bytes_in,
            counters.bytes_out,
            len(self.home.amazon.requests),
            self.home.served.count,
            len(getattr(hass, "_tasks", ())),
            len(getattr(hass, "_background_tasks", ())),
        )

    async def quiesce(self, limit: float = 3.0) -> None:
        """Let the loop run until nothing moves (requests answered, events taken)."""
        deadline = time.monotonic() + limit
        quiet, last = 0, None
        while quiet < QUIET_ROUNDS and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
            now = self.signature()
            quiet = quiet + 1 if now == last else 0
            last = now

    def save(self, hass: Any) -> None:
        """Write this life's figures and what the next life needs."""
        amazon = hass.config_entries.async_get_entry("soakamazonentry")
        state = {
            "home": self.home.snapshot(),
            "entries": {"amazon": dict(amazon.data) if amazon else None},
        }
        (self.work / "state.json").write_text(json.dumps(state))
        self.results.update(self.sampler.as_json(), logs=self.tally.as_json())
        (self.work / f"life-{self.index}.json").write_text(json.dumps(self.results))

    async def die(self) -> None:
        """Put readings in flight, then ask the parent for SIGKILL (it never returns).

        First a second and a half of real time with nothing new, so everything served so far
        is committed (as in a home, where readings come minutes apart, not milliseconds);
        then a burst of one reading per sensor, served and handed to the store, and the kill
        within the commit interval. Only the burst may be lost.
        """
        await asyncio.sleep(KILL_SETTLE_S)
        burst = time.time()
        for n in range(KILL_BURST):
            CLOCK.now += timedelta(seconds=2)
            self.home.bridge.set_value(n, "temperature", 18.0 + 0.1 * n)
        await self.quiesce(0.3)
        print(f"SOAK-KILL {burst:.3f}", flush=True)  # noqa: T201
        await asyncio.sleep(120)
        raise SystemExit("the parent did not kill this life")


def main() -> None:
    """Run one life."""
    tracemalloc.start(1)
    install_connection_guard()
    work, index = Path(sys.argv[1]), int(sys.argv[2])
    asyncio.run(Life(work, index).run())


if __name__ == "__main__":
    main()
