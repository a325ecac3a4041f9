"""Hue traffic benchmark: full-configuration polling, /sensors polling, v2 event stream.

A simulated bridge with a realistic home (40 lights, 12 motion sensors, 30 scenes,
20 rules) runs for one simulated hour in which every sensor's temperature changes every
5 minutes. The same client code the integration uses reads it four ways, side by side:

- full: GET /api/<key> every poll interval (the whole configuration, the old way)
- sensors: GET /api/<key>/sensors every poll interval (what v1 bridges get now)
- poll5s: GET /api/<key>/sensors every 5 s (what Home Assistant's own v1 code does)
- stream: the v2 set-up read, then the CLIP v2 event stream (aiohue's keep-alive included)

Bytes are HTTP bytes in both directions (headers and bodies) counted by the simulator.
Cycle times are real wall-clock times of request plus parsing plus mapping.

    python -m bench.hue [--json]
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
import json
import statistics
import sys
import time
from typing import Any

from aiohue import HueBridgeV1

from custom_components.home_monitor.retry import async_call_with_retry
from custom_components.home_monitor.sources.hue import DEFAULT_POLL_INTERVAL
from custom_components.home_monitor.sources.hue.client import (
    HUE_POLICY,
    CheckedBridgeV2,
    classify_hue_error,
    create_session,
    fetch_v1_sensors,
)
from custom_components.home_monitor.sources.hue.coordinator import (
    KEEPALIVE_TYPE,
    V2_SETUP_TYPES,
)
from custom_components.home_monitor.sources.hue.mapping import (
    V2_SERVICES,
    v1_devices,
    v2_value,
)
from custom_components.home_monitor.sources.hue.measurements import TrafficCounter
from tests.simulators.hue_bridge import HomeSpec, HueBridgeSimulator

from .hue_clock import run

HOME = HomeSpec(lights=40, motion_sensors=12, rooms=8, scenes=30, rules=20)
HOUR = 3600.0
TEMPERATURE_PERIOD = 300.0
TICK = 5.0


async def _bridge() -> tuple[HueBridgeSimulator, str]:
    bridge = HueBridgeSimulator(HOME)
    bridge.temperature_period = TEMPERATURE_PERIOD
    await bridge.start()
    return bridge, bridge.add_app_key("home-monitor#bench")


def _traffic(bridge: HueBridgeSimulator) -> int:
    return bridge.counters.bytes_in + bridge.counters.bytes_out


async def _ticker(bridge: HueBridgeSimulator, seconds: float) -> None:
    """Move the bridge's clock with the loop's (changes are pushed as they happen)."""
    elapsed = 0.0
    while elapsed < seconds:
        await asyncio.sleep(TICK)
        bridge.advance(TICK)
        elapsed += TICK


async def _poll_hour(
    interval: float, fetch: Callable[[HueBridgeV1], Awaitable[dict[str, Any]]]
) -> dict[str, float]:
    """Poll for an hour; return bytes for the hour and the mean cycle time."""
    bridge, key = await _bridge()
    session = create_session(TrafficCounter())
    client = HueBridgeV1(bridge.host, key, session)
    durations: list[float] = []
    readings = 0
    start = _traffic(bridge)
    ticker = asyncio.create_task(_ticker(bridge, HOUR))
    try:
        for _ in range(int(HOUR / interval)):
            began = time.perf_counter()
            raw = await fetch(client)
            _, found = v1_devices(raw, bridge.bridge_id, "hub", bridge.home.clock.now)
            durations.append((time.perf_counter() - began) * 1000)
            readings += len(found)
            await asyncio.sleep(interval)
        await ticker
    finally:
        await session.close()
        await bridge.stop()
    return {
        "bytes_per_hour": _traffic(bridge) - start,
        "cycle_ms": round(statistics.mean(durations), 3),
        "cycles": len(durations),
    }


async def _full(client: HueBridgeV1) -> dict[str, Any]:
    full = await client.request("get", "")
    sensors: dict[str, Any] = full["sensors"]
    return sensors


async def _sensors(client: HueBridgeV1) -> dict[str, Any]:
    return await fetch_v1_sensors(client)


async def _stream_hour() -> dict[str, float]:
    """Set up like the integration, then listen to the event stream for an hour."""
    bridge, key = await _bridge()
    session = create_session(TrafficCounter())
    changes: list[str] = []
    connected = asyncio.Event()
    client = CheckedBridgeV2(
        bridge.host,
        key,
        session,
        name=bridge.bridge_id,
        on_resource=lambda _, item: changes.append(item["type"]),
        on_ended=lambda _: None,
    )

    async def call(endpoint: str, request: Callable[[], Awaitable[Any]]) -> Any:
        return await async_call_with_retry(
            request,
            source="hue",
            endpoint=endpoint,
            classify=classify_hue_error,
            policy=HUE_POLICY,
            on_event=lambda _: None,
        )

    requests_before = bridge.request_count
    # The set-up read: each sensor resource checked once, as the coordinator does.
    for rtype in V2_SETUP_TYPES:
        for item in await call(rtype, partial(client.fetch, rtype)):
            if rtype in V2_SERVICES:
                v2_value(item)
    await client.load_keepalive_clients(
        await call(KEEPALIVE_TYPE, partial(client.fetch, KEEPALIVE_TYPE))
    )
    setup = {
        "setup_bytes": _traffic(bridge),
        "setup_requests": bridge.request_count - requests_before,
    }
    await client.start_stream(lambda *_: connected.set())
    await connected.wait()
    start, requests = _traffic(bridge), bridge.request_count
    await _ticker(bridge, HOUR)
    result = {**setup, "stream_bytes_per_hour": _traffic(bridge) - start}
    result["stream_requests"] = bridge.request_count - requests
    result["stream_events"] = len([c for c in changes if c == "temperature"])
    await client.events.stop()
    await session.close()
    await bridge.stop()
    return result


async def _reference_setup() -> int:
    """Bytes of Home Assistant's own v2 set-up read (GET /clip/v2/resource)."""
    bridge, key = await _bridge()
    session = create_session(TrafficCounter())
    try:
        async with session.get(
            f"https://{bridge.host}/clip/v2/resource",
            headers={"hue-application-key": key},
            ssl=False,
        ) as response:
            await response.read()
    finally:
        await session.close()
        await bridge.stop()
    return _traffic(bridge)


async def _measure() -> dict[str, Any]:
    full = await _poll_hour(DEFAULT_POLL_INTERVAL, _full)
    sensors = await _poll_hour(DEFAULT_POLL_INTERVAL, _sensors)
    poll5s = await _poll_hour(5.0, _sensors)
    stream = await _stream_hour()
    return {
        "full_bytes_per_hour": full["bytes_per_hour"],
        "sensors_bytes_per_hour": sensors["bytes_per_hour"],
        "poll5s_bytes_per_hour": poll5s["bytes_per_hour"],
        "stream_bytes_per_hour": stream["stream_bytes_per_hour"],
        "full_cycle_ms": full["cycle_ms"],
        "sensors_cycle_ms": sensors["cycle_ms"],
        "setup_bytes": stream["setup_bytes"],
        "setup_requests": stream["setup_requests"],
        "_events": stream["stream_events"],
        "_stream_requests": stream["stream_requests"],
        "_reference_setup_bytes": await _reference_setup(),
    }


def _report(m: dict[str, Any]) -> str:
    bytes_saved = 1 - m["sensors_bytes_per_hour"] / m["full_bytes_per_hour"]
    time_saved = 1 - m["sensors_cycle_ms"] / m["full_cycle_ms"]
    stream_saved = 1 - m["stream_bytes_per_hour"] / m["poll5s_bytes_per_hour"]
    setup_saved = 1 - m["setup_bytes"] / m["_reference_setup_bytes"]
    interval = DEFAULT_POLL_INTERVAL
    lines = [
        (
            f"Hue bridge: {HOME.lights} lights, {HOME.motion_sensors} motion sensors, "
            f"{HOME.scenes} scenes, {HOME.rules} rules; one simulated hour, a temperature "
            f"change per sensor every {TEMPERATURE_PERIOD / 60:.0f} min"
        ),
        "",
        f"{'mode':<36}{'bytes/hour':>14}{'mean cycle ms':>16}",
        f"{f'full configuration every {interval} s':<36}{m['full_bytes_per_hour']:>14,}{m['full_cycle_ms']:>16.2f}",
        f"{f'/sensors only every {interval} s':<36}{m['sensors_bytes_per_hour']:>14,}{m['sensors_cycle_ms']:>16.2f}",
        f"{'/sensors only every 5 s':<36}{m['poll5s_bytes_per_hour']:>14,}{'':>16}",
        f"{'v2 event stream':<36}{m['stream_bytes_per_hour']:>14,}{'':>16}",
        "",
        (
            f"/sensors vs full: {bytes_saved:.1%} fewer bytes (target >= 50%), "
            f"{time_saved:.1%} shorter cycles (target >= 30%)"
        ),
        (
            f"stream vs /sensors every 5 s: {stream_saved:.1%} fewer bytes (target >= 95%); "
            f"{m['_events']} temperature events pushed, "
            f"{m['_stream_requests']} requests (aiohue's keep-alive) in the hour"
        ),
        (
            f"set-up until entities have values: {m['setup_requests']} requests, "
            f"{m['setup_bytes']:,} bytes; whole resource list as Home Assistant reads it: "
            f"{m['_reference_setup_bytes']:,} bytes ({setup_saved:.1%} less)"
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Run the benchmark and print a report, or one JSON object with --json."""
    measured = run(_measure())
    if "--json" in argv:
        print(json.dumps({k: v for k, v in measured.items() if not k.startswith("_")}))
    else:
        print(_report(measured))


if __name__ == "__main__":
    main(sys.argv[1:])
