"""Which endpoints of an account are air-quality monitors, and what each measures.

A monitor is an endpoint whose Alexa device type is the AQM's. Its range
features are matched to measurements by instance number (4 humidity ... 9
air-quality score); when the monitor labels a range (friendly name or asset
id), the label decides, because accounts do not all number them alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ...models import Metric
from .const import (
    AQM_DEVICE_TYPE,
    INSTANCE_METRICS,
    LABEL_METRICS,
    MANUFACTURER,
    MONITOR_METRICS,
)
from .errors import AmazonResponseError


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
