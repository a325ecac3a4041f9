"""Amazon's replies: errors, discovery (which endpoints are monitors), and readings.

A monitor is an endpoint whose Alexa device type is the AQM's. Its range
features are matched to measurements by instance number (4 humidity ... 9
air-quality score); when the monitor labels a range (friendly name or asset
id), the label decides, because accounts do not all number them alike.

A state reply becomes device snapshots and readings. Values are converted to
the canonical units (temperature in °C, whatever scale Amazon reports); each
reading carries Amazon's ``timeOfSample`` (or, without one, the time it was
read, marked as such) and every value parsed goes to the coordinator's
`mirror`, which decides what is new. A property with an ``error``, or a value
of the wrong type (Amazon's schema says a number; text, booleans and
non-finite numbers are refused), makes that one entity unavailable; a monitor
missing from the reply makes all of its entities unavailable. Each such
condition is reported in `problems`, keyed so the coordinator logs it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
import math
from typing import Any, Final

from ...const import SOURCE_AMAZON
from ...coordinator import SourceDevice
from ...models import DeviceRecord, Metric, Reading
from . import (
    AQM_DEVICE_TYPE,
    AQM_MODEL,
    INSTANCE_METRICS,
    LABEL_METRICS,
    MANUFACTURER,
    MONITOR_METRICS,
    UNITS,
    AmazonAuthError,
    AmazonRateLimitError,
    AmazonResponseError,
)

THROTTLED: Final = "TOO_MANY_REQUESTS"
# GraphQL error codes and messages that mean the session is no longer accepted.
AUTH_ERROR_CODES: Final = (
    "UNAUTHENTICATED",
    "UNAUTHORIZED",
    "AUTHENTICATION",
    "FORBIDDEN",
    "INVALID_TOKEN",
    "SESSION_EXPIRED",
)
AUTH_ERROR_MESSAGES: Final = ("unauthorized", "unauthenticated", "not authenticated")


def _error_code(extensions: Any) -> str:
    if not isinstance(extensions, Mapping):
        return ""
    code = extensions.get("errorCode") or extensions.get("classification") or ""
    return str(code).upper()


def raise_for_graphql_errors(reply: Mapping[str, Any]) -> None:
    """Raise for the errors of a GraphQL reply (Amazon sends them with HTTP 200).

    Too many requests is a rate limit and an authentication error an expired
    session; other errors are tolerated beside data, and fail the reply without.
    """
    errors = reply.get("errors")
    if not errors:
        return
    codes = []
    for error in errors if isinstance(errors, list) else [errors]:
        if not isinstance(error, dict):
            continue
        code = _error_code(error.get("extensions"))
        message = str(error.get("message", "")).lower()
        if THROTTLED in code or "too many requests" in message:
            raise AmazonRateLimitError("GraphQL too many requests")
        if any(word in code for word in AUTH_ERROR_CODES) or any(
            word in message for word in AUTH_ERROR_MESSAGES
        ):
            raise AmazonAuthError("GraphQL authentication error")
        codes.append(code or "unknown")
    data = reply.get("data")
    if not isinstance(data, dict) or not any(data.values()):
        raise AmazonResponseError(f"GraphQL error {','.join(codes) or 'unknown'}")


@dataclass(frozen=True, slots=True)
class MonitorInfo:
    """An air-quality monitor of the account, as discovery found it."""

    endpoint_id: str
    serial: str
    name: str
    software_version: str | None = None
    metrics: frozenset[Metric] = MONITOR_METRICS
    # Range instance -> measurement, from the monitor's own labels.
    labels: Mapping[str, Metric] = field(default_factory=dict)

    def range_metric(self, instance: object) -> Metric | None:
        """Return the measurement of a range instance, or None if unknown."""
        key = str(instance)
        return self.labels.get(key) or INSTANCE_METRICS.get(key)


def text(node: Any, key: str) -> str | None:
    """Return ``node[key].value.text`` if it is there."""
    if not isinstance(node, dict):
        return None
    inner = node.get(key)
    value = inner.get("value") if isinstance(inner, dict) else None
    found = value.get("text") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def endpoints_of(reply: Mapping[str, Any]) -> list[Any]:
    """Return ``data.listEndpoints.endpoints`` or raise for any other shape."""
    try:
        endpoints = reply["data"]["listEndpoints"]["endpoints"]
    except KeyError, TypeError:
        raise AmazonResponseError("reply without endpoints") from None
    if not isinstance(endpoints, list):
        raise AmazonResponseError("endpoints is not a list")
    return endpoints


def metric_for_label(label: str | None) -> Metric | None:
    """Return the measurement a range label names, if it names one."""
    if not label:
        return None
    return LABEL_METRICS.get(" ".join(label.lower().split()))


def parse_monitors(reply: Mapping[str, Any]) -> list[MonitorInfo]:
    """Return the air-quality monitors among the account's endpoints."""
    monitors = []
    for endpoint in endpoints_of(reply):
        legacy = (
            endpoint.get("legacyIdentifiers") if isinstance(endpoint, dict) else None
        )
        dms = legacy.get("dmsIdentifier") if isinstance(legacy, dict) else None
        if text(dms, "deviceType") != AQM_DEVICE_TYPE:
            continue
        manufacturer = text(endpoint, "manufacturer")
        serial = text(endpoint, "serialNumber")
        endpoint_id = endpoint.get("endpointId")
        if manufacturer not in (None, MANUFACTURER) or not serial:
            continue
        if not isinstance(endpoint_id, str) or not endpoint_id:
            continue
        monitors.append(
            MonitorInfo(
                endpoint_id=endpoint_id,
                serial=serial,
                name=text(endpoint, "friendlyNameObject")
                or f"Air Quality Monitor {serial[-4:]}",
                software_version=text(endpoint, "softwareVersion"),
            )
        )
    return monitors


def apply_features(
    monitors: list[MonitorInfo], reply: Mapping[str, Any]
) -> list[MonitorInfo]:
    """Return `monitors` with the metrics and range labels their features name."""
    features_by_id = {
        endpoint.get("endpointId"): endpoint.get("features")
        for endpoint in endpoints_of(reply)
        if isinstance(endpoint, dict)
    }
    result = []
    for monitor in monitors:
        features = features_by_id.get(monitor.endpoint_id)
        if not isinstance(features, list):
            result.append(monitor)
            continue
        labels: dict[str, Metric] = {}
        for feature in features:
            if isinstance(feature, dict) and feature.get("name") == "range":
                label = text(feature.get("configuration"), "friendlyName")
                if (metric := metric_for_label(label)) is not None:
                    labels[str(feature.get("instance"))] = metric
        with_labels = replace(monitor, labels=labels)
        metrics = {
            metric
            for feature in features
            if isinstance(feature, dict)
            and (metric := feature_metric(with_labels, feature)) is not None
        }
        result.append(
            replace(with_labels, metrics=frozenset(metrics) or monitor.metrics)
        )
    return result


def feature_metric(monitor: MonitorInfo, feature: Mapping[str, Any]) -> Metric | None:
    """Return the measurement a feature of `monitor` carries, if any."""
    match feature.get("name"):
        case "temperatureSensor":
            return Metric.TEMPERATURE
        case "connectivity":
            return Metric.CONNECTIVITY
        case "range":
            return monitor.range_metric(feature.get("instance"))
    return None


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
    # A GraphQL Float: text ("21.5"), booleans and non-finite numbers are refused.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
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
            result.problems[f"{key}:{metric}:time"] = (
                f"{monitor.name} sent {metric} without a sample time; "
                "using the time it was read"
            )
        result.readings.append(
            Reading(
                key,
                metric,
                value,
                UNITS[metric],
                now if measured_at is None else measured_at,
                device_time=measured_at is not None,
            )
        )
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
