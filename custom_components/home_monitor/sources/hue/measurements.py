"""What talking to a bridge costs: bytes and requests, per cycle and per hour."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
import time
from typing import Any

import aiohttp

HOURS_KEPT = 24


@dataclass(slots=True)
class TrafficCounter:
    """Requests and response payload bytes, since the session was made."""

    requests: int = 0
    payload_bytes: int = 0
    _stream: list[aiohttp.StreamReader] = field(default_factory=list)
    _stream_done: int = 0

    @property
    def stream_bytes(self) -> int:
        """Return the bytes read from event streams so far."""
        return self._stream_done + sum(s.total_bytes for s in self._stream)

    def track_stream(self, content: aiohttp.StreamReader) -> None:
        """Count an event stream's bytes as they arrive."""
        self._stream_done += sum(s.total_bytes for s in self._stream)
        self._stream = [content]


@dataclass(slots=True)
class CycleMeasurement:
    """One poll or resync: what it cost and how long it took."""

    kind: str
    ok: bool
    duration_ms: float
    payload_bytes: int
    requests: int


@dataclass(slots=True)
class HourMeasurement:
    """Totals for one clock hour."""

    hour: str
    payload_bytes: int = 0
    stream_bytes: int = 0
    requests: int = 0
    cycles: int = 0
    failed_cycles: int = 0
    cycle_ms_total: float = 0.0
    events: int = 0

    @property
    def mean_cycle_ms(self) -> float | None:
        """Return the mean cycle duration, or None without cycles."""
        return round(self.cycle_ms_total / self.cycles, 1) if self.cycles else None


class Measurements:
    """Keeps the last cycle and the last 24 hours of traffic for one bridge."""

    def __init__(
        self,
        counter: TrafficCounter,
        hour_of: Callable[[], str],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """Measure traffic seen by `counter`; `hour_of` names the current hour."""
        self._counter = counter
        self._hour_of = hour_of
        self._clock = clock
        self.last_cycle: CycleMeasurement | None = None
        self.hours: deque[HourMeasurement] = deque(maxlen=HOURS_KEPT)
        self._base = (0, 0, 0)  # payload bytes, stream bytes, requests at hour start
        self._cycle_start: tuple[float, int, int] | None = None

    def _current(self) -> HourMeasurement:
        hour = self._hour_of()
        if not self.hours or self.hours[-1].hour != hour:
            if self.hours:
                self._close_hour(self.hours[-1])
            self.hours.append(HourMeasurement(hour))
            counter = self._counter
            self._base = (counter.payload_bytes, counter.stream_bytes, counter.requests)
        return self.hours[-1]

    def _close_hour(self, hour: HourMeasurement) -> None:
        counter = self._counter
        hour.payload_bytes = counter.payload_bytes - self._base[0]
        hour.stream_bytes = counter.stream_bytes - self._base[1]
        hour.requests = counter.requests - self._base[2]

    def cycle_started(self) -> None:
        """Mark the start of a poll or resync."""
        self._current()
        counter = self._counter
        self._cycle_start = (self._clock(), counter.payload_bytes, counter.requests)

    def cycle_finished(self, kind: str, ok: bool) -> None:
        """Mark its end and account for it."""
        if self._cycle_start is None:
            return
        started, payload, requests = self._cycle_start
        self._cycle_start = None
        counter = self._counter
        cycle = CycleMeasurement(
            kind,
            ok,
            round((self._clock() - started) * 1000, 2),
            counter.payload_bytes - payload,
            counter.requests - requests,
        )
        self.last_cycle = cycle
        hour = self._current()
        hour.cycles += 1
        hour.failed_cycles += not ok
        hour.cycle_ms_total += cycle.duration_ms

    def events_received(self, count: int = 1) -> None:
        """Count resource events from the stream."""
        self._current().events += count

    def as_dict(self) -> dict[str, Any]:
        """Return the measurements as plain data (the current hour is up to date)."""
        self._close_hour(self._current())
        return {
            "total_requests": self._counter.requests,
            "total_payload_bytes": self._counter.payload_bytes,
            "total_stream_bytes": self._counter.stream_bytes,
            "last_cycle": asdict(self.last_cycle) if self.last_cycle else None,
            "hours": [
                {**asdict(hour), "mean_cycle_ms": hour.mean_cycle_ms}
                for hour in self.hours
            ],
        }
