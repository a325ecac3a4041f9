"""The simulator's answers to Amazon's `nexus/v1/graphql` endpoint.

It does not parse GraphQL. It builds every field an endpoint can have and
keeps those whose names the query mentions, which is close enough to what a
GraphQL server sends back for byte counts to be meaningful.
"""

from __future__ import annotations

import re
from typing import Any

from .alexa_state import (
    AQM_DEVICE_TYPE,
    ECHO_DEVICE_TYPE,
    AlexaState,
    SimulatedEcho,
    SimulatedMonitor,
    Target,
)

THROTTLED_ERROR = {
    "message": "Too many requests",
    "path": ["listEndpoints"],
    "extensions": {
        "errorCode": "UNOFFICIAL_CLIENT_TOO_MANY_REQUESTS",
        "isRetryable": False,
        "classification": "DataFetchingException",
    },
}
# Keys kept whenever their parent is kept (they are GraphQL leaves or list items).
_ALWAYS = {"value", "text"}


def _text(value: str | None) -> dict[str, Any] | None:
    return None if value is None else {"value": {"text": value}}


def _property(
    name: str, typename: str, values: dict[str, Any], when: str
) -> dict[str, Any]:
    return {
        "name": name,
        "type": "RETRIEVABLE",
        "accuracy": None,
        "error": None,
        "__typename": typename,
        **values,
        "timeOfSample": when,
        "timeOfLastChange": when,
    }


def _monitor_features(monitor: SimulatedMonitor, state: AlexaState) -> list[Any]:
    when = state.time_of_sample()
    values = monitor.values(state.sample)
    celsius = values["temperature"]
    temperature = (
        {"value": round(celsius * 9 / 5 + 32, 2), "scale": "FAHRENHEIT"}
        if monitor.fahrenheit
        else {"value": celsius, "scale": "CELSIUS"}
    )
    features: list[tuple[str, str | None, dict[str, Any], str | None]] = [
        (
            "temperatureSensor",
            None,
            _property("temperature", "TemperatureSensor", {"value": temperature}, when),
            None,
        )
    ]
    for instance, (metric, label) in monitor.ranges.items():
        raw = {"rangeValue": {"value": values[metric]}}
        features.append(
            ("range", instance, _property("rangeValue", "RangeValue", raw, when), label)
        )
    toggle = {"toggleStateValue": "ON"}
    features.append(
        ("toggle", "11", _property("toggleState", "ToggleState", toggle, when), "LED")
    )
    reach = {"reachabilityStatusValue": "OK" if monitor.online else "UNREACHABLE"}
    features.append(
        (
            "connectivity",
            None,
            _property("reachability", "Reachability", reach, when),
            None,
        )
    )
    result = []
    for name, instance, generated, label in features:
        key = instance or ("temperature" if name == "temperatureSensor" else name)
        prop = generated
        if key in monitor.raw_overrides:
            prop = _override(prop, monitor.raw_overrides[key])
        if (error := monitor.property_errors.get(key)) is not None:
            prop = {
                k: None if k not in ("name", "type", "__typename") else v
                for k, v in prop.items()
            }
            prop["error"] = error
        configuration = (
            None if label is None else {"friendlyName": _text(label), "presets": []}
        )
        result.append(
            {
                "name": name,
                "instance": instance,
                "properties": [prop],
                "configuration": configuration,
            }
        )
    return result


def _override(prop: dict[str, Any], raw: object) -> dict[str, Any]:
    prop = dict(prop)
    for key in ("rangeValue", "value", "reachabilityStatusValue"):
        if key in prop:
            prop[key] = raw
    return prop


def _endpoint(
    device: SimulatedMonitor | SimulatedEcho, state: AlexaState
) -> dict[str, Any]:
    monitor = isinstance(device, SimulatedMonitor)
    category = "AIR_QUALITY_MONITOR" if monitor else "ALEXA_VOICE_ENABLED"
    device_type = AQM_DEVICE_TYPE if monitor else ECHO_DEVICE_TYPE
    features = (
        _monitor_features(device, state) if isinstance(device, SimulatedMonitor) else []
    )
    return {
        "endpointId": device.endpoint_id,
        "friendlyNameObject": _text(device.name),
        "manufacturer": _text(device.manufacturer),
        "model": _text(None if monitor else "Echo Dot"),
        "serialNumber": _text(device.serial),
        "softwareVersion": _text(device.software_version),
        "creationTime": "2025-11-02T10:00:00.000Z",
        "enablement": "ENABLED",
        "displayCategories": {
            "all": [{"value": category}],
            "primary": {"value": category},
        },
        "alexaEnabledMetadata": {
            "iconId": category,
            "isVisible": True,
            "category": "SMARTHOME" if monitor else "ALEXA_VOICE_ENABLED",
            "capabilities": [],
        },
        "legacyIdentifiers": {
            "dmsIdentifier": {"deviceType": _text(device_type)},
            "chrsIdentifier": {"entityId": f"entity-{device.serial}"},
        },
        "legacyAppliance": {"applianceId": f"AAA_SonarCloudService_{device.serial}"},
        "features": features,
    }


def _prune(node: Any, words: set[str]) -> Any:
    if isinstance(node, list):
        return [_prune(item, words) for item in node]
    if isinstance(node, dict):
        return {
            key: _prune(value, words)
            for key, value in node.items()
            if key in words or key in _ALWAYS
        }
    return node


def answer(operation: dict[str, Any], state: AlexaState) -> dict[str, Any]:
    """Answer one GraphQL operation."""
    query = str(operation.get("query", ""))
    words = set(re.findall(r"[A-Za-z_]+", query))
    variables = operation.get("variables") or {}
    wanted = variables.get("endpointIds")
    devices: list[SimulatedMonitor | SimulatedEcho] = [*state.monitors, *state.echos]
    if wanted is not None:
        devices = [d for d in devices if d.endpoint_id in wanted]
    endpoints = [_prune(_endpoint(d, state), words) for d in devices]
    if "airQualityMonitors" in words:
        # The older discovery query: one alias per display category.
        monitors = [
            e for e, d in zip(endpoints, devices, strict=True) if d in state.monitors
        ]
        voice = [e for e in endpoints if e not in monitors]
        return {
            "data": {
                "alexaVoiceDevices": {"endpoints": voice},
                "airQualityMonitors": {"endpoints": monitors},
            }
        }
    return {"data": {"listEndpoints": {"endpoints": endpoints}}}


def operation_name(body: Any) -> str | None:
    """Return the (first) operation name of a request body."""
    first = body[0] if isinstance(body, list) and body else body
    return first.get("operationName") if isinstance(first, dict) else None


def target_of(body: Any) -> Target:
    """Return which kind of request a GraphQL body is (for fault injection)."""
    first = body[0] if isinstance(body, list) and body else body
    query = str(first.get("query", "")) if isinstance(first, dict) else ""
    if "properties" in query:
        return Target.STATE
    if "configuration" in query:
        return Target.FEATURES
    return Target.DISCOVERY


def throttled(body: Any) -> Any:
    """Return the HTTP-200 answer Amazon gives a throttled unofficial client."""
    reply = {
        "errors": [THROTTLED_ERROR],
        "data": {"listEndpoints": None},
        "extensions": {"requestID": "sim-throttled", "duration": 13},
    }
    return [reply] if isinstance(body, list) else reply
