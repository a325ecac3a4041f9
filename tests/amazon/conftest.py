"""Fixtures: a running Amazon simulator and clients signed in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from custom_components.home_monitor.sources.amazon.client import AmazonClient
from custom_components.home_monitor.sources.amazon.credentials import AmazonCredentials
from custom_components.home_monitor.sources.amazon.login import AmazonSignIn
from custom_components.home_monitor.sources.amazon.transport import (
    AmazonHttp,
    simulator_session,
)
from tests.simulators.alexa import AlexaSimulator
from tests.simulators.alexa_tls import server_ssl_context


@pytest.fixture(scope="session", autouse=True)
def _tls_context() -> None:
    """Build the simulator's certificate once, outside any event loop."""
    server_ssl_context()


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[AlexaSimulator]:
    """Return a running simulator with two monitors (one in °F) and an Echo."""
    sim = AlexaSimulator(stall=5.0)
    sim.add_monitor("Living room")
    sim.add_monitor("Bedroom", fahrenheit=True)
    sim.add_echo()
    await sim.start()
    yield sim
    await sim.close()


def http_for(simulator: AlexaSimulator) -> AmazonHttp:
    """Return a private session that reaches the simulator."""
    return AmazonHttp(
        simulator_session("127.0.0.1", simulator.port), owns_connector=True
    )


async def sign_in(simulator: AlexaSimulator, tmp_path: Path) -> AmazonCredentials:
    """Sign in to the simulator through aioamazondevices."""
    account = simulator.state.account
    http = http_for(simulator)
    try:
        return await AmazonSignIn(
            http, account.email, account.password, account.otp
        ).async_login(tmp_path)
    finally:
        await http.async_release()


@pytest.fixture
async def credentials(simulator: AlexaSimulator, tmp_path: Path) -> AmazonCredentials:
    """Return the login data of a sign-in to the simulator."""
    return await sign_in(simulator, tmp_path)


@pytest.fixture
async def client(
    simulator: AlexaSimulator, credentials: AmazonCredentials
) -> AsyncIterator[AmazonClient]:
    """Return a client of the simulated account, with a short request timeout."""
    amazon = AmazonClient(http_for(simulator), credentials, timeout=0.5)
    yield amazon
    await amazon.async_close()
