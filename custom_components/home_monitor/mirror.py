"""Which of a source's readings the history store gets: repeats, clock guard, late ones.

`MirrorFilter` remembers, per (device, metric), the last time and value it saw and the
last time it stored. A reading with a device time is new when its time or its value
changed; one without, when its value changed. Clock guard: a device time more than
`CLOCK_FUTURE_TOLERANCE` ahead of Home Assistant's clock, or earlier than the last time
stored for the series, is replaced by the receive time; the device's time is kept in a
`clock` store event and logged at most hourly per device. A late delivery is not a clock
step: while push delivery is stopped and for `LATE_DELIVERY_PERIOD` after it resumes, a
reading between the series' newest time stored before the outage and its newest stored
since (what a bridge replays on reconnecting) keeps its device time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from .const import (
    CLOCK_FUTURE_TOLERANCE,
    CLOCK_LOG_INTERVAL,
    LATE_DELIVERY_PERIOD,
    LOGGER,
)
from .models import Metric, Reading

if TYPE_CHECKING:
    from .store import HistoryStore

# `_late_until` while push delivery is stopped.
_STOPPED = datetime.max.replace(tzinfo=UTC)


@dataclass(slots=True)
class _Series:
    """What was last seen and stored of one (device, metric)."""

    seen_at: datetime
    value: float
    stored_at: datetime


class MirrorFilter:
    """Decides, for one source, which readings are new and at which time to store them."""

    def __init__(self, store: HistoryStore, source: str) -> None:
        """Start with no series seen."""
        self._store = store
        self._source = source
        self._series: dict[tuple[str, Metric], _Series] = {}
        self._clock_logged: dict[str, datetime] = {}
        self._late_floor: dict[tuple[str, Metric], datetime] = {}
        self._late_until = datetime.min.replace(tzinfo=UTC)
        self.retimed = 0

    def admit(self, readings: Iterable[Reading]) -> list[Reading]:
        """Return the readings to store, retimed where the clock guard says so."""
        now = dt_util.utcnow()
        return [
            stored
            for reading in readings
            if (stored := self._admit(reading, now)) is not None
        ]

    def _admit(self, reading: Reading, now: datetime) -> Reading | None:
        key = (reading.device_key, reading.metric)
        series = self._series.get(key)
        if (
            series is not None
            and reading.value == series.value
            and (not reading.device_time or reading.measured_at == series.seen_at)
        ):
            return None
        if (
            series is not None
            and reading.device_time
            and now < self._late_until
            and self._late_floor.get(key, series.stored_at)
            <= reading.measured_at
            < series.stored_at
        ):
            return reading  # late: the series' state stays at its newest reading
        stored = reading
        if reading.device_time and (
            reading.measured_at > now + CLOCK_FUTURE_TOLERANCE
            or (series is not None and reading.measured_at < series.stored_at)
        ):
            stored = replace(reading, measured_at=now, device_time=False)
            self._record_retimed(reading, now)
        self._series[key] = _Series(
            reading.measured_at, reading.value, stored.measured_at
        )
        return stored

    def delivery_stopped(self) -> None:
        """Note that push delivery stopped; what the source replays later keeps its time."""
        if self._late_until != _STOPPED:
            self._late_floor = {key: s.stored_at for key, s in self._series.items()}
            self._late_until = _STOPPED

    def delivery_resumed(self) -> None:
        """Note that push delivery is back: replays are taken for a short while more."""
        if self._late_until == _STOPPED:
            self._late_until = dt_util.utcnow() + LATE_DELIVERY_PERIOD

    def _record_retimed(self, reading: Reading, now: datetime) -> None:
        """Keep the device time of a retimed reading; log it once an hour per device."""
        self.retimed += 1
        self._store.record_event(
            "clock",
            self._source,
            {
                "device_key": reading.device_key,
                "metric": str(reading.metric),
                "device_time": reading.measured_at.isoformat(),
                "stored_at": now.isoformat(),
            },
        )
        last = self._clock_logged.get(reading.device_key)
        if last is None or now - last >= CLOCK_LOG_INTERVAL:
            self._clock_logged[reading.device_key] = now
            LOGGER.warning(
                "%s sent a reading timed %s, received at %s, which its clock cannot "
                "have taken; storing it at the time Home Assistant received it "
                "(further ones are logged hourly)",
                reading.device_key,
                reading.measured_at.isoformat(),
                now.isoformat(),
            )
