"""The simulator's answers to Amazon's `nexus/v1/graphql` endpoint.

Every request is parsed, validated against `alexa_schema` and executed by
graphql-core, so a field, argument or type Amazon does not know gets the
errors Amazon answers with, and a reply holds exactly the fields asked for.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, execute_sync, parse, validate

from .alexa_schema import schema
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
            None
            if label is None
            else {
                "__typename": "RangeConfiguration"
                if name == "range"
                else "ToggleConfiguration",
                "friendlyName": _text(label),
                "presets": [],
            }
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
        "id": device.endpoint_id,
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


def _apply_overrides(
    endpoints: list[Any], devices: list[SimulatedMonitor | SimulatedEcho]
) -> None:
    """Put raw values a test asked for into the reply (Amazon sending junk)."""
    for endpoint, device in zip(endpoints, devices, strict=False):
        if not isinstance(device, SimulatedMonitor) or not device.raw_overrides:
            continue
        for feature in (endpoint or {}).get("features") or []:
            key = feature.get("instance") or (
                "temperature" if feature.get("name") == "temperatureSensor" else None
            )
            if key not in device.raw_overrides:
                continue
            feature["properties"] = [
                _override(prop, device.raw_overrides[key]) if prop else prop
                for prop in feature.get("properties") or []
            ]


def _list_endpoints(
    state: AlexaState, selected: list[SimulatedMonitor | SimulatedEcho]
) -> Any:
    def resolve(info: GraphQLResolveInfo, listEndpointsInput: dict[str, Any]) -> Any:  # noqa: N803
        devices: list[SimulatedMonitor | SimulatedEcho] = [
            *state.monitors,
            *state.echos,
        ]
        if (wanted := listEndpointsInput.get("endpointIds")) is not None:
            devices = [d for d in devices if d.endpoint_id in wanted]
        category = listEndpointsInput.get("displayCategory")
        if category is not None:
            devices = [
                d
                for d in devices
                if (category == "AIR_QUALITY_MONITOR")
                == isinstance(d, SimulatedMonitor)
            ]
        selected.extend(devices)
        return {"endpoints": [_endpoint(d, state) for d in devices]}

    return resolve


def _error(message: str, classification: str, error: GraphQLError | None) -> Any:
    reply: dict[str, Any] = {"message": message}
    if error is not None and error.locations:
        reply["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    reply["extensions"] = {"classification": classification}
    return reply


def answer(operation: Any, state: AlexaState) -> dict[str, Any]:
    """Parse, validate and execute one GraphQL operation, as Amazon's server does.

    A malformed query, an unknown field or argument, or a value of the wrong
    type gets Amazon's kind of reply: HTTP 200, ``errors`` and no ``data``.
    """
    if not isinstance(operation, dict) or not isinstance(operation.get("query"), str):
        return {
            "errors": [_error("Invalid request: no query", "ValidationError", None)]
        }
    try:
        document = parse(operation["query"])
    except GraphQLError as err:
        return {
            "errors": [_error(f"Invalid Syntax : {err.message}", "InvalidSyntax", err)]
        }
    if errors := validate(schema(), document):
        return {
            "errors": [
                _error(f"Validation error : {err.message}", "ValidationError", err)
                for err in errors
            ]
        }
    selected: list[SimulatedMonitor | SimulatedEcho] = []
    variables = operation.get("variables")
    result = execute_sync(
        schema(),
        document,
        root_value={
            "listEndpoints": _list_endpoints(state, selected),
            "setEndpointFeatures": lambda info, **_: {
                "featureControlResponses": [],
                "errors": [],
            },
        },
        variable_values=variables if isinstance(variables, dict) else None,
        operation_name=operation.get("operationName"),
    )
    if result.errors and result.data is None:
        return {
            "errors": [
                _error(err.message, "ValidationError", err) for err in result.errors
            ]
        }
    reply: dict[str, Any] = {"data": result.data}
    if result.errors:
        reply["errors"] = [
            _error(err.message, "DataFetchingException", err) for err in result.errors
        ]
    for value in (result.data or {}).values():
        if isinstance(value, dict) and isinstance(value.get("endpoints"), list):
            _apply_overrides(value["endpoints"], selected)
    return reply


def operation_name(body: Any) -> str | None:
    """Return the (first) operation name of a request body."""
    first = body[0] if isinstance(body, list) and body else body
    return first.get("operationName") if isinstance(first, dict) else None


def target_of(body: Any) -> Target:
    """Return which kind of request a GraphQL body is (for fault injection)."""
    first = body[0] if isinstance(body, list) and body else body
    query = str(first.get("query", "")) if isinstance(first, dict) else ""
    if "configuration" in query:
        return Target.FEATURES
    if "properties" in query:
        return Target.STATE
    return Target.DISCOVERY


def throttled(body: Any) -> Any:
    """Return the HTTP-200 answer Amazon gives a throttled unofficial client."""
    reply = {
        "errors": [THROTTLED_ERROR],
        "data": {"listEndpoints": None},
        "extensions": {"requestID": "sim-throttled", "duration": 13},
    }
    return [reply] if isinstance(body, list) else reply


def unauthenticated(body: Any) -> Any:
    """Return the HTTP-200 answer to a GraphQL request whose session expired."""
    error = {
        "message": "Unauthorized",
        "path": ["listEndpoints"],
        "extensions": {
            "errorCode": "UNAUTHENTICATED",
            "classification": "DataFetchingException",
        },
    }
    reply = {"errors": [error], "data": {"listEndpoints": None}}
    return [reply] if isinstance(body, list) else reply


def endpoint_state(monitor: SimulatedMonitor, state: AlexaState) -> dict[str, Any]:
    """Return a monitor's state as Amazon pushes it (the GraphQL endpoint's shape)."""
    return {"id": monitor.endpoint_id, "features": _monitor_features(monitor, state)}
