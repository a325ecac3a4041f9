"""Classification, conversions, mapping edge cases, URL redaction and measurements."""

from __future__ import annotations

from datetime import UTC, datetime
import json

import aiohttp
from aiohue import BridgeBusy, Unauthorized
from aiohue.errors import AiohueException
import pytest
from yarl import URL

from custom_components.home_monitor.models import Metric
from custom_components.home_monitor.retry import FailureKind
from custom_components.home_monitor.sources.hue.client import (
    MalformedResponseError,
    classify_hue_error,
    redact_url,
)
from custom_components.home_monitor.sources.hue.mapping import (
    MalformedValueError,
    Value,
    checked,
    flag,
    lux,
    merge,
    number,
    parse_lastupdated,
    v1_devices,
    v2_hub,
    v2_value,
)
from custom_components.home_monitor.sources.hue.measurements import (
    Measurements,
    TrafficCounter,
)
from tests.simulators.hue_home import HueHome

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _response_error(status: int) -> aiohttp.ClientResponseError:
    info = aiohttp.RequestInfo(
        URL("http://h/api/x"), "GET", None, URL("http://h/api/x")
    )  # type: ignore[arg-type]
    return aiohttp.ClientResponseError(info, (), status=status)


@pytest.mark.parametrize(
    ("error", "kind", "reason"),
    [
        (Unauthorized(), FailureKind.AUTH, "app key rejected"),
        (BridgeBusy("busy"), FailureKind.TRANSIENT, "bridge busy"),
        (json.JSONDecodeError("x", "", 0), FailureKind.TRANSIENT, "malformed response"),
        (MalformedResponseError(), FailureKind.TRANSIENT, "malformed response"),
        (_response_error(429), FailureKind.TRANSIENT, "HTTP 429"),
        (_response_error(503), FailureKind.TRANSIENT, "HTTP 503"),
        (_response_error(404), FailureKind.PERMANENT, "HTTP 404"),
        (TimeoutError(), FailureKind.TRANSIENT, "timeout"),
        (AiohueException("resource not found"), FailureKind.PERMANENT, "bridge error"),
        (KeyError("data"), FailureKind.TRANSIENT, "malformed response"),
        (RuntimeError("x"), FailureKind.PERMANENT, "RuntimeError"),
    ],
)
def test_classify(error: BaseException, kind: FailureKind, reason: str) -> None:
    failure = classify_hue_error(error)
    assert (failure.kind, failure.reason) == (kind, reason)


def test_value_checks() -> None:
    assert number(21) == 21.0
    for bad in (True, "21", float("nan"), float("inf"), None):
        with pytest.raises(MalformedValueError):
            number(bad)
    with pytest.raises(MalformedValueError):
        flag(1)
    assert lux(0) == 0.0
    assert lux(10001) == 10.0
    with pytest.raises(MalformedValueError):
        checked(Metric.TEMPERATURE, 1e6)
    with pytest.raises(MalformedValueError):
        checked(Metric.BATTERY, -1)


def test_v1_mapping_edge_cases() -> None:
    assert parse_lastupdated("none") is None
    assert parse_lastupdated("yesterday") is None
    assert parse_lastupdated(None) is None
    home = HueHome()
    raw = home.v1_sensors()
    presence, light, temperature = home.sensors[0].v1_ids
    raw[temperature]["state"] = {"temperature": None, "lastupdated": "none"}
    raw[light]["state"]["lastupdated"] = "none"
    raw[presence]["config"] = "broken"
    raw["90"] = "not a sensor"
    raw["91"] = {"type": "ZLLTemperature", "uniqueid": "short"}
    devices, readings = v1_devices(raw, "b", "b:hub", NOW)
    assert len(devices) == 2
    first = devices[f"hue:b:{home.sensors[0].mac}"]
    assert first.values[Metric.TEMPERATURE] is None
    assert first.values[Metric.ILLUMINANCE] is None
    assert first.serial_number == home.sensors[0].mac
    assert {r.metric for r in readings if r.device_key == first.record.device_key} == {
        Metric.MOTION,
        Metric.BATTERY,
        Metric.CONNECTIVITY,
    }


def test_v2_values() -> None:
    home = HueHome()
    sensor = home.sensors[0]
    temperature = home.v2_service(sensor, "temperature")
    del temperature["temperature"]["temperature_report"]  # older firmware
    value = v2_value(temperature)
    assert (value.value, value.changed, value.problem) == (19.0, None, None)
    reading = value.reading("k", NOW)
    assert reading is not None
    assert (reading.measured_at, reading.device_time) == (NOW, False)
    temperature["enabled"] = False
    assert v2_value(temperature) == Value(Metric.TEMPERATURE, None)
    motion = home.v2_service(sensor, "motion")
    motion["motion"]["motion_valid"] = False
    assert v2_value(motion).value is None
    light = home.v2_service(sensor, "light_level")
    light["light"]["light_level_report"]["light_level"] = 10**9
    assert v2_value(light).problem == "out of range"
    assert v2_value(light).reading("k", NOW) is None
    status = {"id": "z", "type": "zigbee_connectivity", "status": 3}
    assert v2_value(status).problem == "no status"
    report = home.v2_service(sensor, "temperature")
    report["temperature"]["temperature_report"]["changed"] = "2026-11-28T12:00:00"
    assert v2_value(report).changed == datetime(2026, 11, 28, 12, tzinfo=UTC)
    report["temperature"]["temperature_report"]["changed"] = "soon"
    assert v2_value(report).problem == "unreadable time"
    del report["temperature"]["temperature_report"]["temperature"]
    assert v2_value(report).problem == "no temperature"
    report["temperature"] = [21.0]
    assert v2_value(report).problem == "no temperature object"


def test_merge_partial_update() -> None:
    current = {
        "id": "t",
        "temperature": {"temperature": 1.0, "temperature_valid": True},
    }
    merge(current, {"temperature": {"temperature": 2.0}, "enabled": False})
    assert current == {
        "id": "t",
        "temperature": {"temperature": 2.0, "temperature_valid": True},
        "enabled": False,
    }


def test_hub_record_without_bridge_device() -> None:
    assert v2_hub([], "b").name == "Hue Bridge"


def test_redact_url() -> None:
    assert str(redact_url(URL("http://h:8080/api/secretkey/sensors?x=1"))) == (
        "http://h:8080/api/**REDACTED**/sensors"
    )
    assert str(redact_url(URL("http://h/api/config"))) == "http://h/api/config"
    assert (
        str(redact_url(URL("https://h/clip/v2/resource")))
        == "https://h/clip/v2/resource"
    )


def test_measurements_roll_over_hours() -> None:
    counter = TrafficCounter()
    hour = ["10"]
    ticks = iter([0.0, 0.5, 1.0, 1.25])
    measurements = Measurements(counter, lambda: hour[0], clock=lambda: next(ticks))
    measurements.cycle_finished("poll", ok=True)  # no start: ignored
    measurements.cycle_started()
    counter.requests += 1
    counter.payload_bytes += 100
    measurements.cycle_finished("poll", ok=True)
    measurements.events_received(3)
    hour[0] = "11"
    measurements.cycle_started()
    counter.payload_bytes += 50
    measurements.cycle_finished("poll", ok=False)
    data = measurements.as_dict()
    assert [h["hour"] for h in data["hours"]] == ["10", "11"]
    assert data["hours"][0]["payload_bytes"] == 100
    assert data["hours"][0]["events"] == 3
    assert data["hours"][0]["mean_cycle_ms"] == 500.0
    assert data["hours"][1]["failed_cycles"] == 1
    assert data["last_cycle"] == {
        "kind": "poll",
        "ok": False,
        "duration_ms": 250.0,
        "payload_bytes": 50,
        "requests": 0,
    }
