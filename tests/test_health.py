"""The health model and the `home_monitor.health_check` action, against both simulators."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import threading
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.home_monitor import health_checks
from custom_components.home_monitor.const import DOMAIN
from custom_components.home_monitor.health import (
    CHECK_BUDGET,
    HealthStatus,
    async_health_report,
)
from tests.amazon import conftest as amazon
from tests.simulators.alexa import AlexaSimulator

# The Amazon simulator's fixtures (they live beside the Amazon tests).
_tls_context = amazon._tls_context
simulator = amazon.simulator
credentials = amazon.credentials
amazon_env = amazon.amazon_env
amazon_entry = amazon.entry


async def health_check(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Call the action and return its response."""
    response = await hass.services.async_call(
        DOMAIN, "health_check", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


def component(
    response: dict[str, Any], name: str, entry: str | None = None
) -> dict[str, Any]:
    """Return one component of a response."""
    found = [
        c
        for c in response["components"]
        if c["component"] == name and c["entry"] == entry
    ]
    assert len(found) == 1, (name, entry, response["components"])
    return found[0]


async def test_healthy_system_with_both_sources(
    hass: HomeAssistant,
    loaded_v2: MockConfigEntry,
    simulator: AlexaSimulator,
    amazon_entry: MockConfigEntry,
) -> None:
    await amazon.setup_entry(hass, amazon_entry)
    response = await health_check(hass)

    assert response["status"] == "ok", response
    assert response["exit_code"] == 0
    assert 0 <= response["duration_s"] < 2
    assert sorted(
        (c["component"], c["entry"]) for c in response["components"]
    ) == sorted(
        [
            ("store", None),
            ("configuration", loaded_v2.entry_id),
            ("hue", loaded_v2.entry_id),
            ("configuration", amazon_entry.entry_id),
            ("amazon", amazon_entry.entry_id),
        ]
    )
    for item in response["components"]:
        assert set(item) == {
            "component", "entry", "status", "message", "remediation", "figures"
        }  # fmt: skip
        assert item["status"] == "ok", item
        assert item["remediation"] is None
    store = component(response, "store")
    assert store["message"] == "The history file is open, takes writes and has room"
    assert store["figures"]["writable"] is True
    assert store["figures"]["wal"] is True
    assert store["figures"]["quick_check"] == "ok"
    assert store["figures"]["free_bytes"] > 0
    hue = component(response, "hue", loaded_v2.entry_id)
    assert hue["figures"]["stream_connected"] is True
    assert hue["figures"]["consecutive_failures"] == 0
    amazon_component = component(response, "amazon", amazon_entry.entry_id)
    assert amazon_component["figures"]["monitors_known"] == 2
    assert amazon_component["figures"]["monitors_reporting"] == 2

    # One entry's components only.
    only = await health_check(hass, entry_id=loaded_v2.entry_id)
    assert {c["entry"] for c in only["components"]} == {loaded_v2.entry_id}
    with pytest.raises(ServiceValidationError) as err:
        await health_check(hass, entry_id="nope")
    assert err.value.translation_key == "unknown_entry"


async def test_a_hanging_check_is_critical_by_the_budget(
    hass: HomeAssistant, loaded_v2: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The free-space probe hangs; the report still answers at the budget."""
    release = threading.Event()

    def hang(folder: object) -> None:
        release.wait(30)

    monkeypatch.setattr(health_checks, "free_bytes", hang)
    task = hass.async_create_task(async_health_report(hass))
    await asyncio.sleep(0.1)
    assert not task.done()
    # The budget's timer fires (the loop's clock is advanced, nobody sleeps 15 s).
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=CHECK_BUDGET))
    report = await asyncio.wait_for(task, 5)
    release.set()

    assert report.status is HealthStatus.CRITICAL
    assert report.exit_code == 2
    store = report.component("store")
    assert store is not None
    assert store.status is HealthStatus.CRITICAL
    assert store.message == "The check timed out after 15 s"
    # The other checks were not held up.
    hue = report.component("hue", loaded_v2.entry_id)
    assert hue is not None
    assert hue.status is HealthStatus.OK
