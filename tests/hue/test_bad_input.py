"""Bad input from a bridge: values checked on the raw JSON, a quiet event stream."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.home_monitor.models import Metric
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.contents import stored_readings

from .fixtures import poll, wait_for

ENTITIES = {
    "temperature": "sensor.motion_sensor_1_temperature",
    "light_level": "sensor.motion_sensor_1_illuminance",
    "battery": "sensor.motion_sensor_1_battery",
    "motion": "binary_sensor.motion_sensor_1_motion",
}
METRICS = {
    "temperature": Metric.TEMPERATURE,
    "light_level": Metric.ILLUMINANCE,
    "battery": Metric.BATTERY,
    "motion": Metric.MOTION,
}
GOOD_VALUES = {"temperature": 22.5, "light_level": 15000, "battery": 80, "motion": True}
# What a library model could coerce into a plausible value, and what no model should.
BAD_VALUES = [
    ("temperature", True),
    ("temperature", "21.5"),
    ("temperature", float("nan")),
    ("temperature", None),
    ("light_level", True),
    ("light_level", 12000.5e9),
    ("battery", True),
    ("battery", 50.5e3),
    ("battery", "full"),
    ("motion", 1),
    ("motion", "yes"),
]


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    found = hass.states.get(entity_id)
    return found.state if found else None


def stored(entry: MockConfigEntry, metric: Metric) -> list[float]:
    first = entry.runtime_data.coordinator.bridge_id
    return [
        r.value
        for r in stored_readings(entry.runtime_data.store)
        if r.metric is metric and first in r.device_key
    ]


def warnings(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and text in r.getMessage()
    ]


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    traced = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]
    assert not traced, "a traceback was logged"


@pytest.mark.parametrize("case", BAD_VALUES)
async def test_streamed_value_of_the_wrong_type_is_unavailable(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    case: tuple[str, Any],
) -> None:
    kind, raw = case
    before = stored(loaded_v2, METRICS[kind])
    bridge.corrupt_value(0, kind, raw)
    await wait_for(hass, lambda: state(hass, ENTITIES[kind]) == STATE_UNAVAILABLE)
    # Only that value: the sensor's other entities keep theirs.
    for other, entity_id in ENTITIES.items():
        if other != kind:
            assert state(hass, entity_id) not in (STATE_UNAVAILABLE, None)
    assert stored(loaded_v2, METRICS[kind]) == before
    resource = {"light_level": "light_level", "battery": "device_power"}.get(kind, kind)
    assert len(warnings(caplog, f"malformed {resource} value")) == 1
    no_tracebacks(caplog)
    bridge.set_value(0, kind, GOOD_VALUES[kind])
    await wait_for(hass, lambda: state(hass, ENTITIES[kind]) != STATE_UNAVAILABLE)


@pytest.mark.parametrize(
    "case",
    [("temperature", True), ("light_level", True), ("battery", "full"), ("motion", 1)],
)
async def test_polled_value_of_the_wrong_type_is_unavailable(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    case: tuple[str, Any],
) -> None:
    kind, raw = case
    coordinator = loaded_v2.runtime_data.coordinator
    await bridge.go_down()
    await wait_for(hass, lambda: coordinator.polling)
    bridge.sensor(0).corrupt[kind] = raw  # changed while nothing streams it
    await bridge.come_up()
    await poll(hass, 30)
    assert state(hass, ENTITIES[kind]) == STATE_UNAVAILABLE
    no_tracebacks(caplog)


@pytest.mark.parametrize(("kind", "raw"), [("temperature", True), ("battery", True)])
async def test_v1_value_of_the_wrong_type_is_unavailable(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
    kind: str,
    raw: Any,
) -> None:
    bridge.corrupt_value(0, kind, raw)
    await poll(hass)
    assert state(hass, ENTITIES[kind]) == STATE_UNAVAILABLE
    assert state(hass, ENTITIES["motion"]) == "off"


async def test_unparseable_stream_lines_are_counted_not_traced(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    junk = [
        "data: [{not json\n\n",
        'data: {"type": "update"}\n\n',  # not a list of events
        'data: [{"type": "update", "id": "x"}]\n\n',  # no data list
        'data: [{"type": "rename", "data": []}]\n\n',  # no such event type
        'data: [{"type": "update", "data": [{"temperature": {}}]}]\n\n',  # no id/type
        "data: \xff\n\n",
    ]
    for line in junk:
        bridge.events.push_raw(line)
    # Well formed, but an update of a resource never seen whole: ignored quietly.
    unknown = {
        "id": "unknown",
        "type": "temperature",
        "temperature": {"temperature": 5},
    }
    bridge.events.publish("update", [unknown])
    bridge.set_value(1, "motion", True)  # a good event after the bad ones
    await wait_for(
        hass, lambda: state(hass, "binary_sensor.motion_sensor_2_motion") == "on"
    )
    no_tracebacks(caplog)
    assert len(warnings(caplog, "malformed event")) == 1
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded_v2)
    details = diagnostics["coordinator"]["source_details"]
    assert details["malformed_events"] == len(junk)

    # Within the hour no further warning; after it, one with the count since.
    for line in junk[:3]:
        bridge.events.push_raw(line)
    bridge.set_value(1, "motion", False)
    await wait_for(
        hass, lambda: state(hass, "binary_sensor.motion_sensor_2_motion") == "off"
    )
    assert len(warnings(caplog, "malformed event")) == 1
    coordinator = loaded_v2.runtime_data.coordinator
    coordinator._v2.events._report_after = 0.0  # an hour has passed
    bridge.events.push_raw(junk[0])
    bridge.set_value(1, "motion", True)
    await wait_for(
        hass, lambda: state(hass, "binary_sensor.motion_sensor_2_motion") == "on"
    )
    found = warnings(caplog, "malformed event")
    assert len(found) == 2
    assert "Ignored 9 malformed" in found[1].getMessage()  # 5 + 3 + 1 since
    assert bridge.bridge_id in found[1].getMessage()
    no_tracebacks(caplog)
