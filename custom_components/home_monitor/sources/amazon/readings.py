"""Turning one batched state reply into device snapshots and readings.

Values are converted to the canonical units (temperature in °C, whatever
scale Amazon reports). Each reading carries Amazon's ``timeOfSample``, so a
sample Amazon serves again is recognised as the same one. A property that
carries an ``error``, or a value that is not a finite number, makes that one
entity unavailable; a monitor missing from the reply makes all of its
entities unavailable. Each such condition is reported in `problems`, keyed so
the caller can log it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import math
from typing import Any

from ...const import SOURCE_AMAZON
from ...coordinator import SourceDevice
from ...models import DeviceRecord, Metric, Reading
from .const import AQM_MODEL, MANUFACTURER, UNITS
from .discovery import MonitorInfo, endpoints_of, feature_metric

# Feature -> the property holding its value.
VALUE_PROPERTY = {
    Metric.TEMPERATURE: "temperature",
    Metric.CONNECTIVITY: "reachability",
}
RANGE_PROPERTY = "rangeValue"
REACHABLE = "OK"


@dataclass(slots=True)
class PollResult:
    """What one poll of the account produced."""

    devices: dict[str, SourceDevice] = field(default_factory=dict)
    readings: list[Reading] = field(default_factory=list)
    # Condition key -> short description, for logging each condition once.
    problems: dict[str, str] = field(default_factory=dict)


def device_key(customer_id: str, serial: str) -> str:
    """Return the store's key for a monitor."""
    return f"{SOURCE_AMAZON}:{customer_id}:{serial}"


def states_by_endpoint(reply: Mapping[str, Any]) -> dict[str, Any]:
    """Return the reply's endpoints by endpoint id."""
    return {
        endpoint["endpointId"]: endpoint
        for endpoint in endpoints_of(reply)
        if isinstance(endpoint, dict) and isinstance(endpoint.get("endpointId"), str)
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _celsius(value: Any) -> float | None:
    if not isinstance(value, dict):
        return None
    number = _number(value.get("value"))
    if number is None:
        return None
    match str(value.get("scale", "CELSIUS")).upper():
        case "CELSIUS":
            return number
        case "FAHRENHEIT":
            return round((number - 32) * 5 / 9, 2)
        case "KELVIN":
            return round(number - 273.15, 2)
    return None


def _value(metric: Metric, prop: Mapping[str, Any]) -> float | None:
    if metric is Metric.TEMPERATURE:
        return _celsius(prop.get("value"))
    if metric is Metric.CONNECTIVITY:
        status = prop.get("reachabilityStatusValue")
        return None if not isinstance(status, str) else float(status == REACHABLE)
    inner = prop.get(RANGE_PROPERTY)
    return _number(inner.get("value") if isinstance(inner, dict) else None)


def _sample_time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _property(feature: Mapping[str, Any], metric: Metric) -> Mapping[str, Any] | None:
    wanted = VALUE_PROPERTY.get(metric, RANGE_PROPERTY)
    properties = feature.get("properties")
    for prop in properties if isinstance(properties, list) else []:
        if isinstance(prop, dict) and prop.get("name") == wanted:
            return prop
    return None


def monitor_state(
    monitor: MonitorInfo, customer_id: str, endpoint: Any, now: datetime
) -> PollResult:
    """Return the snapshot and readings of one monitor from its reply."""
    key = device_key(customer_id, monitor.serial)
    result = PollResult()
    metrics = set(monitor.metrics)
    values: dict[Metric, float | None] = dict.fromkeys(metrics)
    unavailable: set[Metric] = set()
    online = True
    features = endpoint.get("features") if isinstance(endpoint, dict) else None
    if not isinstance(features, list):
        unavailable = set(metrics)
        online = False
        problem = "is missing from" if endpoint is None else "is malformed in"
        result.problems[f"{key}:endpoint"] = (
            f"{monitor.name} {problem} Amazon's reply; its entities are unavailable"
        )
    for feature in features or []:
        metric = feature_metric(monitor, feature) if isinstance(feature, dict) else None
        if metric is None or (prop := _property(feature, metric)) is None:
            continue
        metrics.add(metric)
        if error := prop.get("error"):
            kind = error.get("type") if isinstance(error, dict) else None
            unavailable.add(metric)
            result.problems[f"{key}:{metric}:error"] = (
                f"{monitor.name} reports {kind or 'an error'} for {metric}; "
                "that entity is unavailable"
            )
            continue
        if (value := _value(metric, prop)) is None:
            unavailable.add(metric)
            result.problems[f"{key}:{metric}:value"] = (
                f"{monitor.name} sent an unusable {metric} value; "
                "that entity is unavailable"
            )
            continue
        if metric is Metric.CONNECTIVITY:
            online = value == 1.0
        values[metric] = value
        measured_at = _sample_time(prop.get("timeOfSample"))
        if measured_at is None:
            measured_at = now
            result.problems[f"{key}:{metric}:time"] = (
                f"{monitor.name} sent {metric} without a sample time; "
                "using the time it was read"
            )
        result.readings.append(Reading(key, metric, value, UNITS[metric], measured_at))
    result.devices[key] = SourceDevice(
        record=DeviceRecord(
            device_key=key,
            source=SOURCE_AMAZON,
            name=monitor.name,
            model=AQM_MODEL,
            manufacturer=MANUFACTURER,
        ),
        metrics=frozenset(metrics),
        values=values,
        unavailable=frozenset(unavailable),
        online=online,
        serial_number=monitor.serial,
        sw_version=monitor.software_version,
    )
    return result


def poll_result(
    monitors: list[MonitorInfo],
    customer_id: str,
    reply: Mapping[str, Any],
    now: datetime,
) -> PollResult:
    """Return the snapshot and readings of every monitor from one reply."""
    states = states_by_endpoint(reply)
    total = PollResult()
    for monitor in monitors:
        one = monitor_state(monitor, customer_id, states.get(monitor.endpoint_id), now)
        total.devices.update(one.devices)
        total.readings.extend(one.readings)
        total.problems.update(one.problems)
    return total
