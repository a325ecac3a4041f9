"""Simulated time: one clock for Home Assistant, the integration and both simulators.

Home Assistant's `dt_util.utcnow()` (and the event helper's copy of it) read the simulated
clock, which is the Hue simulator's own `Clock`, so a device time and Home Assistant's time
agree as they do in a real home. The event loop keeps real monotonic time: a timer handle
(a coordinator's next poll, a retry back-off, aiohue's reconnect wait) is mapped onto the
simulated clock when first seen and run when the simulated clock reaches it, as the test
harness's `async_fire_time_changed` does. Timeouts (`asyncio.timeout`, aiohttp's) are left to
real time: a request in flight is never cut short by a jump of the simulated clock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.simulators.hue_home import Clock

# Handles due within this much real time run by themselves.
REAL_TIME_WINDOW_S = 0.05
# Timeouts: asyncio.timeout's, aiohttp's (TimeoutHandle, the read timeout of a response).
_TIMEOUT_CALLBACKS = ("timeout", "timercontext")


def install_clock(clock: Clock) -> None:
    """Make Home Assistant's `utcnow` read `clock` (before the integration is imported)."""
    from homeassistant import util  # noqa: PLC0415
    from homeassistant.helpers import event as event_helper  # noqa: PLC0415
    from homeassistant.util import dt as dt_util  # noqa: PLC0415

    def utcnow() -> datetime:
        return clock.now

    dt_util.utcnow = utcnow  # type: ignore[assignment]
    util.utcnow = utcnow  # type: ignore[attr-defined]
    event_helper.time_tracker_utcnow = utcnow  # type: ignore[assignment]


def _is_timeout(handle: asyncio.TimerHandle) -> bool:
    callback: Any = handle._callback  # noqa: SLF001
    name = getattr(callback, "__qualname__", "") or type(callback).__qualname__
    return any(part in name.lower() for part in _TIMEOUT_CALLBACKS)


class SimulatedTimers:
    """Runs the loop's timer handles by the simulated clock."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: Clock) -> None:
        """Map `loop`'s timers onto `clock`."""
        self.loop = loop
        self.clock = clock
        self._due: dict[int, datetime] = {}
        self.fired = 0

    def _scheduled(self) -> list[tuple[datetime, asyncio.TimerHandle]]:
        now_real = self.loop.time()
        found: list[tuple[datetime, asyncio.TimerHandle]] = []
        seen: dict[int, datetime] = {}
        for handle in list(self.loop._scheduled):  # type: ignore[attr-defined]  # noqa: SLF001
            if handle.cancelled() or _is_timeout(handle):
                continue
            remaining = handle.when() - now_real
            key = id(handle)
            due = self._due.get(key)
            if due is None:
                if remaining < REAL_TIME_WINDOW_S:
                    continue
                due = self.clock.now + timedelta(seconds=remaining)
            seen[key] = due
            found.append((due, handle))
        self._due = seen
        return found

    def next_due(self) -> datetime | None:
        """Return when the next simulated timer is due."""
        found = self._scheduled()
        return min((due for due, _ in found), default=None)

    def run_due(self, until: datetime) -> int:
        """Run every handle due by `until` (earliest first); return how many ran."""
        ran = 0
        for due, handle in sorted(self._scheduled(), key=lambda item: item[0]):
            if due > until:
                break
            if handle.cancelled():
                continue
            self.clock.now = max(self.clock.now, due)
            handle._run()  # noqa: SLF001
            handle.cancel()
            ran += 1
        self.fired += ran
        return ran


def utc(text: str) -> datetime:
    """Parse an ISO time (`Z` allowed) as UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def to_ms(moment: datetime) -> int:
    """Return milliseconds since the epoch, as the store keeps times."""
    return round(moment.timestamp() * 1000)
