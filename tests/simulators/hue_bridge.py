"""A Philips Hue bridge on 127.0.0.1 for tests, benchmarks and script/develop.

v1 over plain HTTP (``/api``, ``/api/<key>``, ``/api/<key>/sensors``, ``/api/config``), CLIP v2
over TLS with a self-signed certificate (``/clip/v2/resource[/<type>[/<id>]]``,
``/eventstream/clip/v2``), both on one port. It has a link button, app keys that can be
revoked, a home whose values change on a simulated clock, fault injection (status codes,
delays, malformed bodies, dropped streams, the bridge going down) and request/byte counters.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import Callable
import contextlib
from datetime import datetime
from pathlib import Path
import secrets
from typing import Any

from aiohttp import web

from .hue_api import BridgeApi, Fault, RequestRecord
from .hue_home import Clock, HomeSpec, HueHome, MotionSensor, v2_time
from .hue_stream import EventHub
from .hue_transport import ByteCounters, DualListener, server_ssl_context
from .persist import Command, ControlServer, StateFile, run_until_stopped

SENSOR_FIELDS = ("motion", "light_level", "temperature")


class HueBridgeSimulator:
    """The simulated bridge. `await start()`, use `host`, `await stop()`."""

    def __init__(
        self,
        spec: HomeSpec | None = None,
        *,
        supports_v2: bool = True,
        clock: Clock | None = None,
        home: HueHome | None = None,
    ) -> None:
        """Build the home (or serve `home`); nothing listens until `start()`."""
        self.home = home or HueHome(spec, clock)
        self.supports_v2 = supports_v2
        self.app_keys: dict[str, str] = {}
        self.link_button = False
        self.requests: deque[RequestRecord] = deque(maxlen=10_000)
        self.request_count = 0
        self.faults: list[Fault] = []
        self.events = EventHub(self.home.clock)
        self.temperature_period: float | None = None
        self.temperature_step = 0.1
        # Called with (path, body) for every answer sent as the bridge meant it (status
        # 200, no injected fault but a delay): a log of what it served.
        self.on_response: Callable[[str, bytes], None] | None = None
        self._runner = web.AppRunner(
            BridgeApi(self).application(), access_log=None, shutdown_timeout=1.0
        )
        self._listener: DualListener | None = None
        self._schedule_anchor = self.home.clock.now

    # -- life cycle -----------------------------------------------------------------
    @property
    def host(self) -> str:
        """Return the HOST string aiohue needs (`127.0.0.1:<port>`)."""
        assert self._listener is not None
        return f"127.0.0.1:{self._listener.port}"

    @property
    def bridge_id(self) -> str:
        """Return the normalised bridge id (12 hex digits, as aiohue reports it)."""
        raw = self.home.bridge_id
        return raw[:6] + raw[-6:]

    @property
    def counters(self) -> ByteCounters:
        """Return the byte counters."""
        assert self._listener is not None
        return self._listener.counters

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (port 0: an ephemeral one)."""
        await self._runner.setup()
        assert self._runner.server is not None
        self._listener = DualListener(
            self._runner.server, server_ssl_context(self.home.bridge_id)
        )
        await self._listener.start(port)

    async def stop(self) -> None:
        """Close streams and connections and stop listening."""
        self.events.close_all()
        if self._listener is not None:
            await self._listener.stop()
        await self._runner.cleanup()

    async def go_down(self) -> None:
        """Stop answering: open connections reset, new ones are refused."""
        self.events.close_all()
        assert self._listener is not None
        await self._listener.stop()

    async def come_up(self) -> None:
        """Answer again on the same port."""
        assert self._listener is not None
        await self._listener.start(self._listener.port)

    @property
    def down(self) -> bool:
        """Return True while the bridge does not answer (after `go_down()`)."""
        return self._listener is not None and not self._listener.listening

    # -- a state file (script/develop) ----------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Return the app keys and the home as JSON data (for `persist.StateFile`)."""
        return {
            "app_keys": self.app_keys,
            "supports_v2": self.supports_v2,
            "temperature_period": self.temperature_period,
            "schedule_anchor": self._schedule_anchor.isoformat(),
            "home": self.home.snapshot(),
        }

    @classmethod
    def restore(cls, data: dict[str, Any]) -> HueBridgeSimulator:
        """Return a bridge with the app keys and the home `snapshot()` described."""
        home = HueHome.restore(data["home"])
        bridge = cls(supports_v2=bool(data["supports_v2"]), home=home)
        bridge.app_keys = dict(data["app_keys"])
        bridge.temperature_period = data["temperature_period"]
        bridge._schedule_anchor = datetime.fromisoformat(data["schedule_anchor"])
        return bridge

    def use_clock(self, clock: Clock) -> None:
        """Follow `clock` from now on (a driver's simulated time), keeping its time."""
        self.home.clock = clock
        self.events.use_clock(clock)

    # -- keys and faults --------------------------------------------------------------
    def add_app_key(self, name: str = "test#sim") -> str:
        """Whitelist a new app key, as after a link-button press."""
        key = secrets.token_hex(20)
        self.app_keys[key] = name
        return key

    def revoke_app_key(self, key: str) -> None:
        """Delete an app key (as the Hue app does); its event streams are closed."""
        self.app_keys.pop(key, None)
        self.events.close_all()

    def fail(self, status: int, count: int = 1, path: str = "/") -> None:
        """Answer the next `count` requests under `path` with `status` (503, 429, ...)."""
        self.faults.append(Fault("status", count, path, status=status))

    def delay(self, seconds: float, count: int = 1, path: str = "/") -> None:
        """Delay the next `count` requests under `path`."""
        self.faults.append(Fault("delay", count, path, seconds=seconds))

    def malformed(self, count: int = 1, path: str = "/") -> None:
        """Truncate the JSON body of the next `count` responses under `path`."""
        self.faults.append(Fault("malformed", count, path))

    def replace_body(self, body: str, count: int = 1, path: str = "/") -> None:
        """Answer the next `count` requests under `path` with `body` and status 200."""
        self.faults.append(Fault("body", count, path, body=body))

    def clear_faults(self) -> None:
        """Forget every planned fault (a storm ends)."""
        self.faults = []

    def drop_streams(self) -> None:
        """Close every open event stream (clients reconnect)."""
        self.events.close_all()

    def paths(self, method: str | None = None) -> list[str]:
        """Return the paths requested so far (optionally of one method)."""
        return [r.path for r in self.requests if method is None or r.method == method]

    # -- changing the home --------------------------------------------------------------
    def sensor(self, index: int) -> MotionSensor:
        """Return motion sensor `index`."""
        return self.home.sensors[index]

    def set_value(
        self, index: int, kind: str, value: Any, *, valid: bool = True
    ) -> None:
        """Change a sensor value now and push the change to event streams.

        `kind` is "temperature", "light_level", "motion", "battery" or "connected".
        """
        sensor = self.sensor(index)
        if self.home.clock.now <= max(sensor.changed.values()):
            self.home.clock.advance(
                1
            )  # a new sample never shares its time with the last
        sensor.corrupt.pop(kind, None)
        setattr(sensor, kind, value)
        if kind in SENSOR_FIELDS:
            sensor.valid[kind] = valid
            sensor.changed[kind] = self.home.clock.now
        self._push_change(sensor, kind)

    def corrupt_value(self, index: int, kind: str, raw: Any) -> None:
        """Send `raw` (a wrong type) instead of the sensor's real value, on both APIs."""
        sensor = self.sensor(index)
        sensor.corrupt[kind] = raw
        if kind in SENSOR_FIELDS:
            sensor.changed[kind] = self.home.clock.now
        self._push_change(sensor, kind)

    def omit_field(self, index: int, kind: str) -> None:
        """Leave a sensor's field out of every answer (a missing field)."""
        self.sensor(index).omit.add(kind)

    def add_sensor(self, name: str) -> MotionSensor:
        """Pair a new motion sensor and announce it on the event streams."""
        sensor = self.home.add_sensor(name)
        self.events.publish("add", self.home.v2_sensor_resources(sensor))
        return sensor

    def remove_sensor(self, index: int) -> None:
        """Delete a motion sensor and announce it on the event streams."""
        sensor = self.home.sensors.pop(index)
        items = [
            {"id": rid, "type": kind}
            for kind, rid in sensor.ids.items()
            if kind != "software"
        ]
        self.events.publish("delete", items)

    def advance(self, seconds: float) -> None:
        """Move the clock, applying scheduled changes on the way.

        With `temperature_period` set, each sensor's temperature changes once per period
        (sensors staggered) and each change is pushed.
        """
        clock = self.home.clock
        end = clock.now.timestamp() + seconds
        period = self.temperature_period
        if period:
            sensors = len(self.home.sensors) or 1
            anchor = self._schedule_anchor.timestamp()
            changes = []
            for n in range(len(self.home.sensors)):
                offset = anchor + period * (n + 1) / sensors
                k = max(0, int((clock.now.timestamp() - offset) // period) + 1)
                while (when := offset + k * period) <= end:
                    if when > clock.now.timestamp():
                        changes.append((when, n, k))
                    k += 1
            for when, n, k in sorted(changes):
                clock.advance(when - clock.now.timestamp())
                sensor = self.home.sensors[n]
                step = self.temperature_step if k % 2 == 0 else -self.temperature_step
                self.set_value(
                    n, "temperature", round((sensor.temperature or 20.0) + step, 2)
                )
        clock.advance(end - clock.now.timestamp())

    def _push_change(self, sensor: MotionSensor, kind: str) -> None:
        resource_kind = {
            "battery": "device_power",
            "connected": "zigbee_connectivity",
        }.get(kind, kind)
        resource = self.home.v2_service(sensor, resource_kind)
        resource.pop("enabled", None)
        resource.pop("sensitivity", None)
        self.events.publish("update", [resource])


__all__ = ["Clock", "HomeSpec", "HueBridgeSimulator", "v2_time"]


def control_commands(bridge: HueBridgeSimulator) -> dict[str, Command]:
    """Return the faults `script/fault hue-...` triggers on a running bridge."""

    async def down() -> str:
        if not bridge.down:
            await bridge.go_down()
        return "the bridge is down: connections are refused"

    async def up() -> str:
        if bridge.down:
            await bridge.come_up()
        return f"the bridge answers again on {bridge.host}"

    async def revoke_key() -> str:
        revoked = len(bridge.app_keys)
        for key in list(bridge.app_keys):
            bridge.revoke_app_key(key)
        return f"revoked {revoked} app key(s); press the link button to pair again"

    async def link() -> str:
        bridge.link_button = True
        return "the link button is pressed (for the next pairing)"

    return {"down": down, "up": up, "revoke-key": revoke_key, "link": link}


async def _serve_forever(
    spec: HomeSpec,
    port: int,
    state: Path | None = None,
    control_port: int | None = None,
    seconds_per_tick: float = 5.0,
) -> None:
    """Run a bridge whose clock follows real time, until SIGTERM or SIGINT."""
    bridge = HueBridgeSimulator(spec)
    state_file = None
    if state is not None:
        state_file = StateFile(state)
        if (saved := state_file.load()) is not None:
            bridge = HueBridgeSimulator.restore(saved)
    bridge.temperature_period = 300
    # Without app keys (factory fresh) the first pairing succeeds without a button press.
    bridge.link_button = not bridge.app_keys
    await bridge.start(port)
    control = None
    if control_port is not None:
        control = ControlServer(control_commands(bridge))
        await control.start(control_port)
    print(  # noqa: T201
        f"Hue bridge {bridge.bridge_id} on {bridge.host}, "
        f"{len(bridge.app_keys)} app key(s)"
        + (f", state in {state}" if state else "")
        + (f", control on 127.0.0.1:{control_port}" if control else ""),
        flush=True,
    )
    try:
        await run_until_stopped(
            lambda: bridge.advance(seconds_per_tick),
            seconds_per_tick,
            state_file=state_file,
            snapshot=bridge.snapshot,
            control=control,
        )
    finally:
        await bridge.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Simulated Hue bridge on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--motion-sensors", type=int, default=3)
    parser.add_argument(
        "--state", type=Path, help="keep app keys and the home in this JSON file"
    )
    parser.add_argument(
        "--control-port", type=int, help="answer script/fault on 127.0.0.1:PORT"
    )
    args = parser.parse_args()
    home = HomeSpec(lights=10, motion_sensors=args.motion_sensors, scenes=8, rules=4)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(home, args.port, args.state, args.control_port))
