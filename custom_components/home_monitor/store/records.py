"""What queries return: readings, devices and events as plain values."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from .codec import from_ms


class HistoryRow(NamedTuple):
    """One stored reading, with the device's name and location at the time.

    `received_delay` is the whole seconds from `measured_at` until the reading
    reached the integration.
    """

    device_key: str
    metric: str
    value: float
    unit: str | None
    measured_at: datetime
    received_delay: int
    source: str
    name: str
    location: str | None

    @property
    def received_at(self) -> datetime:
        """Return when the reading was received (to the second)."""
        return self.measured_at + timedelta(seconds=self.received_delay)

    def as_dict(self) -> dict[str, Any]:
        """Return plain data (times in ISO 8601)."""
        return {
            "device_key": self.device_key,
            "metric": self.metric,
            "value": self.value,
            "unit": self.unit,
            "measured_at": self.measured_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "source": self.source,
            "name": self.name,
            "location": self.location,
        }


@dataclass(frozen=True, slots=True)
class StoredDevice:
    """A row of the devices table."""

    device_key: str
    source: str
    name: str
    model: str | None
    manufacturer: str | None
    location: str | None
    first_seen: datetime
    last_seen: datetime
    active: bool

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> StoredDevice:
        """Build from a devices row (key, source, name, model, maker, place, times, active)."""
        key, source, name, model, manufacturer, location, first, last, active = row
        return cls(
            key, source, name, model, manufacturer, location,
            from_ms(first), from_ms(last), bool(active),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A row of the events table."""

    at: datetime
    kind: str
    source: str
    detail: dict[str, Any]
