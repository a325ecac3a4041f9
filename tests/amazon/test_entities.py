"""Entities of the Amazon monitors: measurements, units, device classes, polling."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import DOMAIN
from custom_components.home_monitor.models import Metric, Reading
from custom_components.home_monitor.sources.amazon.client import STATE_OPERATION
from tests.simulators.alexa import AlexaSimulator

from .conftest import entity_id, setup_entry

EXPECTED = {
    Metric.TEMPERATURE: ("°C", SensorDeviceClass.TEMPERATURE),
    Metric.HUMIDITY: ("%", SensorDeviceClass.HUMIDITY),
    Metric.VOC_INDEX: (None, None),
    Metric.PM25: ("μg/m³", SensorDeviceClass.PM25),
    Metric.PM10: ("μg/m³", SensorDeviceClass.PM10),
    Metric.CO: ("ppm", SensorDeviceClass.CO),
    Metric.AIR_QUALITY: (None, SensorDeviceClass.AQI),
}


@pytest.mark.parametrize("monitor_index", [0, 1], ids=["celsius", "fahrenheit"])
async def test_seven_measurements_with_units_and_device_classes(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    monitor_index: int,
) -> None:
    await setup_entry(hass, entry)
    monitor = simulator.state.monitors[monitor_index]
    expected = monitor.values(simulator.state.sample)
    for metric, (unit, device_class) in EXPECTED.items():
        state = hass.states.get(entity_id(hass, simulator, monitor.serial, metric))
        assert state is not None
        assert float(state.state) == pytest.approx(expected[metric]), metric
        assert state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) == unit, metric
        assert state.attributes.get(ATTR_DEVICE_CLASS) == device_class, metric
    connectivity = hass.states.get(
        entity_id(hass, simulator, monitor.serial, Metric.CONNECTIVITY)
    )
    assert connectivity is not None
    assert connectivity.state == STATE_ON
    registry_entry = er.async_get(hass).async_get(connectivity.entity_id)
    assert registry_entry is not None
    assert registry_entry.device_id is not None
    device = dr.async_get(hass).async_get(registry_entry.device_id)
    assert device is not None
    assert (DOMAIN, f"amazon:{simulator.state.account.user_id}:{monitor.serial}") in (
        device.identifiers
    )
    assert device.name == monitor.name
    assert device.manufacturer == "Amazon"
    assert device.serial_number == monitor.serial


async def test_fahrenheit_is_converted(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    monitor = simulator.state.monitors[1]
    assert monitor.fahrenheit
    await setup_entry(hass, entry)
    state = hass.states.get(
        entity_id(hass, simulator, monitor.serial, Metric.TEMPERATURE)
    )
    assert state is not None
    celsius = monitor.values(simulator.state.sample)["temperature"]
    # The simulator reports this monitor in °F; the entity shows °C.
    assert float(state.state) == pytest.approx(celsius)
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "°C"


async def test_one_request_per_poll_for_several_monitors(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    simulator.add_monitor("Kitchen")
    simulator.add_monitor("Office")
    coordinator = await setup_entry(hass, entry)
    assert len(coordinator.data) == 4
    simulator.reset_counts()
    for _ in range(3):
        simulator.advance()
        await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert [r.operation for r in simulator.requests] == [STATE_OPERATION] * 3
    office = simulator.state.monitors[3]
    state = hass.states.get(entity_id(hass, simulator, office.serial, Metric.PM25))
    assert state is not None
    assert float(state.state) == office.values(simulator.state.sample)["pm25"]


async def test_values_follow_new_samples_and_repeats_are_stored_once(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    enqueued: list[Reading],
) -> None:
    coordinator = await setup_entry(hass, entry)
    first = len(enqueued)
    assert first == 16  # 2 monitors x (7 measurements + connectivity)
    # Amazon serves the same sample again: nothing new reaches the store.
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    assert len(enqueued) == first
    simulator.advance()
    await coordinator.async_refresh()
    assert len(enqueued) == 2 * first
    assert len({(r.device_key, r.metric, r.measured_at) for r in enqueued}) == 2 * first
    monitor = simulator.state.monitors[0]
    state = hass.states.get(entity_id(hass, simulator, monitor.serial, Metric.HUMIDITY))
    assert state is not None
    assert float(state.state) == monitor.values(simulator.state.sample)["humidity"]
    sample_time = max(r.measured_at for r in enqueued)
    assert sample_time.isoformat().startswith("2026-09-12T08:05:00")


@pytest.mark.parametrize(
    "offset",
    [timedelta(days=365 * 70), -timedelta(hours=2)],
    ids=["far-future", "stepped-back"],
)
async def test_implausible_sample_times_are_stored_all_the_same(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    enqueued: list[Reading],
    offset: timedelta,
) -> None:
    """Every new value goes to the store; the clock guard (mirror) retimes it."""
    coordinator = await setup_entry(hass, entry)
    monitor = simulator.state.monitors[0]
    key = next(r.device_key for r in enqueued if r.device_key.endswith(monitor.serial))
    for _ in range(3):
        simulator.advance()
        simulator.state.clock_offset += offset
        enqueued.clear()
        await coordinator.async_refresh()
        assert coordinator.last_update_success
        stored = {r.metric: r for r in enqueued if r.device_key == key}
        expected = monitor.values(simulator.state.sample)
        assert stored[Metric.PM25].value == expected["pm25"]
        assert stored[Metric.HUMIDITY].value == expected["humidity"]
        # Stored at Home Assistant's time, not the monitor's.
        assert not stored[Metric.PM25].device_time
        state = hass.states.get(entity_id(hass, simulator, monitor.serial, Metric.PM25))
        assert state is not None
        assert float(state.state) == expected["pm25"]
    assert coordinator.gate.retimed > 0
