"""Conversions and sanity checks shared by the v1 and v2 mappings."""

from __future__ import annotations

from datetime import datetime
import math

from ...const import SOURCE_HUE
from ...models import Metric, Reading

UNITS: dict[Metric, str | None] = {
    Metric.TEMPERATURE: "°C",
    Metric.ILLUMINANCE: "lx",
    Metric.BATTERY: "%",
    Metric.MOTION: None,
    Metric.CONNECTIVITY: None,
}
# Values outside these bounds are not something a motion sensor can report.
RANGES: dict[Metric, tuple[float, float]] = {
    Metric.TEMPERATURE: (-50.0, 100.0),
    Metric.ILLUMINANCE: (0.0, 200_000.0),
    Metric.BATTERY: (0.0, 100.0),
    Metric.MOTION: (0.0, 1.0),
    Metric.CONNECTIVITY: (0.0, 1.0),
}


MAX_LIGHT_LEVEL = 65535  # the bridge reports a 16-bit value


class MalformedValueError(ValueError):
    """A value of the wrong type, not finite, or out of range."""


def device_key(bridge_id: str, device_id: str) -> str:
    """Return the stable key of a physical sensor on a bridge."""
    return f"{SOURCE_HUE}:{bridge_id}:{device_id}"


def number(value: object) -> float:
    """Return `value` as a finite float, or raise MalformedValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedValueError(type(value).__name__)
    if not math.isfinite(value):
        raise MalformedValueError("not finite")
    return float(value)


def flag(value: object) -> float:
    """Return a boolean as 1.0/0.0, or raise MalformedValueError."""
    if not isinstance(value, bool):
        raise MalformedValueError(type(value).__name__)
    return 1.0 if value else 0.0


def lux(light_level: object) -> float:
    """Convert Hue's light level (10000 * log10(lux) + 1) to lux."""
    level = number(light_level)
    if level > MAX_LIGHT_LEVEL:
        raise MalformedValueError("out of range")
    if level <= 0:
        return 0.0
    return round(10 ** ((level - 1) / 10000), 2)


def checked(metric: Metric, value: float) -> float:
    """Return `value` rounded for `metric`, or raise if it is out of range."""
    low, high = RANGES[metric]
    if not low <= value <= high:
        raise MalformedValueError("out of range")
    return round(value, 2)


def reading(
    key: str, metric: Metric, value: float | None, measured_at: datetime
) -> list[Reading]:
    """Return the reading for a known value (none for an unknown one)."""
    if value is None:
        return []
    return [Reading(key, metric, value, UNITS[metric], measured_at)]
