"""Repair issues of the health model: grace periods, clearing, and the fix flows."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.home_monitor.const import DOMAIN
from custom_components.home_monitor.repairs import async_create_fix_flow
from custom_components.home_monitor.retry import BackoffPolicy
from custom_components.home_monitor.sources.hue.coordinator import HueCoordinator
from tests.hue.fixtures import wait_for
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.contents import stored_events

HEALTH = "sensor.hue_bridge_health"


@pytest.fixture
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry without waiting: with the clock frozen, a wait would never end."""
    policy = BackoffPolicy(attempts=3, base_delay=0, max_delay=0, jitter=0)
    monkeypatch.setattr(HueCoordinator, "policy", policy)


def hue_issues(hass: HomeAssistant) -> list[str]:
    return sorted(
        key
        for domain, key in ir.async_get(hass).issues
        if domain == DOMAIN and key.startswith("hue_")
    )


def health(hass: HomeAssistant) -> str:
    state = hass.states.get(HEALTH)
    assert state is not None
    return state.state


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float
) -> None:
    """Let time pass: polls and the health checks run as their timers come due."""
    step = timedelta(minutes=1)
    for _ in range(round(minutes)):
        freezer.tick(step)
        async_fire_time_changed(hass, dt_util.utcnow())
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_bridge_unreachable_repair_after_the_grace_period_then_cleared(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
    no_waits: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A polled bridge, so only Home Assistant's timers run (time is frozen)."""
    entry = loaded_v1
    assert health(hass) == "ok"
    await bridge.go_down()
    await advance(hass, freezer, 2)
    assert health(hass) == "degraded"
    assert hass.states.get(HEALTH).attributes["problems"] == ["hue_unreachable"]  # type: ignore[union-attr]
    assert hue_issues(hass) == []

    # Within the grace period: no repair.
    await advance(hass, freezer, 26)
    assert health(hass) == "degraded"
    assert hue_issues(hass) == []
    # Past 30 minutes: the repair, with the reason.
    await advance(hass, freezer, 4)
    key = f"hue_unreachable_{entry.entry_id}"
    assert hue_issues(hass) == [key]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, key)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["name"] == entry.title
    assert "connection refused" in issue.translation_placeholders["reason"]

    # The bridge is back: health and repair clear by themselves.
    await bridge.come_up()
    await advance(hass, freezer, 2)
    assert health(hass) == "ok"
    assert hue_issues(hass) == []
    # Every change of status is in the store's events table.
    store = entry.runtime_data.store
    assert await hass.async_add_executor_job(store.flush, 10)
    changes = [
        (detail["from"], detail["to"])
        for kind, source, detail in stored_events(store)
        if kind == "health" and source == "hue"
    ]
    assert changes == [("ok", "degraded"), ("degraded", "ok")]


async def test_a_blip_raises_no_repair(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v1: MockConfigEntry,
    no_waits: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    await bridge.go_down()
    await advance(hass, freezer, 5)
    assert health(hass) == "degraded"
    await bridge.come_up()
    await advance(hass, freezer, 2)
    assert health(hass) == "ok"
    # The outage starts again: so does its grace period.
    await bridge.go_down()
    await advance(hass, freezer, 26)
    assert health(hass) == "degraded"
    assert hue_issues(hass) == []


async def test_revoked_key_repair_starts_relinking(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    app_key: str,
    loaded_v2: MockConfigEntry,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    bridge.revoke_app_key(app_key)
    await wait_for(
        hass, lambda: bool(hass.config_entries.flow.async_progress()), within=10
    )
    key = f"hue_key_rejected_{loaded_v2.entry_id}"
    await wait_for(hass, lambda: key in hue_issues(hass))
    issue = ir.async_get(hass).async_get_issue(DOMAIN, key)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.ERROR
    assert hass.states.get(HEALTH).state in ("critical", STATE_UNAVAILABLE)  # type: ignore[union-attr]

    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": key})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {"name": loaded_v2.title}
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # It continues into the entry's reauth flow: pairing with the link button.
    reauth = [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"].get("source") == "reauth"
    ]
    assert len(reauth) == 1
    assert result["next_flow"] == ("config_flow", reauth[0]["flow_id"])

    # Re-linked: the key works again, the repair goes.
    bridge.link_button = True
    done = await hass.config_entries.flow.async_configure(reauth[0]["flow_id"], {})
    await hass.async_block_till_done()
    assert done["type"] is FlowResultType.ABORT
    assert done["reason"] == "reauth_successful"
    await wait_for(hass, lambda: key not in hue_issues(hass), within=10)


async def test_other_issues_get_a_plain_confirmation(hass: HomeAssistant) -> None:
    flow = await async_create_fix_flow(hass, "store_moved_aside", None)
    assert type(flow).__name__ == "ConfirmRepairFlow"
