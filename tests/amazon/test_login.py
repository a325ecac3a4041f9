"""Signing in through aioamazondevices against the simulator (no Home Assistant flow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.home_monitor.sources.amazon import AmazonLoginError
from tests.simulators.alexa import AlexaSimulator, Fault, Target

from .conftest import sign_in


async def test_sign_in_keeps_only_what_is_needed(
    simulator: AlexaSimulator, tmp_path: Path
) -> None:
    credentials = await sign_in(simulator, tmp_path)
    data = credentials.login_data
    assert set(data) <= {
        "site",
        "refresh_token",
        "account_customer_id",
        "website_cookies",
        "store_authentication_cookie",
        "device_info",
        "customer_info",
    }
    assert set(data["customer_info"]) == {"user_id", "home_region"}
    assert set(data["device_info"]) == {"device_serial_number"}
    assert credentials.customer_id == simulator.state.account.user_id
    assert credentials.domain == "com"
    assert credentials.cookies["session-token"] in simulator.secrets
    assert simulator.state.logins == 1


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault.BAD_REQUEST, "cannot_retrieve_data"),
        (Fault.FORBIDDEN, "invalid_auth"),
        (Fault.MALFORMED_JSON, "unknown"),
    ],
)
async def test_registration_failures_map_to_flow_errors(
    simulator: AlexaSimulator, tmp_path: Path, fault: Fault, reason: str
) -> None:
    simulator.inject(fault, target=Target.REGISTER)
    with pytest.raises(AmazonLoginError) as caught:
        await sign_in(simulator, tmp_path)
    assert caught.value.reason == reason


async def test_reply_without_customer_id_is_refused(
    simulator: AlexaSimulator, tmp_path: Path
) -> None:
    simulator.state.account.user_id = ""
    with pytest.raises(AmazonLoginError) as caught:
        await sign_in(simulator, tmp_path)
    assert caught.value.reason == "unknown"


async def test_closed_port_is_cannot_connect(
    simulator: AlexaSimulator, tmp_path: Path
) -> None:
    await simulator.close()
    with pytest.raises(AmazonLoginError) as caught:
        await sign_in(simulator, tmp_path)
    assert caught.value.reason == "amazon_cannot_connect"


async def test_an_account_without_a_country_cannot_be_added(
    simulator: AlexaSimulator, tmp_path: Path
) -> None:
    """Since 16.9 the library needs users/me to name the country."""
    simulator.state.account.reports_country = False
    with pytest.raises(AmazonLoginError) as caught:
        await sign_in(simulator, tmp_path)
    assert caught.value.reason == "cannot_retrieve_data"
