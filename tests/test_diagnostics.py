"""Diagnostics: useful state, no secret and no personal identifier."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props
from syrupy.types import PropertyName, PropertyPath

from tests.amazon import conftest as amazon
from tests.simulators.alexa import AlexaSimulator

# The Amazon simulator's fixtures (they live beside the Amazon tests).
_tls_context = amazon._tls_context
simulator = amazon.simulator
credentials = amazon.credentials
amazon_env = amazon.amazon_env
amazon_entry = amazon.entry

# What changes from run to run: ports, folders, clocks, timings, write batching.
_VOLATILE_KEYS = props(
    "host",
    "path",
    "discovered_at",
    "hour",
    "duration_ms",
    "cycle_ms_total",
    "mean_cycle_ms",
    "last_commit_at",
    "batches",
    "db_size_bytes",
    "wal_size_bytes",
    "bytes_sent",
    "bytes_received",
    "total_stream_bytes",
    "stream_bytes",
    # The health report's timings and figures of the moment.
    "duration_s",
    "free_bytes",
    "size_bytes",
    "last_commit_age_s",
    "last_success_at",
    "last_success_age_s",
)


def VOLATILE(prop: PropertyName, path: PropertyPath) -> bool:  # noqa: N802
    """Leave out what changes from run to run, the health components' entry ids too."""
    in_component = any(name == "components" for name, _ in path)
    return bool(_VOLATILE_KEYS(prop=prop, path=path)) or (
        prop == "entry" and in_component
    )


async def _diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, loaded: MockConfigEntry
) -> dict[str, Any]:
    store = loaded.runtime_data.store
    assert await hass.async_add_executor_job(store.flush, 10)
    return await get_diagnostics_for_config_entry(hass, hass_client, loaded)


@pytest.fixture(params=["loaded_v2", "loaded_v1"], ids=["v2", "v1"])
def hue_entry(request: pytest.FixtureRequest) -> MockConfigEntry:
    """Return a loaded Hue entry of each API version."""
    entry: MockConfigEntry = request.getfixturevalue(request.param)
    return entry


async def test_hue_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hue_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    entry = hue_entry
    diagnostics = await _diagnostics(hass, hass_client, entry)
    assert diagnostics == snapshot(exclude=VOLATILE)
    text = json.dumps(diagnostics)
    assert entry.data["api_key"] not in text
    assert str(entry.unique_id) not in text.lower()
    # v1 device keys hold the sensors' Zigbee addresses, their serial numbers.
    serials = [
        device.serial_number for device in entry.runtime_data.coordinator.data.values()
    ]
    assert serials
    assert all(serial and serial not in text for serial in serials)


async def test_amazon_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: AlexaSimulator,
    amazon_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    coordinator = await amazon.setup_entry(hass, amazon_entry)
    diagnostics = await _diagnostics(hass, hass_client, amazon_entry)
    assert diagnostics == snapshot(exclude=VOLATILE)

    text = json.dumps(diagnostics)
    account = simulator.state.account
    login_data = amazon_entry.data["login_data"]
    personal = [
        account.email,
        account.user_id,
        login_data["device_info"]["device_serial_number"],
        *(device.serial_number for device in coordinator.data.values()),
    ]
    assert all(value and value not in text for value in personal)
    # The devices stay apart, under numbered placeholders.
    assert len(diagnostics["coordinator"]["devices"]) == len(coordinator.data) == 2
    # The health report: the store's component and this entry's two.
    health = diagnostics["health"]
    assert health["status"] == "ok"
    assert sorted(c["component"] for c in health["components"]) == [
        "amazon",
        "configuration",
        "store",
    ]
