"""The simulator is as strict as Amazon: sign-in steps, cookies, headers, GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.metadata import version
import json
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
import pytest

from custom_components.home_monitor.sources.amazon import (
    AmazonLoginError,
    AmazonResponseError,
)
from custom_components.home_monitor.sources.amazon.auth import AmazonSignIn
from custom_components.home_monitor.sources.amazon.client import (
    AmazonClient,
    simulator_session,
)
from tests.simulators.alexa import AlexaSimulator

from .conftest import Account, http_for, sign_in

LIBRARY = tuple(int(part) for part in version("aioamazondevices").split(".")[:2])
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/140.0"
APP = "AmazonWebView/AmazonAlexa/2.2.663733.0/iOS/18.5/iPhone"
SIGNIN = "https://www.amazon.com/ap/signin"
OAUTH = {
    "openid.return_to": "https://www.amazon.com/ap/maplanding",
    "openid.oa2.client_id": "device:00",
    "openid.oa2.code_challenge": "challenge",
    "openid.oa2.code_challenge_method": "S256",
    "openid.oa2.response_type": "code",
    "openid.oa2.scope": "device_auth_access",
}


@pytest.fixture
async def session(simulator: AlexaSimulator) -> AsyncIterator[ClientSession]:
    """Return a plain session that reaches the simulator."""
    http = simulator_session("127.0.0.1", simulator.port)
    yield http
    await http.close()


def _posts(simulator: AlexaSimulator) -> int:
    return sum(
        1 for r in simulator.requests if (r.method, r.path) == ("POST", "/ap/signin")
    )


async def test_the_library_signs_in_on_the_pages_it_knows(
    simulator: AlexaSimulator, tmp_path: Path
) -> None:
    """16.10 and later post e-mail, password and code on three pages; older two."""
    credentials = await sign_in(simulator, tmp_path)
    assert credentials.customer_id == simulator.state.account.user_id
    assert _posts(simulator) == (3 if LIBRARY >= (16, 10) else 2)


@pytest.mark.parametrize("field", ["email", "password", "code"])
async def test_a_wrong_entry_is_refused(
    simulator: AlexaSimulator, tmp_path: Path, field: str
) -> None:
    account = simulator.state.account
    http = http_for(simulator)
    sign_in = AmazonSignIn(
        http,
        "someone.else@example.com" if field == "email" else account.email,
        "wrong" if field == "password" else account.password,
        "000000" if field == "code" else account.otp,
    )
    with pytest.raises(AmazonLoginError) as caught:
        await sign_in.async_login(tmp_path)
    await http.async_release()
    assert caught.value.reason == "invalid_auth"
    assert simulator.state.logins == 0


async def _signin_page(session: ClientSession) -> dict[str, str]:
    async with session.get(
        SIGNIN, params=OAUTH, headers={"User-Agent": BROWSER}
    ) as response:
        page = await response.text()
    fields = {}
    for name in ("appActionToken", "workflowState"):
        start = page.index(f'name="{name}" value="') + len(name) + 15
        fields[name] = page[start : page.index('"', start)]
    return fields


async def _post(session: ClientSession, form: dict[str, str]) -> str:
    async with session.post(
        SIGNIN, data=form, headers={"User-Agent": BROWSER}, allow_redirects=False
    ) as response:
        return await response.text()


async def test_steps_out_of_order_start_over(
    simulator: AlexaSimulator, session: ClientSession
) -> None:
    hidden = await _signin_page(session)
    page = await _post(session, {**hidden, "otpCode": simulator.state.account.otp})
    assert "auth-warning-message-box" in page
    assert "session has expired" in page
    # The sign-in is gone: the right e-mail does not revive it.
    page = await _post(session, {**hidden, "email": simulator.state.account.email})
    assert 'name="password"' not in page


async def test_a_sign_in_without_its_cookie_is_refused(
    simulator: AlexaSimulator, session: ClientSession
) -> None:
    hidden = await _signin_page(session)
    session.cookie_jar.clear()
    page = await _post(session, {**hidden, "email": simulator.state.account.email})
    assert "enable cookies" in page
    assert 'name="password"' not in page


async def test_the_sign_in_needs_the_oauth_request(session: ClientSession) -> None:
    async with session.get(SIGNIN, headers={"User-Agent": BROWSER}) as response:
        assert response.status == 400


async def test_users_me_names_the_country(
    simulator: AlexaSimulator, client: AmazonClient, session: ClientSession
) -> None:
    url = client.alexa_url.joinpath("api/users/me")
    session.cookie_jar.update_cookies(client.credentials.cookies, client.alexa_url)
    async with session.get(url, headers={"User-Agent": BROWSER}) as response:
        assert (await response.json())["countryOfResidence"] == "US"


@pytest.mark.parametrize(("domain", "suffix"), [("de", "acbde"), ("co.uk", "acbuk")])
async def test_each_site_has_its_own_cookie_names(
    simulator: AlexaSimulator, tmp_path: Path, domain: str, suffix: str
) -> None:
    simulator.state.account.domain = domain
    credentials = await sign_in(simulator, tmp_path)
    assert credentials.domain == domain
    assert {f"at-{suffix}", f"ubid-{suffix}", f"x-{suffix}"} <= set(credentials.cookies)
    assert "at-main" not in credentials.cookies
    client = AmazonClient(http_for(simulator), credentials)
    try:
        assert len(await Account(client).async_discover()) == 2
    finally:
        await client.async_close()


async def _graphql(
    session: ClientSession,
    client: AmazonClient,
    body: Any,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> tuple[int, Any]:
    url = client.alexa_url.joinpath("nexus/v1/graphql")
    session.cookie_jar.clear()
    session.cookie_jar.update_cookies(
        client.credentials.cookies if cookies is None else cookies, client.alexa_url
    )
    sent = {"User-Agent": APP} if headers is None else headers
    async with session.post(url, json=body, headers=sent) as response:
        text = await response.text()
        return response.status, json.loads(text) if text.startswith(
            ("{", "[")
        ) else text


LIST = "query q { listEndpoints(listEndpointsInput: {includeHouseholdDevices: true}) "


@pytest.mark.parametrize(
    ("query", "classification", "message"),
    [
        (LIST + "{ endpoints { endpointId: id } } }", None, None),
        (LIST + "{ endpoints { colour } } }", "ValidationError", "colour"),
        (LIST + "{ endpoints { id }", "InvalidSyntax", "Invalid Syntax"),
        (
            (
                "query q { listEndpoints(listEndpointsInput: "
                '{includeHouseholdDevices: "yes"}) { endpoints { id } } }'
            ),
            "ValidationError",
            "Boolean",
        ),
        (
            (
                "query q { listEndpoints(listEndpointsInput: {latencyTolerance: FAST})"
                " { endpoints { id } } }"
            ),
            "ValidationError",
            "LatencyTolerance",
        ),
        ("query q { listEndpoints { endpoints { id } } }", "ValidationError", None),
    ],
)
async def test_graphql_is_parsed_and_validated(
    client: AmazonClient,
    session: ClientSession,
    query: str,
    classification: str | None,
    message: str | None,
) -> None:
    status, reply = await _graphql(session, client, {"query": query})
    assert status == 200
    if classification is None:
        assert "errors" not in reply
        assert len(reply["data"]["listEndpoints"]["endpoints"]) == 3
        return
    assert "data" not in reply
    assert reply["errors"][0]["extensions"]["classification"] == classification
    assert message is None or message in reply["errors"][0]["message"]


async def test_variables_of_the_wrong_type_are_refused(
    client: AmazonClient, session: ClientSession
) -> None:
    query = (
        "query q($ids: [String]!) { listEndpoints(listEndpointsInput: "
        "{endpointIds: $ids}) { endpoints { id } } }"
    )
    _, reply = await _graphql(session, client, {"query": query, "variables": {}})
    assert "$ids" in reply["errors"][0]["message"]
    _, reply = await _graphql(
        session, client, {"query": query, "variables": {"ids": [{"a": 1}]}}
    )
    assert "data" not in reply


async def test_the_project_gets_amazons_errors_as_bad_replies(
    client: AmazonClient,
) -> None:
    with pytest.raises(AmazonResponseError, match="GraphQL error"):
        await client.async_graphql({"query": LIST + "{ endpoints { colour } } }"})


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"User-Agent": "Python/3.14 aiohttp/3.14.5"}, 403),
        # The GraphQL endpoint answers only the Alexa app.
        ({"User-Agent": BROWSER}, 403),
        ({"User-Agent": APP, "csrf": "made-up"}, 401),
    ],
)
async def test_requests_must_say_who_they_are(
    client: AmazonClient,
    session: ClientSession,
    headers: dict[str, str],
    status: int,
) -> None:
    cookies = {**client.credentials.cookies, "csrf": "issued"}
    if "csrf" not in headers:
        cookies.pop("csrf")
    body = {"query": LIST + "{ endpoints { id } } }"}
    got, _ = await _graphql(session, client, body, headers, cookies)
    assert got == status


@pytest.mark.parametrize("missing", ["at-main", "ubid-main", "session-token"])
async def test_requests_without_a_session_cookie_are_refused(
    client: AmazonClient, session: ClientSession, missing: str
) -> None:
    cookies = dict(client.credentials.cookies)
    del cookies[missing]
    body = {"query": LIST + "{ endpoints { id } } }"}
    status, _ = await _graphql(session, client, body, cookies=cookies)
    assert status == 401
