"""The simulated home: a Hue bridge with 12 motion sensors, an Amazon account with 3 monitors.

Every sensor reports its temperature and light level every 5 minutes (staggered over the
period), motion comes in bursts (more by day), and the monitors take a sample every
5 minutes. The simulators log every reading they actually served, over the event stream or
in a reply, to the served log: the ground truth the store is compared with.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import heapq
import json
import math
from pathlib import Path
import random
import time
from typing import Any, TextIO

from tests.simulators.alexa import AlexaSimulator
from tests.simulators.alexa_state import DEFAULT_RANGES, SAMPLE_EPOCH
from tests.simulators.hue_bridge import HomeSpec, HueBridgeSimulator
from tests.simulators.hue_home import Clock

from .vtime import to_ms, utc

HOME = HomeSpec(lights=10, motion_sensors=12, rooms=4, scenes=8, rules=4, seed=7)
MONITORS = ("Living room", "Bedroom", "Office")
PERIOD_S = 300
STATE_OPERATION = "getAirQualityMonitorStates"
HUE_METRICS = {
    "temperature": ("temperature", "temperature"),
    "light_level": ("illuminance", "light"),
    "motion": ("motion", "motion"),
}
AMAZON_METRICS = ["temperature"] + [metric for metric, _ in DEFAULT_RANGES.values()]


class ServedLog:
    """Append-only log of served readings: one JSON list a line, written at once."""

    def __init__(self, path: Path) -> None:
        """Append to `path` (line-buffered: a kill loses nothing already served)."""
        self._file: TextIO = path.open("a", buffering=1, encoding="utf-8")
        self.count = 0

    def add(self, device_key: str, metric: str, measured: datetime, how: str) -> None:
        """Note one reading served (device, metric, device time) and the real time."""
        row = [device_key, metric, to_ms(measured), round(time.time(), 3), how]
        self._file.write(json.dumps(row) + "\n")
        self.count += 1

    def close(self) -> None:
        """Close the file."""
        self._file.close()


class SimulatedHome:
    """Both simulators, the readings they emit over time and what they served."""

    def __init__(
        self, clock: Clock, seed: int, served: Path, state: dict[str, Any] | None
    ) -> None:
        """Build the home (or take it back from `state`, the last life's snapshot)."""
        self.clock = clock
        if state is None:
            self.bridge = HueBridgeSimulator(HOME, clock=clock)
            self.app_key = self.bridge.add_app_key("home-monitor#soak")
            self.amazon = AlexaSimulator(stall=5.0)
            for name in MONITORS:
                self.amazon.add_monitor(name)
            self.amazon.add_echo()
        else:
            self.bridge = HueBridgeSimulator.restore(state["hue"])
            self.bridge.use_clock(clock)
            self.app_key = next(iter(self.bridge.app_keys))
            self.amazon = AlexaSimulator.restore(state["amazon"], stall=5.0)
        # Periods start with the life (a new life after a restart or a kill too).
        self.next_period = clock.now
        self.rand = random.Random(f"{seed}:{clock.now.isoformat()}")  # noqa: S311
        self.served = ServedLog(served)
        self.bridge.events.on_served = self._hue_event
        self.bridge.on_response = self._hue_reply
        self.amazon.on_response = self._amazon_reply
        self._agenda: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = 0
        self.emitted = 0
        self.sample()

    async def start(self, hue_port: int = 0) -> None:
        """Start both simulators on 127.0.0.1."""
        await self.bridge.start(hue_port)
        await self.amazon.start()

    async def stop(self) -> None:
        """Stop both simulators."""
        await self.bridge.stop()
        await self.amazon.close()
        self.served.close()

    def snapshot(self) -> dict[str, Any]:
        """Return what the next life needs to serve the same home."""
        return {
            "hue": self.bridge.snapshot(),
            "amazon": self.amazon.snapshot(),
        }

    # -- the home's readings over time ------------------------------------------------
    def sample(self) -> None:
        """Let the monitors' sample follow the clock (one sample every 5 minutes)."""
        elapsed = (self.clock.now - SAMPLE_EPOCH).total_seconds()
        self.amazon.state.sample = int(elapsed // PERIOD_S)

    def next_time(self) -> datetime:
        """Return when the next reading is due."""
        self._plan(self.clock.now + timedelta(seconds=2 * PERIOD_S))
        return self._agenda[0][0]

    def run_until(self, until: datetime) -> int:
        """Emit every reading due by `until`, each at its own time."""
        self._plan(until)
        done = 0
        while self._agenda and self._agenda[0][0] <= until:
            when, _, action = heapq.heappop(self._agenda)
            self.clock.now = max(self.clock.now, when)
            action()
            done += 1
        self.sample()
        return done

    def _at(self, when: datetime, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._agenda, (when, self._seq, action))

    def _plan(self, until: datetime) -> None:
        while self.next_period <= until:
            begin = self.next_period
            self.next_period += timedelta(seconds=PERIOD_S)
            hour = begin.hour + begin.minute / 60
            daylight = (
                max(0.0, math.sin(math.pi * (hour - 6) / 14)) if 6 < hour < 20 else 0
            )
            for n in range(len(self.bridge.home.sensors)):
                base = begin + timedelta(seconds=20 * n + 4)
                self._at(base, self._temperature(n))
                lux = 2 + 400 * daylight * self.rand.uniform(0.7, 1.1)
                level = int(10000 * math.log10(lux) + 1)
                self._at(
                    base + timedelta(seconds=150), self._set(n, "light_level", level)
                )
                awake = 7 <= hour < 23
                if self.rand.random() < (0.12 if awake else 0.01):
                    on = begin + timedelta(seconds=2 * self.rand.randrange(140) + 1)
                    off = on + timedelta(seconds=2 * self.rand.randrange(10, 60))
                    self._at(on, self._set(n, "motion", True))
                    self._at(off, self._set(n, "motion", False))

    def _temperature(self, n: int) -> Callable[[], None]:
        def change() -> None:
            sensor = self.bridge.sensor(n)
            value = (sensor.temperature or 20.0) + self.rand.choice((-0.1, 0.0, 0.1))
            self.bridge.set_value(n, "temperature", round(min(26, max(16, value)), 2))
            self.emitted += 1

        return change

    def _set(self, n: int, kind: str, value: Any) -> Callable[[], None]:
        def change() -> None:
            self.bridge.set_value(n, kind, value)
            self.emitted += 1

        return change

    # -- what was served ------------------------------------------------------------
    def _hue_items(self, items: Any, how: str) -> None:
        if not isinstance(items, list):
            return
        for item in items:
            if not isinstance(item, dict) or item.get("type") not in HUE_METRICS:
                continue
            metric, feature = HUE_METRICS[item["type"]]
            report = item.get(feature, {}).get(f"{item['type']}_report")
            if report is None or "changed" not in report:
                continue
            key = f"hue:{self.bridge.bridge_id}:{item['owner']['rid']}"
            self.served.add(key, metric, utc(report["changed"]), how)

    def _hue_event(self, text: str) -> None:
        for line in text.splitlines():
            if not line.startswith("data: "):
                continue
            try:
                containers = json.loads(line[6:])
            except ValueError:
                continue  # a malformed event the soak sent on purpose
            for container in containers if isinstance(containers, list) else ():
                if isinstance(container, dict):
                    self._hue_items(container.get("data"), "stream")

    def _hue_reply(self, path: str, body: bytes) -> None:
        if path.startswith("/clip/v2/resource"):
            self._hue_items(json.loads(body).get("data"), "poll")

    def _amazon_reply(self, record: Any, body: bytes) -> None:
        if record.operation != STATE_OPERATION or record.status != 200:
            return
        reply = json.loads(body)
        first = reply[0] if isinstance(reply, list) and reply else reply
        if not isinstance(first, dict) or first.get("errors") or not first.get("data"):
            return
        text = body.decode()
        state = self.amazon.state
        when = utc(state.time_of_sample())
        customer = state.account.user_id
        for monitor in state.monitors:
            if monitor.endpoint_id not in text or monitor.property_errors:
                continue
            for metric in AMAZON_METRICS:
                self.served.add(
                    f"amazon:{customer}:{monitor.serial}", metric, when, "poll"
                )
