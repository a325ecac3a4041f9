"""The lean client and the account model against the simulator (no Home Assistant)."""

from __future__ import annotations

from aiohttp import ClientResponseError
from homeassistant.core import HomeAssistant
import pytest

from custom_components.home_monitor.models import Metric
from custom_components.home_monitor.retry import FailureKind
from custom_components.home_monitor.sources.amazon import (
    AmazonAuthError,
    AmazonResponseError,
    classify,
)
from custom_components.home_monitor.sources.amazon.auth import AmazonCredentials
from custom_components.home_monitor.sources.amazon.client import (
    FEATURES_OPERATION,
    STATE_OPERATION,
    AmazonClient,
    state_request,
)
from tests.simulators.alexa import AlexaSimulator, Fault, Target

from .conftest import Account, coordinator_for, http_for

SWAPPED = {
    "4": ("pm25", "Particulate matter"),
    "6": ("humidity", "Indoor humidity"),
    "5": ("voc_index", "Volatile organic compounds"),
    "7": ("pm10", "Particulate matter PM10"),
    "8": ("co", "Carbon monoxide"),
    "12": ("air_quality", "Alexa.AirQuality.IndoorAirQuality"),
}


async def test_discovery_finds_only_monitors(
    client: AmazonClient, simulator: AlexaSimulator
) -> None:
    account = Account(client)
    monitors = await account.async_discover()
    assert [m.serial for m in monitors] == [m.serial for m in simulator.state.monitors]
    assert monitors[0].name == "Living room"
    assert monitors[0].labels["9"] is Metric.AIR_QUALITY
    assert Metric.TEMPERATURE in monitors[0].metrics


async def test_one_batched_request_reads_every_monitor(
    client: AmazonClient, simulator: AlexaSimulator
) -> None:
    for _ in range(4):
        simulator.add_monitor()
    account = Account(client)
    await account.async_discover()
    simulator.reset_counts()
    before = client.traffic["requests"]
    result = await account.async_poll()
    assert simulator.count(STATE_OPERATION) == 1
    assert len(simulator.requests) == 1
    assert client.traffic["requests"] == before + 1
    assert len(result.devices) == 6
    assert len(result.readings) == 6 * 8
    assert result.problems == {}


async def test_labels_win_over_instance_numbers(
    client: AmazonClient, simulator: AlexaSimulator
) -> None:
    monitor = simulator.add_monitor("Swapped", ranges=SWAPPED)
    account = Account(client)
    await account.async_discover()
    result = await account.async_poll()
    key = next(k for k in result.devices if k.endswith(monitor.serial))
    values = result.devices[key].values
    expected = monitor.values(simulator.state.sample)
    for metric in (Metric.PM25, Metric.HUMIDITY, Metric.AIR_QUALITY):
        assert values[metric] == expected[metric]


async def test_without_features_instances_still_map(
    hass: HomeAssistant,
    client: AmazonClient,
    simulator: AlexaSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulator.inject(Fault.WRONG_SHAPE, target=Target.FEATURES, times=2)
    account = coordinator_for(hass, client)
    monitors = await account.async_discover()
    assert not account.discovery_due()
    await account.async_discover()
    assert account.features_unavailable
    assert monitors[0].labels == {}
    assert caplog.text.count("did not list the monitors' features") == 1
    result = await account.async_read_states()
    key = next(iter(result.devices))
    assert (
        result.devices[key].values[Metric.PM10]
        == simulator.state.monitors[0].values(0)["pm10"]
    )
    simulator.reset_counts()
    await account.async_discover()
    assert not account.features_unavailable
    assert simulator.count(FEATURES_OPERATION) == 1


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.UNAUTHORIZED, FailureKind.AUTH),
        (Fault.FORBIDDEN, FailureKind.AUTH),
        (Fault.PROXY_AUTH, FailureKind.AUTH),
        (Fault.SIGNIN_REDIRECT, FailureKind.AUTH),
        (Fault.TOO_MANY_REQUESTS, FailureKind.RATE_LIMITED),
        (Fault.GRAPHQL_THROTTLED, FailureKind.RATE_LIMITED),
        (Fault.SERVER_ERROR, FailureKind.TRANSIENT),
        (Fault.SERVICE_UNAVAILABLE, FailureKind.TRANSIENT),
        (Fault.TIMEOUT, FailureKind.TRANSIENT),
        (Fault.BAD_REQUEST, FailureKind.PERMANENT),
        (Fault.MALFORMED_JSON, FailureKind.PERMANENT),
        (Fault.WRONG_SHAPE, FailureKind.PERMANENT),
        (Fault.HTML_PAGE, FailureKind.PERMANENT),
    ],
)
async def test_failures_are_classified(
    client: AmazonClient, simulator: AlexaSimulator, fault: Fault, kind: FailureKind
) -> None:
    account = Account(client)
    await account.async_discover()
    simulator.inject(fault)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any failure, classified
        await account.async_poll()
    assert classify(caught.value).kind is kind
    # The next request is fine again.
    assert (await account.async_poll()).devices


async def test_refresh_replaces_the_session_cookies(
    client: AmazonClient, simulator: AlexaSimulator
) -> None:
    old = client.credentials.cookies
    simulator.expire_session()
    with pytest.raises(ClientResponseError):
        await client.async_graphql(state_request(["x"]))
    credentials = await client.async_refresh_session()
    assert credentials.cookies != old
    assert credentials.customer_id == simulator.state.account.user_id
    assert await client.async_graphql(state_request(["x"]))
    simulator.revoke_refresh_token()
    with pytest.raises(AmazonAuthError):
        await client.async_refresh_session()


@pytest.mark.parametrize(
    "fault", [Fault.MALFORMED_JSON, Fault.WRONG_SHAPE, Fault.HTML_PAGE]
)
async def test_unusable_token_replies(
    client: AmazonClient, simulator: AlexaSimulator, fault: Fault
) -> None:
    simulator.inject(fault, target=Target.TOKEN)
    with pytest.raises(AmazonResponseError):
        await client.async_refresh_session()


async def test_token_endpoint_errors(
    client: AmazonClient, simulator: AlexaSimulator
) -> None:
    simulator.inject(Fault.SERVICE_UNAVAILABLE, target=Target.TOKEN)
    with pytest.raises(ClientResponseError) as caught:
        await client.async_refresh_session()
    assert classify(caught.value).kind is FailureKind.TRANSIENT


async def test_no_refresh_token(simulator: AlexaSimulator) -> None:
    login_data = dict(simulator.login_data())
    del login_data["refresh_token"]
    client = AmazonClient(http_for(simulator), AmazonCredentials(login_data))
    try:
        with pytest.raises(AmazonAuthError):
            await client.async_refresh_session()
    finally:
        await client.async_close()


async def test_other_domains_use_their_alexa_host(simulator: AlexaSimulator) -> None:
    simulator.state.account.domain = "co.uk"
    client = AmazonClient(
        http_for(simulator), AmazonCredentials(simulator.login_data())
    )
    try:
        assert client.credentials.domain == "co.uk"
        assert client.alexa_url.host == "alexa.amazon.co.uk"
        account = Account(client)
        assert len(await account.async_discover()) == 2
        assert simulator.requests[-1].host == "alexa.amazon.co.uk"
    finally:
        await client.async_close()


@pytest.mark.parametrize(
    ("fault", "kind", "reason"),
    [
        (Fault.SIGNIN_PAGE, FailureKind.AUTH, "sign-in page"),
        (Fault.OTHER_REDIRECT, FailureKind.TRANSIENT, "unexpected redirect 302"),
        (Fault.GRAPHQL_ERROR, FailureKind.PERMANENT, "GraphQL error INTERNAL"),
        (Fault.EMPTY_REPLY, FailureKind.PERMANENT, "unexpected reply shape"),
    ],
)
async def test_unusual_replies(
    client: AmazonClient,
    simulator: AlexaSimulator,
    fault: Fault,
    kind: FailureKind,
    reason: str,
) -> None:
    simulator.inject(fault)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any failure, classified
        await client.async_graphql(state_request(["x"]))
    failure = classify(caught.value)
    assert (failure.kind, failure.reason) == (kind, reason)


async def test_graphql_errors_beside_data_are_tolerated(
    client: AmazonClient, simulator: AlexaSimulator
) -> None:
    simulator.inject(Fault.GRAPHQL_PARTIAL)
    reply = await client.async_graphql(state_request(["x"]))
    assert reply["data"]["listEndpoints"]["endpoints"] == []


async def test_token_reply_without_cookies(
    client: AmazonClient, simulator: AlexaSimulator
) -> None:
    simulator.inject(Fault.EMPTY_REPLY, target=Target.TOKEN)
    with pytest.raises(AmazonResponseError, match="without cookies"):
        await client.async_refresh_session()


def test_unknown_errors_are_permanent() -> None:
    failure = classify(RuntimeError("boom"))
    assert (failure.kind, failure.reason) == (FailureKind.PERMANENT, "RuntimeError")


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_replies_are_refused(
    client: AmazonClient,
    simulator: AlexaSimulator,
    monkeypatch: pytest.MonkeyPatch,
    chunked: bool,
) -> None:
    from custom_components.home_monitor.sources.amazon import client as client_module

    monkeypatch.setattr(client_module, "MAX_REPLY_BYTES", 1000)
    simulator.add_monitor()
    simulator.state.chunked_replies = chunked
    account = Account(client)
    with pytest.raises(AmazonResponseError, match="too large"):
        await account.async_discover()
