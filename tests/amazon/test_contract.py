"""Contract: the project asks Amazon for monitor states the way aioamazondevices does.

Both read the same account from the simulator, which records every request;
the project's state poll and the library's must agree on method, URL, header
names, the values of the headers that identify the client, and cookie names.
The second test shows the comparison catches any one header or cookie the
library sends going missing from the project's requests.
"""

from __future__ import annotations

import contextlib
from copy import deepcopy
import inspect
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aioamazondevices import AmazonEchoApi
from aioamazondevices.const.http import REFRESH_AUTH_COOKIES
from aiohttp import ClientResponseError
import pytest

from custom_components.home_monitor.sources.amazon import AmazonError
from custom_components.home_monitor.sources.amazon.auth import (
    AmazonCredentials,
    stored_login_data,
)
from custom_components.home_monitor.sources.amazon.client import (
    AmazonClient,
    simulator_session,
)
from tests.simulators.alexa import AlexaSimulator
from tests.simulators.alexa_state import RequestRecord, session_cookie_names

from .conftest import Account, http_for

GRAPHQL = "/nexus/v1/graphql"
# Set by the HTTP stack, not by either client (cookies are compared by name).
TRANSPORT = frozenset({"host", "content-length", "cookie", "accept"})
# Headers whose value identifies the client: they must be equal too.
IDENTITY = frozenset(
    {
        "user-agent",
        "accept-language",
        "accept-charset",
        "accept-encoding",
        "connection",
        "content-type",
        "x-amzn-client",
        "x-amzn-build-version",
    }
)
SITES = ["com", "de", "co.uk"]
LIBRARY_HEADERS = sorted(IDENTITY | {"csrf"})


def differences(library: RequestRecord, ours: RequestRecord) -> list[str]:
    """Return how the project's request differs from the library's."""
    found = []
    if (library.method, library.host, library.path) != (
        ours.method,
        ours.host,
        ours.path,
    ):
        found.append(
            f"request {ours.method} {ours.host}{ours.path}, "
            f"library {library.method} {library.host}{library.path}"
        )
    theirs = set(library.headers) - TRANSPORT
    mine = set(ours.headers) - TRANSPORT
    found += [f"header {name} missing" for name in sorted(theirs - mine)]
    found += [
        f"header {name} not sent by the library" for name in sorted(mine - theirs)
    ]
    found += [
        f"header {name}: {ours.headers[name]!r}, library {library.headers[name]!r}"
        for name in sorted(IDENTITY & theirs & mine)
        if library.headers[name] != ours.headers[name]
    ]
    found += [
        f"cookie {name} missing" for name in sorted(library.cookies - ours.cookies)
    ]
    found += [
        f"cookie {name} not sent by the library"
        for name in sorted(ours.cookies - library.cookies)
    ]
    return found


def _last_graphql(simulator: AlexaSimulator) -> RequestRecord:
    return [r for r in simulator.requests if r.path == GRAPHQL][-1]


async def _project_poll(simulator: AlexaSimulator) -> RequestRecord:
    credentials = AmazonCredentials(stored_login_data(simulator.login_data()))
    client = AmazonClient(http_for(simulator), credentials)
    try:
        account = Account(client)
        # Refused for what it lacks, maybe: the request is recorded all the same.
        with contextlib.suppress(AmazonError, ClientResponseError):
            await account.async_discover()
            await account.async_poll()
    finally:
        await client.async_close()
    return _last_graphql(simulator)


async def _library_poll(simulator: AlexaSimulator, tmp_path: Path) -> RequestRecord:
    session = simulator_session("127.0.0.1", simulator.port)
    account = simulator.state.account
    kwargs: dict[str, Any] = {"login_data": simulator.login_data()}
    if "save_data" in inspect.signature(AmazonEchoApi).parameters:
        from aioamazondevices.structures import AmazonSaveDataConfig

        kwargs["save_data"] = AmazonSaveDataConfig(path=tmp_path)
    try:
        api = AmazonEchoApi(session, account.email, account.password, **kwargs)
        await api.login.login_mode_stored_data()
        # The first call of a day discovers; the second is the plain poll.
        await api.get_devices_data()
        simulator.reset_counts()
        await api.get_devices_data()
    finally:
        await session.close()
    return _last_graphql(simulator)


@pytest.fixture(params=SITES)
async def site_simulator(
    simulator: AlexaSimulator, request: pytest.FixtureRequest
) -> AlexaSimulator:
    """Return the simulator with the account on one Amazon site."""
    simulator.state.account.domain = request.param
    return simulator


async def test_the_project_polls_like_the_library(
    site_simulator: AlexaSimulator, tmp_path: Path
) -> None:
    ours = await _project_poll(site_simulator)
    library = await _library_poll(site_simulator, tmp_path)
    assert ours.status == library.status == 200
    assert differences(library, ours) == []
    # What the contract is about is really there.
    assert {"user-agent", "csrf", "x-amzn-client"} <= set(library.headers)
    assert "session-token" in library.cookies


@pytest.mark.parametrize(
    "name",
    [
        *(f"header:{name}" for name in LIBRARY_HEADERS),
        *(f"cookie:{name}" for name in [*session_cookie_names("com"), "lc-acbit"]),
    ],
)
async def test_a_header_or_cookie_going_missing_is_caught(
    simulator: AlexaSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    kind, _, key = name.partition(":")
    library = await _library_poll(simulator, tmp_path)
    assert key in (library.headers if kind == "header" else library.cookies)
    if kind == "header":
        build = AmazonClient.graphql_headers

        def without(self: AmazonClient, *args: Any) -> dict[str, str]:
            return {k: v for k, v in build(self, *args).items() if k.lower() != key}

        monkeypatch.setattr(AmazonClient, "graphql_headers", without)
    else:
        load = AmazonClient.load_cookies

        def dropping(self: AmazonClient) -> None:
            load(self)
            self.http.session.cookie_jar.clear(lambda morsel: morsel.key == key)

        monkeypatch.setattr(AmazonClient, "load_cookies", dropping)
    ours = await _project_poll(simulator)
    assert any(key in difference for difference in differences(library, ours))


def _last_token(simulator: AlexaSimulator) -> RequestRecord:
    return [r for r in simulator.requests if r.path == "/auth/token"][-1]


@pytest.mark.parametrize("site", SITES)
async def test_the_cookie_refresh_is_the_librarys(
    simulator: AlexaSimulator, tmp_path: Path, site: str
) -> None:
    """Same form (`refresh_data`), headers and cookies as the library's exchange."""
    simulator.state.account.domain = site
    login_data = simulator.login_data()
    credentials = AmazonCredentials(stored_login_data(deepcopy(login_data)))
    client = AmazonClient(http_for(simulator), credentials)
    try:
        await client.async_refresh_session()
    finally:
        await client.async_close()
    ours = _last_token(simulator)

    session = simulator_session("127.0.0.1", simulator.port)
    account = simulator.state.account
    kwargs: dict[str, Any] = {"login_data": deepcopy(login_data)}
    if "save_data" in inspect.signature(AmazonEchoApi).parameters:
        from aioamazondevices.structures import AmazonSaveDataConfig

        kwargs["save_data"] = AmazonSaveDataConfig(path=tmp_path)
    try:
        api = AmazonEchoApi(session, account.email, account.password, **kwargs)
        ok, _ = await api._http_wrapper.refresh_data(REFRESH_AUTH_COOKIES)
        assert ok
    finally:
        await session.close()
    library = _last_token(simulator)

    assert parse_qs(ours.form) == parse_qs(library.form)
    assert differences(library, ours) == []
    # The cookies are set for the whole site, so the exchange sends them too.
    assert "session-token" in ours.cookies


async def test_the_language_cookie_survives_a_refresh(
    client: AmazonClient, simulator: AlexaSimulator
) -> None:
    await client.async_refresh_session()
    await Account(client).async_discover()
    assert "lc-acbit" in _last_graphql(simulator).cookies
    assert "lc-acbit" in client.credentials.login_data["website_cookies"]
    await client.async_refresh_session()
    assert "lc-acbit" in client.credentials.login_data["website_cookies"]
