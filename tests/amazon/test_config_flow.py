"""Adding, reauthenticating and reconfiguring an Amazon account; its options."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import (
    CONF_POLL_INTERVAL,
    CONF_SOURCE,
    DOMAIN,
    SOURCE_AMAZON,
)
from custom_components.home_monitor.sources.amazon import CONF_CODE, CONF_LOGIN_DATA
from custom_components.home_monitor.sources.amazon.client import SIMULATOR_ENV
from tests.simulators.alexa import AlexaSimulator, Fault, Target

from .conftest import setup_entry


@pytest.fixture(autouse=True)
async def _unload_entries(hass: HomeAssistant, amazon_env: None) -> AsyncIterator[None]:
    """Unload entries a flow created, so their sessions close."""
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def login(simulator: AlexaSimulator, **changes: str) -> dict[str, Any]:
    account = simulator.state.account
    return {
        CONF_USERNAME: account.email,
        CONF_PASSWORD: account.password,
        CONF_CODE: account.otp,
    } | changes


async def start(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_AMAZON}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "amazon"
    return dict(result)


async def test_good_login_creates_the_entry_without_password_or_code(
    hass: HomeAssistant, simulator: AlexaSimulator
) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator, **{CONF_CODE: " 246 810 "})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    account = simulator.state.account
    entry = result["result"]
    assert entry.unique_id == account.user_id
    assert entry.title == account.email
    assert set(entry.data) == {CONF_SOURCE, CONF_USERNAME, CONF_LOGIN_DATA}
    assert entry.data[CONF_SOURCE] == SOURCE_AMAZON
    stored = repr(entry.data)
    assert account.password not in stored
    assert account.otp not in stored
    login_data = entry.data[CONF_LOGIN_DATA]
    assert "access_token" not in login_data
    assert "device_private_key" not in login_data
    assert "adp_token" not in login_data
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert len(entry.runtime_data.coordinator.data) == 2


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({CONF_PASSWORD: "wrong password"}, "invalid_auth"),
        ({CONF_CODE: "135791"}, "invalid_auth"),
    ],
    ids=["wrong_password", "incorrect_code"],
)
async def test_rejected_login_shows_an_error_then_succeeds(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    changes: dict[str, str],
    error: str,
) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_missing_code_is_asked_for_before_contacting_amazon(
    hass: HomeAssistant, simulator: AlexaSimulator
) -> None:
    result = await start(hass)
    without_code = login(simulator)
    del without_code[CONF_CODE]
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(result["flow_id"], without_code)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator, **{CONF_CODE: "   "})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CODE: "code_required"}
    assert simulator.requests == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.HTML_PAGE, "unknown"),
        (Fault.WRONG_SHAPE, "unknown"),
        (Fault.UNAUTHORIZED, "invalid_auth"),
        (Fault.PROXY_AUTH, "invalid_auth"),
    ],
)
async def test_failed_registration_shows_an_error(
    hass: HomeAssistant, simulator: AlexaSimulator, fault: Fault, error: str
) -> None:
    simulator.inject(fault, target=Target.REGISTER)
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


async def test_unreachable_amazon_shows_cannot_connect(
    hass: HomeAssistant, simulator: AlexaSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIMULATOR_ENV, "127.0.0.1:1")
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator)
    )
    assert result["errors"] == {"base": "amazon_cannot_connect"}


@pytest.mark.parametrize("new_email", [False, True], ids=["same_email", "new_email"])
async def test_duplicate_account_is_refused(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    entry: MockConfigEntry,
    new_email: bool,
) -> None:
    if new_email:
        # The same account, signed in to with its new address: found by customer id.
        simulator.state.account.email = "renamed@example.com"
    logins = simulator.state.logins
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert simulator.state.logins == logins + int(new_email)


async def test_reauth_signs_in_again(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    await setup_entry(hass, entry)
    old_login = entry.data[CONF_LOGIN_DATA]
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "amazon_reauth_confirm"
    assert result["description_placeholders"]["email"] == entry.data[CONF_USERNAME]
    account = simulator.state.account
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: account.password, CONF_CODE: "000000"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: account.password, CONF_CODE: account.otp}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_LOGIN_DATA] != old_login
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_with_another_account_is_refused(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    simulator.state.account.user_id = "amzn1.account.SOMEBODYELSE"
    result = await entry.start_reauth_flow(hass)
    account = simulator.state.account
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: account.password, CONF_CODE: account.otp}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


async def test_reconfigure_takes_a_new_email(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    await setup_entry(hass, entry)
    simulator.state.account.email = "new.address@example.com"
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "amazon_reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator, **{CONF_PASSWORD: "nope"})
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], login(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_USERNAME] == "new.address@example.com"
    assert entry.state is ConfigEntryState.LOADED


async def test_poll_interval_option_warns_below_120_seconds(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    await setup_entry(hass, entry)
    assert entry.runtime_data.coordinator.update_interval.total_seconds() == 300
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"].schema
    default = next(k for k in schema if k == CONF_POLL_INTERVAL).default()
    assert default == 300
    history = {"size_budget_mb": 1000}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_POLL_INTERVAL: 60, "history": history}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "amazon_poll_interval_short"}
    # Submitting the same value again keeps it.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_POLL_INTERVAL: 60, "history": history}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_POLL_INTERVAL] == 60
    assert entry.runtime_data.coordinator.update_interval.total_seconds() == 60


async def test_poll_interval_option_accepts_safe_values_at_once(
    hass: HomeAssistant, simulator: AlexaSimulator, entry: MockConfigEntry
) -> None:
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_POLL_INTERVAL: 600, "history": {"size_budget_mb": 1000}},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
