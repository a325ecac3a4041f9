"""Fixtures for the Hue tests: a simulated bridge on 127.0.0.1 and entries for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import timedelta

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.home_monitor.const import (
    CONF_POLL_INTERVAL,
    CONF_SOURCE,
    DOMAIN,
    SOURCE_HUE,
)
from custom_components.home_monitor.retry import BackoffPolicy
from custom_components.home_monitor.sources.hue import CONF_API_VERSION
from custom_components.home_monitor.sources.hue.coordinator import HueCoordinator
from tests.simulators.hue_bridge import HomeSpec, HueBridgeSimulator
from tests.store.contents import stored_events

# Sensors in no room: a room becomes its sensors' area, and Home Assistant puts the area
# in new entity ids; these tests name entities without it (`tests/test_devices.py`
# puts the sensors in rooms).
SMALL_HOME = HomeSpec(
    lights=4, motion_sensors=2, rooms=2, scenes=3, rules=2, sensors_in_rooms=False
)


@pytest.fixture
async def bridge(socket_enabled: None) -> AsyncGenerator[HueBridgeSimulator]:
    """Run a small simulated home's bridge."""
    simulator = HueBridgeSimulator(SMALL_HOME)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def app_key(bridge: HueBridgeSimulator) -> str:
    """Return an app key the bridge accepts."""
    return bridge.add_app_key("home-monitor#test")


def make_entry(
    bridge: HueBridgeSimulator, app_key: str, api_version: int, poll: int = 10
) -> MockConfigEntry:
    """Return an entry for the simulated bridge."""
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=bridge.bridge_id,
        title="Hue Bridge",
        data={
            CONF_SOURCE: SOURCE_HUE,
            CONF_HOST: bridge.host,
            CONF_API_KEY: app_key,
            CONF_API_VERSION: api_version,
        },
        options={CONF_POLL_INTERVAL: poll},
    )


@pytest.fixture
def v2_entry(
    hass: HomeAssistant, bridge: HueBridgeSimulator, app_key: str
) -> MockConfigEntry:
    """Return a v2 entry, added to hass."""
    entry = make_entry(bridge, app_key, 2)
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def v1_entry(
    hass: HomeAssistant, bridge: HueBridgeSimulator, app_key: str
) -> MockConfigEntry:
    """Return a v1 entry, added to hass."""
    bridge.supports_v2 = False
    entry = make_entry(bridge, app_key, 1)
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def loaded_v1(
    hass: HomeAssistant, v1_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the v1 entry; unload it afterwards."""
    assert await hass.config_entries.async_setup(v1_entry.entry_id)
    await hass.async_block_till_done()
    yield v1_entry
    await unload(hass, v1_entry)


@pytest.fixture
async def loaded_v2(
    hass: HomeAssistant, bridge: HueBridgeSimulator, v2_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the v2 entry and wait for its event stream; unload it afterwards."""
    assert await hass.config_entries.async_setup(v2_entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)
    yield v2_entry
    await unload(hass, v2_entry)


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload an entry if it is loaded (it stops its stream and session)."""
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)


async def wait_for(
    hass: HomeAssistant, predicate: Callable[[], bool], within: float = 5.0
) -> None:
    """Wait (in real time) until `predicate` holds; aiohue's tasks are not hass's."""
    async with asyncio.timeout(within):
        while not predicate():
            await asyncio.sleep(0.01)
            await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> BackoffPolicy:
    """Keep the retry policy's shape but make its waits short, so tests run quickly."""
    policy = BackoffPolicy(attempts=3, base_delay=0.01, factor=2.0, max_delay=0.05)
    monkeypatch.setattr(HueCoordinator, "policy", policy)
    return policy


def retry_events(entry: MockConfigEntry) -> list[dict[str, object]]:
    """Return the retry events the entry's coordinator wrote to the store."""
    store = entry.runtime_data.store
    return [detail for kind, _, detail in stored_events(store) if kind == "retry"]


async def poll(hass: HomeAssistant, seconds: float = 11) -> None:
    """Let the poll interval pass (timers fire; the wall clock is not frozen)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done(wait_background_tasks=True)
