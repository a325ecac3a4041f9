"""Fixtures: a running Amazon simulator, sign-ins to it, and a config entry using it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import CONF_SOURCE, DOMAIN, SOURCE_AMAZON
from custom_components.home_monitor.models import Metric, Reading
from custom_components.home_monitor.retry import BackoffPolicy
from custom_components.home_monitor.sources import amazon as amazon_source
from custom_components.home_monitor.sources.amazon.auth import (
    AmazonCredentials,
    AmazonSignIn,
    stored_login_data,
)
from custom_components.home_monitor.sources.amazon.client import (
    SIMULATOR_ENV,
    AmazonClient,
    AmazonHttp,
    simulator_session,
)
from custom_components.home_monitor.sources.amazon.coordinator import (
    AmazonCoordinator,
    async_discover,
    async_read_states,
)
from custom_components.home_monitor.sources.amazon.parsing import (
    MonitorInfo,
    PollResult,
    device_key,
)
from custom_components.home_monitor.store import HistoryStore
from tests.simulators.alexa import AlexaSimulator
from tests.simulators.alexa_tls import server_ssl_context

# Retries without waiting (also under a frozen clock); rate limits keep their
# real delays, which Home Assistant schedules.
FAST_POLICY = BackoffPolicy(
    attempts=3,
    base_delay=0.0,
    max_delay=0.0,
    jitter=0.0,
    rate_limit_base=600.0,
    rate_limit_max=3600.0,
)


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


class Account:
    """An account's monitors read through a client, without Home Assistant."""

    def __init__(self, client: AmazonClient) -> None:
        """Read through `client`."""
        self.client = client
        self.monitors: list[MonitorInfo] = []
        self.features_missing: str | None = None

    async def async_discover(self) -> list[MonitorInfo]:
        """Find the monitors (what the coordinator does once a day)."""
        self.monitors, self.features_missing = await async_discover(self.client)
        return self.monitors

    async def async_poll(self) -> PollResult:
        """Read the monitors' states (what the coordinator does every poll)."""
        return await async_read_states(self.client, self.monitors, dt_util.utcnow())


def coordinator_for(hass: HomeAssistant, client: AmazonClient) -> AmazonCoordinator:
    """Return a coordinator of `client`'s account (not set up, no history store)."""
    entry = MockConfigEntry(domain=DOMAIN, title="sim", data={})
    entry.add_to_hass(hass)
    return AmazonCoordinator(hass, entry, None, client)  # type: ignore[arg-type]


def http_for(simulator: AlexaSimulator) -> AmazonHttp:
    """Return a private session that reaches the simulator."""
    return AmazonHttp(
        simulator_session("127.0.0.1", simulator.port), owns_connector=True
    )


async def sign_in(
    simulator: AlexaSimulator,
    tmp_path: Path,
    password: str | None = None,
    code: str | None = None,
) -> AmazonCredentials:
    """Sign in to the simulator through aioamazondevices."""
    account = simulator.state.account
    http = http_for(simulator)
    try:
        return await AmazonSignIn(
            http,
            account.email,
            account.password if password is None else password,
            account.otp if code is None else code,
        ).async_login(tmp_path)
    finally:
        await http.async_release()


@pytest.fixture
def credentials(simulator: AlexaSimulator) -> AmazonCredentials:
    """Return stored login data for the simulated account (no sign-in pages)."""
    return AmazonCredentials(stored_login_data(simulator.login_data()))


@pytest.fixture
async def client(
    simulator: AlexaSimulator, credentials: AmazonCredentials
) -> AsyncIterator[AmazonClient]:
    """Return a client of the simulated account, with a short request timeout."""
    amazon = AmazonClient(http_for(simulator), credentials, timeout=0.5)
    yield amazon
    await amazon.async_close()


@pytest.fixture
def amazon_env(simulator: AlexaSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the integration at the simulator, with short timeouts and retries."""
    monkeypatch.setenv(SIMULATOR_ENV, simulator.target)
    monkeypatch.setattr(amazon_source, "REQUEST_TIMEOUT", 0.5)
    monkeypatch.setattr(AmazonCoordinator, "policy", FAST_POLICY)


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    simulator: AlexaSimulator,
    credentials: AmazonCredentials,
    amazon_env: None,
) -> AsyncIterator[MockConfigEntry]:
    """Return an Amazon entry (added to HA, not set up) for the simulated account."""
    email = simulator.state.account.email
    config_entry = MockConfigEntry(
        domain=DOMAIN,
        title=email,
        unique_id=credentials.customer_id,
        data={
            CONF_SOURCE: SOURCE_AMAZON,
            CONF_USERNAME: email,
            amazon_source.CONF_LOGIN_DATA: dict(credentials.login_data),
        },
    )
    config_entry.add_to_hass(hass)
    yield config_entry
    if config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> AmazonCoordinator:
    """Set the entry up and return its coordinator."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, AmazonCoordinator)
    return coordinator


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[Reading]:
    """Record every reading handed to the history store."""
    seen: list[Reading] = []
    original = HistoryStore.enqueue

    def spy(self: HistoryStore, readings: object) -> None:
        batch = list(readings)  # type: ignore[call-overload]
        seen.extend(batch)
        original(self, batch)

    monkeypatch.setattr(HistoryStore, "enqueue", spy)
    return seen


def entity_id(
    hass: HomeAssistant, simulator: AlexaSimulator, serial: str, metric: Metric
) -> str:
    """Return the entity id of a monitor's metric."""
    platform = "binary_sensor" if metric is Metric.CONNECTIVITY else "sensor"
    key = device_key(simulator.state.account.user_id, serial)
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{key}_{metric}")
    assert found is not None, (serial, metric)
    return found
