"""Odd replies: discovery and state parsing never crash, and say what was wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.home_monitor.models import Metric
from custom_components.home_monitor.sources.amazon import AmazonResponseError
from custom_components.home_monitor.sources.amazon.parsing import (
    MonitorInfo,
    apply_features,
    metric_for_label,
    parse_monitors,
    poll_result,
)

NOW = datetime(2026, 9, 12, 9, 0, tzinfo=UTC)
MONITOR = MonitorInfo(endpoint_id="ep1", serial="GAJ1", name="Hall")


def endpoints(*items: Any) -> dict[str, Any]:
    return {"data": {"listEndpoints": {"endpoints": list(items)}}}


def aqm(**changes: Any) -> dict[str, Any]:
    endpoint = {
        "endpointId": "ep1",
        "friendlyNameObject": {"value": {"text": "Hall"}},
        "manufacturer": {"value": {"text": "Amazon"}},
        "serialNumber": {"value": {"text": "GAJ1"}},
        "legacyIdentifiers": {
            "dmsIdentifier": {"deviceType": {"value": {"text": "AEZME1X38KDRA"}}}
        },
    }
    return endpoint | changes


def feature(name: str, instance: str | None, prop: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "instance": instance, "properties": [prop]}


def rng(
    instance: str, value: Any, when: Any = "2026-09-12T08:00:00.000Z"
) -> dict[str, Any]:
    prop = {"name": "rangeValue", "error": None, "rangeValue": {"value": value}}
    if when is not None:
        prop["timeOfSample"] = when
    return feature("range", instance, prop)


def temperature(value: Any, scale: str = "CELSIUS") -> dict[str, Any]:
    prop = {
        "name": "temperature",
        "value": {"value": value, "scale": scale},
        "timeOfSample": "2026-09-12T08:00:00Z",
    }
    return feature("temperatureSensor", None, prop)


def state(*features: Any) -> dict[str, Any]:
    return endpoints({"endpointId": "ep1", "features": list(features)})


@pytest.mark.parametrize(
    "reply",
    [{}, {"data": None}, {"data": {"listEndpoints": {"endpoints": {}}}}],
    ids=["empty", "no_data", "not_a_list"],
)
def test_discovery_rejects_replies_without_endpoints(reply: dict[str, Any]) -> None:
    with pytest.raises(AmazonResponseError):
        parse_monitors(reply)


def test_discovery_skips_what_is_not_an_amazon_monitor() -> None:
    reply = endpoints(
        aqm(),
        aqm(manufacturer={"value": {"text": "Other"}}),
        aqm(serialNumber=None),
        aqm(endpointId=None),
        aqm(legacyIdentifiers=None),
        "junk",
        aqm(
            endpointId="ep2",
            serialNumber={"value": {"text": "GAJ2"}},
            friendlyNameObject=None,
        ),
    )
    monitors = parse_monitors(reply)
    assert [(m.endpoint_id, m.name) for m in monitors] == [
        ("ep1", "Hall"),
        ("ep2", "Air Quality Monitor GAJ2"),
    ]


def test_features_give_metrics_and_labels() -> None:
    config = {"friendlyName": {"value": {"text": "  Indoor   Humidity "}}}
    reply = endpoints(
        {
            "endpointId": "ep1",
            "features": [
                {"name": "range", "instance": "14", "configuration": config},
                {"name": "range", "instance": "6", "configuration": None},
                {"name": "toggle", "instance": "11"},
                {"name": "temperatureSensor"},
                "junk",
            ],
        },
        {"endpointId": "ep9", "features": None},
    )
    other = MonitorInfo(endpoint_id="ep9", serial="GAJ9", name="Other")
    hall, untouched = apply_features([MONITOR, other], reply)
    assert hall.labels == {"14": Metric.HUMIDITY}
    assert hall.metrics == {Metric.HUMIDITY, Metric.PM25, Metric.TEMPERATURE}
    assert untouched == other


@pytest.mark.parametrize(
    ("label", "metric"),
    [
        ("Alexa.AirQuality.ParticulateMatter", Metric.PM25),
        ("Particulate matter PM10", Metric.PM10),
        ("carbon monoxide", Metric.CO),
        ("LED", None),
        (None, None),
    ],
)
def test_labels(label: str | None, metric: Metric | None) -> None:
    assert metric_for_label(label) is metric


def test_units_and_conversions() -> None:
    reply = state(temperature(288.15, "KELVIN"), rng("8", 1), rng("5", 42))
    result = poll_result([MONITOR], "cust", reply, NOW)
    values = {r.metric: (r.value, r.unit) for r in result.readings}
    assert values[Metric.TEMPERATURE] == (15.0, "°C")
    assert values[Metric.CO] == (1.0, "ppm")
    assert values[Metric.VOC_INDEX] == (42.0, None)


@pytest.mark.parametrize(
    "bad",
    [
        temperature(20, "RANKINE"),
        temperature("warm"),
        temperature("21.5"),
        temperature(True),
        feature("temperatureSensor", None, {"name": "temperature", "value": 20}),
    ],
)
def test_unusable_temperature_makes_only_it_unavailable(bad: dict[str, Any]) -> None:
    result = poll_result([MONITOR], "cust", state(bad, rng("4", 50)), NOW)
    device = next(iter(result.devices.values()))
    assert device.unavailable == {Metric.TEMPERATURE}
    assert device.values[Metric.HUMIDITY] == 50
    assert any("unusable temperature" in p for p in result.problems.values())


@pytest.mark.parametrize(
    "value", [True, False, None, "42", "nan", "inf", [], {"v": 1}, "n/a", 1e400]
)
def test_unusable_range_values(value: Any) -> None:
    """A value of the wrong type (Amazon's schema says a number) is refused."""
    result = poll_result([MONITOR], "cust", state(rng("6", value)), NOW)
    device = next(iter(result.devices.values()))
    assert device.unavailable == {Metric.PM25}
    assert result.readings == []


def test_sample_time_fallbacks() -> None:
    reply = state(
        rng("4", 40, when=None),
        rng("6", 5, when="2026-09-12T07:00:00"),
        rng("7", 9, when="yesterday"),
    )
    result = poll_result([MONITOR], "cust", reply, NOW)
    times = {r.metric: (r.measured_at, r.device_time) for r in result.readings}
    assert times[Metric.HUMIDITY] == (NOW, False)
    assert times[Metric.PM25] == (datetime(2026, 9, 12, 7, 0, tzinfo=UTC), True)
    assert times[Metric.PM10] == (NOW, False)
    assert sum("without a sample time" in p for p in result.problems.values()) == 2


def test_property_errors_and_unknown_features() -> None:
    error = {"name": "rangeValue", "error": {"type": "NOT_FOUND", "message": "gone"}}
    reply = state(
        feature("range", "9", error),
        feature("range", "99", {"name": "rangeValue", "rangeValue": {"value": 1}}),
        feature("range", "4", {"name": "somethingElse"}),
        {"name": "connectivity", "properties": "junk"},
        "junk",
    )
    result = poll_result([MONITOR], "cust", reply, NOW)
    device = next(iter(result.devices.values()))
    assert device.unavailable == {Metric.AIR_QUALITY}
    assert device.online
    assert device.values[Metric.HUMIDITY] is None
    assert "reports NOT_FOUND for air_quality" in " ".join(result.problems.values())


@pytest.mark.parametrize(
    "reply",
    [endpoints(), endpoints({"endpointId": "ep1", "features": "junk"})],
    ids=["missing", "malformed"],
)
def test_monitor_without_usable_state_is_unavailable(reply: dict[str, Any]) -> None:
    result = poll_result([MONITOR], "cust", reply, NOW)
    device = next(iter(result.devices.values()))
    assert not device.online
    assert device.unavailable == MONITOR.metrics
    assert list(result.problems) == ["amazon:cust:GAJ1:endpoint"]
