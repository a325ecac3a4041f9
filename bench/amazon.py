"""Requests and bytes per poll: Home Monitor's Amazon client vs aioamazondevices.

Both run side by side against the simulated Alexa cloud (tests/simulators/alexa.py),
which counts every request and the bytes of its body and of its reply
(uncompressed JSON; Amazon may gzip replies, which shrinks both sides alike).

- Home Monitor: one batched GraphQL state request per poll; discovery (two
  requests) once a day.
- aioamazondevices 16.x `get_devices_data()`, what Home Assistant's own
  alexa_devices integration calls every poll: the first call of a day also
  refreshes devices, music providers, routines and lists; every call reads
  notifications, each Echo's communication settings and every endpoint's state.

Then freshness per approach: requests a day and the time from a new value at
Amazon to the entity, at the default poll interval. Home Monitor and the
library's 16.x poll read every value each poll; 17.x's poll reads only
connectivity, light and motion, and leaves temperature and the air-quality
ranges to its HTTP/2 push (or to its once-a-day refresh).

    script/bench amazon [--json]
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import json
import logging
from pathlib import Path
import random
import statistics
import sys
import tempfile
import time
from typing import Any

import aioamazondevices
from aioamazondevices import AmazonEchoApi

from custom_components.home_monitor.sources.amazon import DEFAULT_POLL_INTERVAL
from custom_components.home_monitor.sources.amazon.auth import (
    AmazonCredentials,
    stored_login_data,
)
from custom_components.home_monitor.sources.amazon.client import (
    AmazonClient,
    AmazonHttp,
    simulator_session,
)
from custom_components.home_monitor.sources.amazon.coordinator import (
    async_discover,
    async_read_states,
)
from custom_components.home_monitor.sources.amazon.parsing import MonitorInfo
from tests.simulators.alexa import AlexaSimulator

SCENARIOS = ((1, 0), (3, 2), (10, 5))
POLLS = 5
LIBRARY_MAJOR = int(aioamazondevices.__version__.split(".", 1)[0])
DAY = 86400.0
INTERVAL = float(DEFAULT_POLL_INTERVAL)
# New values appear at Amazon at random times; this many are followed per day.
VALUES = 10_000


@dataclass
class Cost:
    """What one kind of call cost, per call."""

    requests: float
    sent: float
    received: float
    millis: float


def _cost(simulator: AlexaSimulator, calls: int, seconds: float) -> Cost:
    records = simulator.requests
    return Cost(
        requests=len(records) / calls,
        sent=sum(r.request_bytes for r in records) / calls,
        received=sum(r.response_bytes for r in records) / calls,
        millis=seconds * 1000 / calls,
    )


async def _measure(call: object, simulator: AlexaSimulator, calls: int) -> Cost:
    simulator.reset_counts()
    start = time.perf_counter()
    for _ in range(calls):
        simulator.advance()
        await call()  # type: ignore[operator]
    return _cost(simulator, calls, time.perf_counter() - start)


async def _scenario(monitors: int, echos: int) -> dict[str, Cost]:
    simulator = AlexaSimulator()
    for _ in range(monitors):
        simulator.add_monitor()
    for _ in range(echos):
        simulator.add_echo()
    await simulator.start()
    results: dict[str, Cost] = {}
    try:
        http = AmazonHttp(simulator_session("127.0.0.1", simulator.port), True)
        client = AmazonClient(
            http, AmazonCredentials(stored_login_data(simulator.login_data()))
        )
        monitors: list[MonitorInfo] = []

        async def discover() -> None:
            monitors[:] = (await async_discover(client))[0]

        async def poll() -> None:
            await async_read_states(client, monitors, datetime.now(UTC))

        results["home_monitor_discovery"] = await _measure(discover, simulator, 1)
        results["home_monitor_poll"] = await _measure(poll, simulator, POLLS)
        await client.async_close()

        from aioamazondevices.structures import AmazonSaveDataConfig  # noqa: PLC0415

        library_http = simulator_session("127.0.0.1", simulator.port)
        account_data = simulator.state.account
        with tempfile.TemporaryDirectory() as directory:
            api = AmazonEchoApi(
                library_http,
                account_data.email,
                account_data.password,
                save_data=AmazonSaveDataConfig(path=Path(directory)),
                login_data=simulator.login_data(),
            )
            await api.login.login_mode_stored_data()
            results["library_first_poll_of_day"] = await _measure(
                api.get_devices_data, simulator, 1
            )
            results["library_poll"] = await _measure(
                api.get_devices_data, simulator, POLLS
            )
        await library_http.close()
    finally:
        await simulator.close()
    return results


def _print(table: dict[str, dict[str, Cost]]) -> None:
    print(
        f"{'monitors+echos':<15}{'call':<28}{'requests':>9}{'sent B':>10}{'received B':>12}{'ms':>8}"
    )
    for name, results in table.items():
        for call, cost in results.items():
            print(
                f"{name:<15}{call:<28}{cost.requests:>9.1f}{cost.sent:>10.0f}"
                f"{cost.received:>12.0f}{cost.millis:>8.1f}"
            )
        ours, theirs = results["home_monitor_poll"], results["library_poll"]
        print(
            f"{name:<15}{'ratio library/home monitor':<28}"
            f"{theirs.requests / ours.requests:>9.1f}{theirs.sent / ours.sent:>10.1f}"
            f"{theirs.received / ours.received:>12.1f}"
        )


@dataclass
class Freshness:
    """Requests a day and the delay from a new value at Amazon to the entity."""

    requests_per_day: float
    mean_latency_s: float
    p95_latency_s: float
    max_latency_s: float


def _poll_freshness(per_poll: Cost, daily: Cost, interval: float) -> Freshness:
    """Follow `VALUES` new values, each appearing at a random time, to the next poll."""
    rng = random.Random(4711)
    phase = rng.uniform(0, interval)
    delays = sorted(
        (phase - t) % interval + per_poll.millis / 1000
        for t in (rng.uniform(0, DAY) for _ in range(VALUES))
    )
    return Freshness(
        requests_per_day=per_poll.requests * DAY / interval + daily.requests,
        mean_latency_s=statistics.fmean(delays),
        p95_latency_s=delays[int(0.95 * len(delays))],
        max_latency_s=delays[-1],
    )


def _freshness(results: dict[str, Cost]) -> dict[str, Freshness]:
    ours = _poll_freshness(
        results["home_monitor_poll"], results["home_monitor_discovery"], INTERVAL
    )
    library = _poll_freshness(
        results["library_poll"], results["library_first_poll_of_day"], INTERVAL
    )
    if LIBRARY_MAJOR >= 17:
        # Air-quality values come only with the daily refresh, without push.
        library = Freshness(library.requests_per_day, DAY / 2, 0.95 * DAY, DAY)
    return {"home_monitor_poll": ours, f"library_{LIBRARY_MAJOR}_poll": library}


@dataclass
class Push:
    """The library's HTTP/2 push, measured against the simulated stream."""

    library: str
    stream_requests_per_day: float
    mean_latency_s: float
    max_latency_s: float
    reconnect_s: float
    requests_per_reconnect: float


async def _push_scenario() -> Push | None:
    """Measure aioamazondevices 17.x's push: delay, channel requests, a stream drop."""
    if LIBRARY_MAJOR < 17:
        return None
    from aioamazondevices.implementation import http2  # noqa: PLC0415
    from aioamazondevices.structures import AmazonSaveDataConfig  # noqa: PLC0415
    import httpx  # noqa: PLC0415

    from tests.simulators.alexa_push import DIRECTIVES, AvsPushServer  # noqa: PLC0415

    simulator = AlexaSimulator()
    monitor = simulator.add_monitor()
    await simulator.start()
    push = AvsPushServer(simulator.state)
    await push.start()
    # The push host resolves to the simulator, as the Alexa hosts do.
    http2.HTTP2_SITE = f"https://127.0.0.1:{push.port}"  # type: ignore[misc]
    session = simulator_session("127.0.0.1", simulator.port)
    client = httpx.AsyncClient(http2=True, verify=False, timeout=None)  # noqa: S113, S501
    updates: asyncio.Queue[float] = asyncio.Queue()

    async def on_update() -> None:
        updates.put_nowait(time.perf_counter())

    async def until(condition: Any, limit: float = 30.0) -> float:
        start = time.perf_counter()
        while not condition():
            if time.perf_counter() - start > limit:
                raise TimeoutError
            await asyncio.sleep(0.01)
        return time.perf_counter() - start

    try:
        with tempfile.TemporaryDirectory() as directory:
            account = simulator.state.account
            api = AmazonEchoApi(
                session,
                account.email,
                account.password,
                save_data=AmazonSaveDataConfig(path=Path(directory)),
                login_data=simulator.login_data(),
            )
            await api.login.login_mode_stored_data()
            await api.get_devices_data()
            api.on_sensor_event.append(on_update)
            api.on_sensor_event.freeze()
            await api.start_http2_processing(client)
            await until(lambda: push.open_streams == 1)
            await asyncio.sleep(0.2)
            delays = []
            for _ in range(POLLS * 4):
                simulator.advance()
                sent = time.perf_counter()
                push.push_state(monitor)
                delays.append(await asyncio.wait_for(updates.get(), 10) - sent)
            # The stream drops: how long until it is back, and what it costs.
            simulator.reset_counts()
            before = sum(push.requests.values())
            opened = push.requests[DIRECTIVES]
            push.drop()
            reconnect = await until(lambda: push.requests[DIRECTIVES] > opened, 60.0)
            await asyncio.sleep(0.5)
            resync = len(simulator.requests) + sum(push.requests.values()) - before
            await api.stop_http2_processing()
    finally:
        await client.aclose()
        await session.close()
        await push.close()
        await simulator.close()
    # Per day: a ping every _PING_INTERVAL, plus the stream's own opening
    # (access token, stream, events check).
    pings = DAY / http2._PING_INTERVAL
    return Push(
        library=aioamazondevices.__version__,
        stream_requests_per_day=pings + 3,
        mean_latency_s=statistics.fmean(delays),
        max_latency_s=max(delays),
        reconnect_s=reconnect,
        requests_per_reconnect=resync,
    )


def _print_freshness(table: dict[str, dict[str, Freshness]]) -> None:
    print(
        f"\nFreshness at a {INTERVAL:.0f} s poll interval (air-quality values)\n"
        f"{'monitors+echos':<15}{'approach':<28}{'requests/day':>13}"
        f"{'mean s':>9}{'p95 s':>9}{'max s':>9}"
    )
    for name, rows in table.items():
        for approach, row in rows.items():
            print(
                f"{name:<15}{approach:<28}{row.requests_per_day:>13.0f}"
                f"{row.mean_latency_s:>9.1f}{row.p95_latency_s:>9.1f}"
                f"{row.max_latency_s:>9.1f}"
            )


def _print_push(push: Push | None) -> None:
    if push is None:
        print(
            f"\nPush: aioamazondevices {aioamazondevices.__version__} has none (17.x)"
        )
        return
    print(
        f"\nPush (aioamazondevices {push.library}, HTTP/2 directive stream, "
        "1 monitor)\n"
        f"  stream requests/day      {push.stream_requests_per_day:8.0f}"
        "  (pings every 280 s; on top of the library's poll)\n"
        f"  sample-to-update delay   {push.mean_latency_s * 1000:8.1f} ms mean, "
        f"{push.max_latency_s * 1000:.1f} ms max (simulator on loopback)\n"
        f"  stream drop              back after {push.reconnect_s:.1f} s, "
        f"{push.requests_per_reconnect:.0f} requests to reconnect and resync"
    )


async def _main(as_json: bool) -> None:
    table = {
        f"{monitors}+{echos}": await _scenario(monitors, echos)
        for monitors, echos in SCENARIOS
    }
    freshness = {name: _freshness(results) for name, results in table.items()}
    push = await _push_scenario()
    if as_json:
        print(
            json.dumps(
                {
                    name: {k: asdict(v) for k, v in r.items()}
                    | {f"freshness_{k}": asdict(v) for k, v in freshness[name].items()}
                    for name, r in table.items()
                }
                | {"push": asdict(push) if push else None},
                indent=2,
            )
        )
    else:
        _print(table)
        _print_freshness(freshness)
        _print_push(push)


if __name__ == "__main__":
    # The library warns about the simulator's empty lists; not what is measured.
    logging.getLogger("aioamazondevices").setLevel(logging.ERROR)
    asyncio.run(_main("--json" in sys.argv[1:]))
