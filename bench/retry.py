"""In-cycle retries against waiting for the next cycle, on simulated days.

Runs the integration's own retry loop (`retry.async_call_with_retry`), its
`RetryStats` and `CYCLE_SHARE`, and each source's own policy, poll interval,
request timeout and error classification, on a simulated clock (the loop's
`sleep` and `clock` are injected), side by side for three ways to retry:

- next cycle: one attempt per request; a failure waits for the next cycle;
- in-cycle: the source's policy, bounded by the cycle's deadline (as shipped
  before probing existed);
- in-cycle + probe: the same, but after a call failed for good each call
  makes one attempt until an update succeeds (`stats=` of the retry loop).

A failed cycle makes every entity of the source unavailable until the end of
the next good cycle (what `DataUpdateCoordinator` does); the next cycle starts
one poll interval after the end of the last one. A failed set-up is retried
with Home Assistant's `ConfigEntryNotReady` back-off (5 s doubling, at most
`SETUP_RETRY_MAX_WAIT`), each time with a fresh coordinator.

Scenarios, each on its own: blips (every request fails on its own with the
given probability: HTTP 503 or a dropped connection, answered at once), an
outage of 3 minutes every hour, an outage of 30 minutes a day. In an outage a
Hue bridge is off the network (no route to host after 3 s); Amazon answers
503 at once.

    script/bench retry [--days N] [--seed N] [--outage-latency S] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
import errno
from functools import cache
import importlib
import json
import random
import sys
from typing import Any

import aiohttp
from aiohttp.client_reqrep import ConnectionKey
from homeassistant.config_entries import SETUP_RETRY_MAX_WAIT

from custom_components.home_monitor.retry import (
    CYCLE_SHARE,
    BackoffPolicy,
    Failure,
    RetryError,
    RetryEvent,
    RetryStats,
    async_call_with_retry,
)

DAY = 86400.0
HUE = "custom_components.home_monitor.sources.hue"
AMAZON = "custom_components.home_monitor.sources.amazon"
SETUP_STARTS = 2000  # set-ups per scenario, spread evenly over the simulated days


def _find(name: str, *modules: str) -> Any:
    """Return `name` from the first of `modules` that defines it."""
    for module in modules:
        try:
            found: Any = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise  # the module exists but is broken
            continue
        for part in name.split("."):
            found = getattr(found, part, None)
        if found is not None:
            return found
    raise ImportError(f"{name} not found in {', '.join(modules)}")


def _hue(name: str) -> Any:
    modules = ("", ".const", ".client", ".coordinator", ".errors")
    return _find(name, *(HUE + module for module in modules))


def _amazon(name: str) -> Any:
    modules = ("", ".const", ".coordinator", ".client", ".errors")
    return _find(name, *(AMAZON + module for module in modules))


@dataclass(frozen=True, slots=True)
class Call:
    """One retried call; an attempt sends `requests` HTTP requests in a row."""

    endpoint: str
    requests: int = 1


@dataclass(frozen=True, slots=True)
class Source:
    """What the simulation needs to know of one source, read from its code."""

    name: str
    interval: float
    policy: BackoffPolicy
    classify: Callable[[BaseException], Failure]
    request_timeout: float
    cut_at_deadline: bool  # Hue cuts an attempt at the cycle's deadline
    latency: float  # of a good reply
    poll: tuple[Call, ...]
    setup: tuple[Call, ...]
    setup_budget: float
    blips: tuple[Callable[[], BaseException], ...]
    outage: Callable[[], BaseException]
    outage_latency: float
    discovery: Call | None = None  # Amazon: once a day, at set-up first
    days_scale: int = 1  # simulate this many more days: as many cycles as Hue


@dataclass(frozen=True, slots=True)
class Scenario:
    """Failures of one simulated day."""

    name: str
    blip_share: float = 0.0
    outage: float = 0.0  # seconds, once a period, at a random time in it
    period: float = DAY

    def down(self, now: float, seed: int) -> bool:
        """Return whether the far end is down at `now`."""
        if not self.outage:
            return False
        index, into = divmod(now, self.period)
        start = _outage_start(seed, int(index), self.period - self.outage)
        return 0 <= into - start < self.outage


@cache
def _outage_start(seed: int, index: int, latest: float) -> float:
    return random.Random(seed * 100_003 + index).random() * latest


@dataclass(frozen=True, slots=True)
class Variant:
    """One way to retry."""

    name: str
    single_attempt: bool = False
    probe: bool = False


@dataclass(slots=True)
class Figures:
    """Per simulated day, and for the set-ups."""

    source: str
    variant: str
    scenario: str
    unavailable_min: float
    requests: float
    retry_events: float
    failed_cycles: float
    setup_mean_s: float
    setup_first_try_failed: float


def _response_error(status: int) -> Callable[[], BaseException]:
    return lambda: aiohttp.ClientResponseError(None, (), status=status)  # type: ignore[arg-type]


def _unreachable() -> BaseException:
    key = ConnectionKey("bridge", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(
        key, OSError(errno.EHOSTUNREACH, "No route to host")
    )


def sources(outage_latency: float | None = None) -> tuple[Source, ...]:
    """Return the Hue (v1, v2 while its stream is down) and Amazon sources."""
    hue_interval = float(_hue("DEFAULT_POLL_INTERVAL"))
    hue = {
        "interval": hue_interval,
        "policy": _hue("HueCoordinator.policy"),
        "classify": _hue("classify_hue_error"),
        "request_timeout": float(_hue("REQUEST_TIMEOUT")),
        "cut_at_deadline": True,
        "latency": 0.05,
        "blips": (_response_error(503), aiohttp.ServerDisconnectedError),
        "outage": _unreachable,
        "outage_latency": 3.0 if outage_latency is None else outage_latency,
    }
    v2_poll = tuple(Call(f"clip/v2/resource/{t}") for t in _hue("V2_POLLED_TYPES"))
    v2_setup = tuple(Call(f"clip/v2/resource/{t}") for t in _hue("V2_SETUP_TYPES"))
    amazon_interval = float(_amazon("DEFAULT_POLL_INTERVAL"))
    return (
        Source(
            name="Hue v1",
            poll=(Call("sensors"),),
            setup=(Call("sensors"),),
            setup_budget=hue_interval * CYCLE_SHARE,
            **hue,
        ),
        Source(
            name="Hue v2, stream down",
            poll=v2_poll,
            setup=v2_setup,
            setup_budget=_hue("SETUP_BUDGET").total_seconds(),
            **hue,
        ),
        Source(
            name="Amazon",
            interval=amazon_interval,
            policy=_amazon("AmazonCoordinator.policy"),
            classify=_amazon("classify"),
            request_timeout=float(_amazon("REQUEST_TIMEOUT")),
            cut_at_deadline=False,
            latency=0.5,
            poll=(Call("state"),),
            setup=(Call("discovery", 2), Call("state")),
            setup_budget=amazon_interval * CYCLE_SHARE,
            blips=(_response_error(503), aiohttp.ServerDisconnectedError),
            outage=_response_error(503),
            outage_latency=0.3 if outage_latency is None else outage_latency,
            discovery=Call("discovery", 2),
            days_scale=max(1, round(amazon_interval / hue_interval)),
        ),
    )


SCENARIOS = (
    Scenario("blips 2 %", blip_share=0.02),
    Scenario("blips 10 %", blip_share=0.10),
    Scenario("3 min/h outage", outage=180, period=3600),
    Scenario("30 min outage", outage=1800),
)
VARIANTS = (
    Variant("next cycle", single_attempt=True),
    Variant("in-cycle"),
    Variant("in-cycle + probe", probe=True),
)


class Simulation:
    """One source against one scenario, on a simulated clock."""

    def __init__(
        self, source: Source, scenario: Scenario, variant: Variant, seed: int
    ) -> None:
        """Start at time 0 with nothing sent."""
        self.source = source
        self.scenario = scenario
        self.variant = variant
        self.policy = (
            replace(source.policy, attempts=1)
            if variant.single_attempt
            else source.policy
        )
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 0.0
        self.requests = 0
        self.events = 0
        self.stats = RetryStats()

    def clock(self) -> float:
        """Return the simulated time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Let simulated time pass."""
        self.now += seconds

    def _request(self, deadline: float) -> None:
        source, start = self.source, self.now
        self.requests += 1
        limit = source.request_timeout
        if source.cut_at_deadline:
            limit = max(0.05, min(limit, deadline - start))
        error: BaseException | None = None
        took = source.latency
        if self.scenario.down(start, self.seed):
            error, took = source.outage(), source.outage_latency
        elif self.rng.random() < self.scenario.blip_share:
            error, took = self.rng.choice(source.blips)(), source.latency
        if took > limit:
            self.now = start + limit
            raise TimeoutError
        self.now = start + took
        if error is not None:
            raise error

    def _record(self, event: RetryEvent) -> None:
        self.events += 1
        self.stats.record(event)

    async def call(self, call: Call, deadline: float) -> bool:
        """Run one call through the retry loop; False if it failed for good."""

        async def attempt() -> None:
            for _ in range(call.requests):
                self._request(deadline)

        try:
            await async_call_with_retry(
                attempt,
                source=self.source.name,
                endpoint=call.endpoint,
                classify=self.source.classify,
                policy=self.policy,
                on_event=self._record,
                deadline=deadline,
                sleep=self.sleep,
                clock=self.clock,
                stats=self.stats if self.variant.probe else None,
            )
        except RetryError:
            return False
        return True

    async def cycle(self, calls: tuple[Call, ...], budget: float) -> bool:
        """Run the calls of one cycle in a row; the first failure ends it."""
        deadline = self.now + budget
        for call in calls:
            if not await self.call(call, deadline):
                return False
        return True

    async def setup(self, start: float) -> tuple[float, bool]:
        """Set up at `start` until it works; return its duration and first result."""
        self.now, tries = start, 0
        while True:
            self.stats = RetryStats()  # a new coordinator for every attempt
            if await self.cycle(self.source.setup, self.source.setup_budget):
                return self.now - start, tries == 0
            self.now += min(2**tries * 5, SETUP_RETRY_MAX_WAIT)
            tries += 1

    async def run(self, days: int) -> tuple[float, int]:
        """Poll for `days`; return the unavailable seconds and failed cycles."""
        source = self.source
        self.stats, self.now = RetryStats(), 0.0
        discovered = 0.0
        down_since: float | None = None
        unavailable, failed = 0.0, 0
        while self.now < days * DAY:
            deadline = self.now + source.interval * CYCLE_SHARE
            if source.discovery is not None and self.now - discovered >= DAY:
                # Known monitors are read even when the discovery fails; it is
                # tried again an hour later.
                found = await self.call(source.discovery, deadline)
                discovered = self.now if found else self.now - DAY + 3600
            ok = await self.cycle(source.poll, deadline - self.now)
            if ok:
                self.stats.record_success()
                if down_since is not None:
                    unavailable += self.now - down_since
                    down_since = None
            else:
                failed += 1
                if down_since is None:
                    down_since = self.now
            self.now += source.interval
        if down_since is not None:
            unavailable += self.now - down_since
        return unavailable, failed


async def measure(
    source: Source, scenario: Scenario, variant: Variant, days: int, seed: int
) -> Figures:
    """Return the figures of one source, scenario and way to retry."""
    random.seed(seed)  # the policy's jitter
    sim = Simulation(source, scenario, variant, seed)
    days *= source.days_scale
    unavailable, failed = await sim.run(days)
    requests, events = sim.requests, sim.events
    spacing = days * DAY / SETUP_STARTS
    setups = [await sim.setup(i * spacing + 7.3) for i in range(SETUP_STARTS)]
    return Figures(
        source=source.name,
        variant=variant.name,
        scenario=scenario.name,
        unavailable_min=unavailable / 60 / days,
        requests=requests / days,
        retry_events=events / days,
        failed_cycles=failed / days,
        setup_mean_s=sum(s for s, _ in setups) / len(setups),
        setup_first_try_failed=sum(not first for _, first in setups) / len(setups),
    )


async def run_all(
    days: int, seed: int, outage_latency: float | None = None
) -> list[Figures]:
    """Measure every source, scenario and way to retry, with the same seeds."""
    return [
        await measure(source, scenario, variant, days, seed + n)
        for source in sources(outage_latency)
        for n, scenario in enumerate(SCENARIOS)
        for variant in VARIANTS
    ]


def _table(results: list[Figures], days: int) -> str:
    lines = [
        (
            f"Per simulated day (mean of {days} days for Hue, {days * 30} for "
            f"Amazon); set-up: mean of {SETUP_STARTS} starts spread over those days."
        ),
        "",
        (
            "| source | scenario | retries | unavailable min | failed cycles "
            "| requests | retry events | set-up mean s | set-up 1st try failed |"
        ),
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines.extend(
        f"| {f.source} | {f.scenario} | {f.variant} | {f.unavailable_min:.1f} "
        f"| {f.failed_cycles:.1f} | {f.requests:,.0f} | {f.retry_events:,.0f} "
        f"| {f.setup_mean_s:.1f} | {f.setup_first_try_failed:.1%} |"
        for f in results
    )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Print the figures as a Markdown table, or as JSON with `--json`."""
    parser = argparse.ArgumentParser(prog="script/bench retry")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--outage-latency",
        type=float,
        help="seconds until a request fails in an outage (Hue 3, Amazon 0.3)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = asyncio.run(run_all(args.days, args.seed, args.outage_latency))
    if args.json:
        print(json.dumps([asdict(f) for f in results]))
    else:
        print(_table(results, args.days))


if __name__ == "__main__":
    main(sys.argv[1:])
