"""Monitors appear and disappear with the account; discovery runs about once a day."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.models import Metric
from custom_components.home_monitor.sources.amazon.client import (
    ENDPOINTS_OPERATION,
    STATE_OPERATION,
)
from tests.simulators.alexa import AlexaSimulator, Fault, Target

from .conftest import entity_id, setup_entry


def device_names(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """Return the names of the entry's monitors (not its account or history devices)."""
    return {
        device.name or ""
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if device.entry_type is not dr.DeviceEntryType.SERVICE
    }


async def test_monitors_come_and_go_with_the_daily_discovery(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    coordinator = await setup_entry(hass, entry)
    assert device_names(hass, entry) == {"Living room", "Bedroom"}
    kitchen = simulator.add_monitor("Kitchen")
    simulator.reset_counts()

    # Within the day: only the state is read, the new monitor is not seen yet.
    freezer.tick(timedelta(hours=23))
    await coordinator.async_refresh()
    assert simulator.count(ENDPOINTS_OPERATION) == 0
    assert device_names(hass, entry) == {"Living room", "Bedroom"}

    freezer.tick(timedelta(hours=1, seconds=1))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert simulator.count(ENDPOINTS_OPERATION) == 1
    assert device_names(hass, entry) == {"Living room", "Bedroom", "Kitchen"}
    state = hass.states.get(entity_id(hass, simulator, kitchen.serial, Metric.CO))
    assert state is not None
    assert float(state.state) == kitchen.values(simulator.state.sample)["co"]

    simulator.remove_monitor(simulator.state.monitors[1].serial)
    freezer.tick(timedelta(days=1, seconds=1))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert device_names(hass, entry) == {"Living room", "Kitchen"}


async def test_monitor_missing_from_a_reply_is_unavailable_then_rediscovered(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    coordinator = await setup_entry(hass, entry)
    bedroom = simulator.state.monitors[1]
    bedroom_pm25 = entity_id(hass, simulator, bedroom.serial, Metric.PM25)
    simulator.remove_monitor(bedroom.serial)
    simulator.reset_counts()

    await coordinator.async_refresh()
    state = hass.states.get(bedroom_pm25)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    assert simulator.count(ENDPOINTS_OPERATION) == 0

    # Looked up again within the hour, not on every poll.
    freezer.tick(timedelta(minutes=30))
    await coordinator.async_refresh()
    assert simulator.count(ENDPOINTS_OPERATION) == 0
    freezer.tick(timedelta(minutes=31))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert simulator.count(ENDPOINTS_OPERATION) == 1
    assert simulator.count(STATE_OPERATION) == 3
    assert device_names(hass, entry) == {"Living room"}


async def test_failed_rediscovery_keeps_reading_known_monitors(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(Fault.SERVICE_UNAVAILABLE, target=Target.DISCOVERY, times=3)
    freezer.tick(timedelta(days=1, seconds=1))
    simulator.advance()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert device_names(hass, entry) == {"Living room", "Bedroom"}
    # Not on every poll: discovery is tried again an hour later.
    simulator.reset_counts()
    await coordinator.async_refresh()
    assert simulator.count(ENDPOINTS_OPERATION) == 0
    freezer.tick(timedelta(hours=1))
    await coordinator.async_refresh()
    assert simulator.count(ENDPOINTS_OPERATION) == 1
    assert coordinator.last_update_success


async def test_account_without_monitors(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    simulator.state.monitors.clear()
    coordinator = await setup_entry(hass, entry)
    assert coordinator.last_update_success
    assert coordinator.data == {}
    simulator.reset_counts()
    await coordinator.async_refresh()
    assert simulator.requests == []


async def test_rate_limited_rediscovery_stops_the_cycle(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(Fault.GRAPHQL_THROTTLED, target=Target.DISCOVERY)
    freezer.tick(timedelta(days=1, seconds=1))
    simulator.reset_counts()
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert simulator.count(STATE_OPERATION) == 0
    assert coordinator.rate_limited_until is not None


async def test_diagnostics_describe_the_account_without_secrets(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    from custom_components.home_monitor.diagnostics import (
        async_get_config_entry_diagnostics,
    )

    await setup_entry(hass, entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    details = diagnostics["coordinator"]["source_details"]
    assert details["monitors"] == 2
    assert details["domain"] == "com"
    assert details["requests"] == 3
    assert details["bytes_received"] > 0
    assert details["rate_limited_until"] is None
    text = repr(diagnostics)
    assert not [secret for secret in simulator.secrets if secret in text]


async def test_unload_closes_the_session(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    coordinator = await setup_entry(hass, entry)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert coordinator.client.http.session.closed
