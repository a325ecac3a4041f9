"""Expired Amazon logins: one refresh, then reauth, repair issue and event; then recovery."""

from __future__ import annotations

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.home_monitor.const import DOMAIN
from custom_components.home_monitor.models import Metric
from custom_components.home_monitor.sources.amazon import (
    CONF_CODE,
    CONF_LOGIN_DATA,
    EVENT_LOGIN_EXPIRED,
)
from custom_components.home_monitor.sources.amazon.client import STATE_OPERATION
from custom_components.home_monitor.sources.amazon.coordinator import (
    AmazonCoordinator,
    issue_id,
)
from tests.simulators.alexa import AlexaSimulator, Fault, Target

from .conftest import entity_id, setup_entry

TOKEN_PATH = "/auth/token"  # noqa: S105 - a URL path


async def expire_for_good(
    hass: HomeAssistant, simulator: AlexaSimulator, coordinator: AmazonCoordinator
) -> None:
    """Make Amazon refuse the session and the refresh token, then poll."""
    simulator.expire_session()
    simulator.revoke_refresh_token()
    await coordinator.async_refresh()
    await hass.async_block_till_done()


def reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    return [
        flow["flow_id"] for flow in entry.async_get_active_flows(hass, {SOURCE_REAUTH})
    ]


@pytest.mark.parametrize(
    "answer",
    [
        Fault.UNAUTHORIZED,
        Fault.FORBIDDEN,
        Fault.PROXY_AUTH,
        Fault.SIGNIN_REDIRECT,
        Fault.GRAPHQL_UNAUTHENTICATED,
    ],
)
async def test_rejected_session_is_refreshed_once_and_kept(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    answer: Fault,
) -> None:
    coordinator = await setup_entry(hass, entry)
    old_cookies = dict(entry.data[CONF_LOGIN_DATA]["website_cookies"])
    simulator.expire_session(answer)
    simulator.reset_counts()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert [r.operation or r.path for r in simulator.requests] == [
        STATE_OPERATION,
        TOKEN_PATH,
        STATE_OPERATION,
    ]
    # The new cookies are kept for the next start.
    assert entry.data[CONF_LOGIN_DATA]["website_cookies"] != old_cookies
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    assert not reauth_flows(hass, entry)


async def test_an_auth_error_inside_a_graphql_reply_ends_in_reauth(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    """HTTP 200 with an authentication error: refresh the cookies, then reauth."""
    coordinator = await setup_entry(hass, entry)
    simulator.expire_session(Fault.GRAPHQL_UNAUTHENTICATED)
    simulator.revoke_refresh_token()
    simulator.reset_counts()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert simulator.count(TOKEN_PATH) == 1
    assert not coordinator.last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is not None
    assert len(reauth_flows(hass, entry)) == 1


async def test_expired_login_asks_to_sign_in_again_and_recovers(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    events = async_capture_events(hass, EVENT_LOGIN_EXPIRED)
    coordinator = await setup_entry(hass, entry)
    monitor = simulator.state.monitors[0]
    simulator.expire_session()
    simulator.revoke_refresh_token()
    simulator.reset_counts()

    await coordinator.async_refresh()
    await hass.async_block_till_done()

    # One read, one refresh attempt, then it stops asking.
    assert simulator.count(STATE_OPERATION) == 1
    assert simulator.count(TOKEN_PATH) == 1
    assert not coordinator.last_update_success
    state = hass.states.get(entity_id(hass, simulator, monitor.serial, Metric.PM25))
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry))
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == "amazon_login_expired"
    assert len(events) == 1
    assert events[0].data == {
        "entry_id": entry.entry_id,
        "source": "amazon",
        "account": entry.title,
        "reason": "refresh token refused",
    }
    flows = reauth_flows(hass, entry)
    assert len(flows) == 1

    # A second failing poll does not fire the event again.
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert len(events) == 1

    # The user signs in again through the reauth flow.
    account = simulator.state.account
    result = await hass.config_entries.flow.async_configure(
        flows[0], {CONF_PASSWORD: account.password, CONF_CODE: account.otp}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    state = hass.states.get(entity_id(hass, simulator, monitor.serial, Metric.PM25))
    assert state is not None
    assert float(state.state) == monitor.values(simulator.state.sample)["pm25"]


async def test_issue_and_reauth_clear_themselves_after_a_good_poll(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(Fault.UNAUTHORIZED, times=2)
    simulator.inject(Fault.FORBIDDEN, target=Target.TOKEN)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is not None
    assert reauth_flows(hass, entry)

    # Amazon accepts the session again (say, after an outage): the next poll clears both.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    assert not reauth_flows(hass, entry)


async def test_expired_login_at_start_up_starts_reauth(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    simulator.expire_session(Fault.SIGNIN_REDIRECT)
    simulator.revoke_refresh_token()
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert reauth_flows(hass, entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is not None


@pytest.mark.parametrize("closed", [False, True], ids=["open", "dismissed"])
async def test_repair_fix_opens_the_sign_in(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    closed: bool,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    coordinator = await setup_entry(hass, entry)
    await expire_for_good(hass, simulator, coordinator)
    if closed:
        # The user dismissed the reauth prompt; the repair opens it again.
        for flow_id in reauth_flows(hass, entry):
            hass.config_entries.flow.async_abort(flow_id)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id(entry)})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {"account": entry.title}
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    flows = reauth_flows(hass, entry)
    assert len(flows) == 1
    if "next_flow" in result:
        assert result["next_flow"][1] == flows[0]


async def test_token_endpoint_outage_is_not_a_login_problem(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(Fault.UNAUTHORIZED)
    simulator.inject(Fault.SERVICE_UNAVAILABLE, target=Target.TOKEN, times=3)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    assert not reauth_flows(hass, entry)
    await coordinator.async_refresh()
    assert coordinator.last_update_success


@pytest.mark.parametrize(
    ("second", "expired"),
    [(Fault.UNAUTHORIZED, True), (Fault.SERVICE_UNAVAILABLE, False)],
)
async def test_read_after_a_refresh_can_still_fail(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    second: Fault,
    expired: bool,
) -> None:
    coordinator = await setup_entry(hass, entry)
    simulator.inject(Fault.UNAUTHORIZED)
    simulator.inject(second, times=3)
    simulator.reset_counts()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert simulator.count(TOKEN_PATH) == 1
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry))
    assert (issue is not None) is expired
    assert bool(reauth_flows(hass, entry)) is expired


async def test_repair_of_a_removed_entry_aborts(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    coordinator = await setup_entry(hass, entry)
    await expire_for_good(hass, simulator, coordinator)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id(entry)})
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_removed"


async def test_other_repair_issues_get_a_plain_confirmation(
    hass: HomeAssistant,
) -> None:
    from custom_components.home_monitor.repairs import async_create_fix_flow

    flow = await async_create_fix_flow(hass, "something_else", None)
    assert type(flow).__name__ == "ConfirmRepairFlow"


async def test_good_poll_aborts_an_unfinished_reauth(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    coordinator = await setup_entry(hass, entry)
    entry.async_start_reauth(hass)
    await hass.async_block_till_done()
    assert reauth_flows(hass, entry)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not reauth_flows(hass, entry)
