"""No password, code, token or cookie reaches the logs, diagnostics or events."""

from __future__ import annotations

import json
import logging

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.home_monitor.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.home_monitor.sources.amazon import CONF_CODE, EVENT_LOGIN_EXPIRED
from custom_components.home_monitor.sources.amazon.coordinator import AmazonCoordinator
from tests.simulators.alexa import AlexaSimulator, Fault, Target

from .test_config_flow import login, start


def leaked(simulator: AlexaSimulator, text: str) -> list[str]:
    return sorted(secret for secret in simulator.secrets if secret in text)


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Return every record as handlers see it, tracebacks included."""
    formatter = logging.Formatter("%(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


async def test_whole_scenario_logs_no_secret_at_debug(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    amazon_env: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    events = async_capture_events(hass, EVENT_LOGIN_EXPIRED)

    # Sign in through the config flow (the library's sign-in pages).
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator, **{CONF_CODE: "111111"})
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, AmazonCoordinator)

    # Polls with faults of every kind.
    serial = simulator.state.monitors[0].serial
    simulator.set_property_error(serial, "8")
    for fault in (
        Fault.TOO_MANY_REQUESTS,
        Fault.GRAPHQL_THROTTLED,
        Fault.SERVICE_UNAVAILABLE,
        Fault.TIMEOUT,
        Fault.MALFORMED_JSON,
        Fault.HTML_PAGE,
    ):
        simulator.inject(fault)
        simulator.advance()
        await coordinator.async_refresh()
    # A rejected session, refreshed (once after a token-endpoint timeout).
    simulator.expire_session(Fault.SIGNIN_REDIRECT)
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    simulator.inject(Fault.TIMEOUT, target=Target.TOKEN)
    simulator.expire_session()
    await coordinator.async_refresh()
    assert coordinator.last_update_success

    # The login expires for good; the user signs in again.
    simulator.expire_session(Fault.FORBIDDEN)
    simulator.revoke_refresh_token()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    flows = list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert flows
    account = simulator.state.account
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_PASSWORD: account.password, CONF_CODE: account.otp}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    simulator.advance()
    await coordinator.async_refresh()
    assert coordinator.last_update_success

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)

    # The scenario really handed out secrets, and really logged at DEBUG.
    assert simulator.state.logins == 2
    assert len(simulator.secrets) > 20
    assert any(
        r.name == "aioamazondevices" and r.levelno == logging.DEBUG
        for r in caplog.records
    )
    assert leaked(simulator, log_text(caplog)) == []
    assert leaked(simulator, caplog.text) == []
    assert leaked(simulator, json.dumps(diagnostics, default=str)) == []
    assert leaked(simulator, repr([event.data for event in events])) == []
    assert len(events) == 1
    # The source's own details name no person, account or device.
    details = json.dumps(coordinator.source_diagnostics())
    account = simulator.state.account
    personal = [account.email, account.user_id, account.customer_id]
    personal += [monitor.serial for monitor in simulator.state.monitors]
    assert [value for value in personal if value in details] == []

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
