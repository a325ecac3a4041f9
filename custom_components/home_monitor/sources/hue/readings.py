"""Readings waiting for the store, each handed over once.

Temperature, light level and motion carry the time the bridge says they changed, so a
reading is new when that time is. Battery and connectivity carry no time (they are
stamped when seen), so they are new when their value changed.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import datetime

from ...models import Metric, Reading

UNTIMED = frozenset({Metric.BATTERY, Metric.CONNECTIVITY})


class NewReadings:
    """Collects readings and releases only those not handed over before."""

    def __init__(self) -> None:
        """Start empty."""
        self._pending: list[Reading] = []
        self._last: dict[tuple[str, Metric], tuple[datetime, float]] = {}

    def add(self, readings: Iterable[Reading]) -> None:
        """Queue readings (copies of values, taken when they were seen)."""
        self._pending.extend(readings)

    def take(self, devices: Container[str]) -> list[Reading]:
        """Return the queued readings of known devices that are new, and forget the rest."""
        pending, self._pending = self._pending, []
        fresh: list[Reading] = []
        for item in pending:
            if item.device_key not in devices:
                continue
            key = (item.device_key, item.metric)
            last = self._last.get(key)
            if last is not None and (
                last[1] == item.value
                if item.metric in UNTIMED
                else item.measured_at <= last[0]
            ):
                continue
            self._last[key] = (item.measured_at, item.value)
            fresh.append(item)
        return fresh
