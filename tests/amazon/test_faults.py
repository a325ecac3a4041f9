"""Amazon failures during polling: rate limits, server errors, timeouts, bad replies."""

from __future__ import annotations

from datetime import timedelta
import logging

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.home_monitor.models import Metric
from custom_components.home_monitor.sources.amazon.client import STATE_OPERATION
from tests.simulators.alexa import AlexaSimulator, Fault
from tests.store.contents import stored_events

from .conftest import entity_id, setup_entry


def available(hass: HomeAssistant, simulator: AlexaSimulator, metric: Metric) -> bool:
    serial = simulator.state.monitors[0].serial
    state = hass.states.get(entity_id(hass, simulator, serial, metric))
    assert state is not None
    return state.state != STATE_UNAVAILABLE


async def _fire(hass: HomeAssistant, seconds: float) -> None:
    """Let `seconds` pass for the timers scheduled so far (time does not accumulate)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize("fault", [Fault.TOO_MANY_REQUESTS, Fault.GRAPHQL_THROTTLED])
async def test_rate_limit_backs_off_without_retry_storm(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    fault: Fault,
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(fault, times=2)
    simulator.reset_counts()

    await coordinator.async_refresh()
    # Rate limited: not retried inside the cycle.
    assert simulator.count(STATE_OPERATION) == 1
    assert not coordinator.last_update_success
    assert coordinator.retry_stats.rate_limited == 1
    assert ("retry", "amazon") in {
        (kind, src) for kind, src, _ in stored_events(coordinator.store)
    }

    # The normal interval (300 s) passes: no request, the back-off is 600 s.
    await _fire(hass, 310)
    assert simulator.count(STATE_OPERATION) == 1
    await _fire(hass, 610)
    assert simulator.count(STATE_OPERATION) == 2
    # Limited again: the delay grows to 1200 s.
    await _fire(hass, 610)
    assert simulator.count(STATE_OPERATION) == 2
    await _fire(hass, 1210)
    assert simulator.count(STATE_OPERATION) == 3
    assert coordinator.last_update_success
    assert coordinator.retry_stats.rate_limited == 2
    assert coordinator.retry_stats.consecutive_rate_limits == 0
    # Back to the normal interval.
    await _fire(hass, 310)
    assert simulator.count(STATE_OPERATION) == 4


@pytest.mark.parametrize(
    "fault", [Fault.SERVICE_UNAVAILABLE, Fault.SERVER_ERROR, Fault.TIMEOUT]
)
async def test_server_errors_and_timeouts_retry_then_recover(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    fault: Fault,
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(fault, times=2)
    simulator.reset_counts()
    simulator.advance()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert simulator.count(STATE_OPERATION) == 3
    assert coordinator.retry_stats.retries == 2
    assert coordinator.retry_stats.recovered == 1
    assert available(hass, simulator, Metric.PM25)


async def test_server_errors_exhaust_the_cycle_then_the_next_one_recovers(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(Fault.SERVICE_UNAVAILABLE, times=3)
    simulator.reset_counts()
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert simulator.count(STATE_OPERATION) == 3
    assert coordinator.retry_stats.exhausted == 1
    assert not available(hass, simulator, Metric.PM25)
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert available(hass, simulator, Metric.PM25)


@pytest.mark.parametrize(
    "fault", [Fault.MALFORMED_JSON, Fault.WRONG_SHAPE, Fault.HTML_PAGE]
)
async def test_malformed_reply_makes_entities_unavailable_without_crash(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    fault: Fault,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(fault, times=2)
    simulator.reset_counts()
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    # Not retried inside a cycle, logged once.
    assert simulator.count(STATE_OPERATION) == 2
    assert not coordinator.last_update_success
    assert not available(hass, simulator, Metric.PM25)
    # One warning when the failure starts (the coordinator's), no error.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    started = [r for r in caplog.records if "cannot be updated" in r.getMessage()]
    assert [r.levelno for r in started] == [logging.WARNING]
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert available(hass, simulator, Metric.PM25)


async def test_property_error_makes_only_that_entity_unavailable(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = await setup_entry(hass, entry)
    serial = simulator.state.monitors[0].serial
    simulator.set_property_error(serial, "6")
    simulator.monitor(serial).raw_overrides["4"] = "n/a"
    for _ in range(3):
        await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert not available(hass, simulator, Metric.PM25)
    assert not available(hass, simulator, Metric.HUMIDITY)
    assert available(hass, simulator, Metric.PM10)
    assert available(hass, simulator, Metric.CONNECTIVITY)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("INTERNAL_ERROR for pm25" in m for m in warnings) == 1
    assert sum("unusable humidity value" in m for m in warnings) == 1
    simulator.clear_property_errors(serial)
    simulator.monitor(serial).raw_overrides.clear()
    await coordinator.async_refresh()
    assert available(hass, simulator, Metric.PM25)
    assert available(hass, simulator, Metric.HUMIDITY)
    assert any("Resolved" in r.getMessage() for r in caplog.records)


async def test_unreachable_monitor_keeps_connectivity_entity(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.state.monitors[0].online = False
    await coordinator.async_refresh()
    assert not available(hass, simulator, Metric.PM25)
    serial = simulator.state.monitors[0].serial
    state = hass.states.get(entity_id(hass, simulator, serial, Metric.CONNECTIVITY))
    assert state is not None
    assert state.state == "off"
