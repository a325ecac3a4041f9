"""The lean Amazon client: its own HTTP session, its GraphQL, the cookie refresh.

After aioamazondevices signs in, the source makes three small requests:
listing the monitors (about once a day), reading all their states (one batched
request per poll) and, when Amazon rejects the session, exchanging the refresh
token for new website cookies. They carry the library's own headers and
cookies (a contract test compares both). Each is made once; retries are the
coordinator's decision. Every account and sign-in has a session of its own.

Development and tests send every Amazon request to the simulator when
``HOME_MONITOR_AMAZON_SIMULATOR=127.0.0.1:<port>`` is set (loopback only, with
a warning per session); URLs, cookies and TLS stay as for Amazon.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from ipaddress import ip_address
import os
import socket
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from aioamazondevices import __version__ as LIBRARY_VERSION  # noqa: N812
from aioamazondevices.const.http import (
    CSRF_COOKIE,
    DEFAULT_HEADERS,
    REQUEST_AGENT,
    URI_NEXUS_GRAPHQL,
    URI_SIGNIN,
    URI_TOKEN,
)
from aiohttp import (
    ClientResponse,
    ClientResponseError,
    ClientSession,
    ClientTimeout,
    CookieJar,
    TCPConnector,
)
from aiohttp.abc import AbstractResolver, ResolveResult
from homeassistant.helpers.aiohttp_client import async_create_clientsession
import orjson
from yarl import URL

from ...const import LOGGER
from . import (
    REQUEST_TIMEOUT,
    AmazonAuthError,
    AmazonRateLimitError,
    AmazonResponseError,
    AmazonTransientError,
)
from .auth import cookies_from_token_reply, language, refresh_form
from .parsing import raise_for_graphql_errors
from .redact import NOT_SECRET_COOKIES, protect

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .auth import AmazonCredentials

SIMULATOR_ENV: Final = "HOME_MONITOR_AMAZON_SIMULATOR"
# A literal in the library's request code, not one of its constants.
CLIENT_HEADER: Final = "github.com/chemelli74/aioamazondevices"
TOKEN_URL: Final = URL("https://api.amazon.com").joinpath(URI_TOKEN)
SIGNIN_PATH: Final = f"/{URI_SIGNIN}"
# No reply the client asks for comes near this; a larger one is refused unread.
MAX_REPLY_BYTES = 4_000_000

# -- the GraphQL --------------------------------------------------------------------
# Discovery lists the account's endpoints, then asks the monitors for their
# features and range labels. Each poll reads every monitor's state in ONE
# batched request, asking only for what becomes a reading.

ENDPOINTS_OPERATION: Final = "getAirQualityMonitors"
FEATURES_OPERATION: Final = "getAirQualityMonitorFeatures"
STATE_OPERATION: Final = "getAirQualityMonitorStates"

ENDPOINTS_QUERY: Final = """
query getAirQualityMonitors {
  listEndpoints(listEndpointsInput: {includeHouseholdDevices: true}) { endpoints {
    endpointId: id
    friendlyNameObject { value { text } }
    manufacturer { value { text } }
    serialNumber { value { text } }
    softwareVersion { value { text } }
    legacyIdentifiers { dmsIdentifier { deviceType { value { text } } } }
  } }
}
"""

FEATURES_QUERY: Final = """
query getAirQualityMonitorFeatures($endpointIds: [String]!) {
  listEndpoints(listEndpointsInput: {endpointIds: $endpointIds, includeHouseholdDevices: true}) {
    endpoints { endpointId: id features {
      name
      instance
      configuration { ... on RangeConfiguration { friendlyName { value { text } } } }
    } }
  }
}
"""

STATE_QUERY: Final = """
query getAirQualityMonitorStates($endpointIds: [String]!) {
  listEndpoints(listEndpointsInput: {latencyTolerance: LOW, endpointIds: $endpointIds, includeHouseholdDevices: true}) {
    endpoints { endpointId: id features {
      name
      instance
      properties {
        name
        error { type message }
        ... on TemperatureSensor { value { value scale } timeOfSample }
        ... on RangeValue { rangeValue { value } timeOfSample }
        ... on Reachability { reachabilityStatusValue timeOfSample }
      }
    } }
  }
}
"""


def _compact(query: str) -> str:
    return " ".join(query.split())


def endpoints_request() -> dict[str, Any]:
    """Return the body listing the account's endpoints."""
    return {"operationName": ENDPOINTS_OPERATION, "query": _compact(ENDPOINTS_QUERY)}


def features_request(endpoint_ids: list[str]) -> dict[str, Any]:
    """Return the body asking monitors for their features."""
    return {
        "operationName": FEATURES_OPERATION,
        "variables": {"endpointIds": endpoint_ids},
        "query": _compact(FEATURES_QUERY),
    }


def state_request(endpoint_ids: list[str]) -> list[dict[str, Any]]:
    """Return the batched body reading every monitor's state at once."""
    return [
        {
            "operationName": STATE_OPERATION,
            "variables": {"endpointIds": endpoint_ids},
            "query": _compact(STATE_QUERY),
        }
    ]


class LoopbackResolver(AbstractResolver):
    """Resolve every host name to one loopback address and port."""

    def __init__(self, host: str, port: int) -> None:
        """Send everything to `host`:`port`."""
        self._host = host
        self._port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Return the simulator's address for any host name."""
        return [
            ResolveResult(
                hostname=host,
                host=self._host,
                port=self._port,
                family=socket.AF_INET6 if ":" in self._host else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        """Nothing to release."""


def simulator_target(value: str | None = None) -> tuple[str, int] | None:
    """Return the simulator's loopback address and port, if one is configured."""
    raw = os.environ.get(SIMULATOR_ENV) if value is None else value
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    try:
        address = ip_address(host.strip("[]"))
        number = int(port)
    except ValueError:
        address = None
        number = 0
    if address is None or not address.is_loopback or not 0 < number < 65536:
        LOGGER.error(
            "Ignoring %s: it must be a loopback address and port, like 127.0.0.1:8443",
            SIMULATOR_ENV,
        )
        return None
    return str(address), number


def simulator_session(host: str, port: int) -> ClientSession:
    """Return a session whose Amazon requests all go to the simulator."""
    connector = TCPConnector(resolver=LoopbackResolver(host, port), ssl=False)
    return ClientSession(connector=connector, cookie_jar=CookieJar())


@dataclass(frozen=True, slots=True)
class AmazonHttp:
    """A session of its own for one account or sign-in."""

    session: ClientSession
    owns_connector: bool

    async def async_release(self) -> None:
        """Let go of the session (closing it only if it has its own connector)."""
        if self.owns_connector:
            await self.session.close()
        else:
            self.session.detach()

    def cookie_values(self) -> Iterable[str]:
        """Return the values of the cookies the session holds."""
        return [
            morsel.value
            for morsel in self.session.cookie_jar
            if morsel.key not in NOT_SECRET_COOKIES
        ]


def async_create_http(hass: HomeAssistant) -> AmazonHttp:
    """Return a private session for Amazon (or for the simulator, if configured)."""
    if (target := simulator_target()) is None:
        session = async_create_clientsession(hass, auto_cleanup=False)
        return AmazonHttp(session, owns_connector=False)
    host, port = target
    LOGGER.warning(
        "Amazon requests go to the simulator at %s:%s because %s is set",
        host,
        port,
        SIMULATOR_ENV,
    )
    return AmazonHttp(simulator_session(host, port), owns_connector=True)


class AmazonClient:
    """Reads an account's air-quality monitors over one private session."""

    def __init__(
        self,
        http: AmazonHttp,
        credentials: AmazonCredentials,
        *,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Use `http` with the account's stored `credentials`."""
        self.http = http
        self.credentials = credentials
        self.timeout = timeout
        # Requests and bytes exchanged with Amazon, for diagnostics.
        self.traffic: Counter[str] = Counter()
        self.load_cookies()
        protect(self)

    @property
    def alexa_url(self) -> URL:
        """Return the account's Alexa web API base URL."""
        return URL(f"https://alexa.amazon.{self.credentials.domain}/")

    def secret_values(self) -> Iterable[str]:
        """Return the secrets this client holds, for log redaction."""
        return [*self.credentials.secret_values(), *self.http.cookie_values()]

    def load_cookies(self) -> None:
        """Put the account's cookies in the session where the library puts them.

        That is for the whole ``.amazon.<tld>`` site, and for ``.amazon.com``,
        which serves the global endpoints such as the token exchange.
        """
        jar = self.http.session.cookie_jar
        jar.clear()
        for domain in {self.credentials.domain, "com"}:
            morsels: SimpleCookie = SimpleCookie()
            for name, value in self.credentials.cookies.items():
                morsels[name] = value
                morsels[name]["domain"] = f".amazon.{domain}"
                morsels[name]["path"] = "/"
            jar.update_cookies(morsels, URL(f"https://amazon.{domain}"))

    def request_headers(self, agent: str) -> dict[str, str]:
        """Return the headers the library sends with every request."""
        return {
            **DEFAULT_HEADERS,
            "User-Agent": agent,
            "Accept-Language": language(self.credentials.domain),
            "x-amzn-client": CLIENT_HEADER,
            "x-amzn-build-version": LIBRARY_VERSION,
        }

    def graphql_headers(self, url: URL) -> dict[str, str]:
        """Return the headers of a GraphQL request, as the library sends them."""
        headers = self.request_headers(REQUEST_AGENT["Amazon"])
        cookies = self.http.session.cookie_jar.filter_cookies(url)
        if (csrf := cookies.get(CSRF_COOKIE)) is not None:
            headers[CSRF_COOKIE] = csrf.value
        headers["Content-Type"] = "application/json; charset=utf-8"
        return headers

    async def async_close(self) -> None:
        """Release the session."""
        await self.http.async_release()

    async def async_graphql(self, body: Any) -> dict[str, Any]:
        """Send one GraphQL request; return the (first) operation's reply."""
        url = self.alexa_url.joinpath(URI_NEXUS_GRAPHQL)
        raw = await self._post(url, orjson.dumps(body), self.graphql_headers(url))
        reply = _json(raw)
        if isinstance(reply, list):
            reply = reply[0] if reply else None
        if not isinstance(reply, dict):
            raise AmazonResponseError("unexpected reply shape")
        raise_for_graphql_errors(reply)
        return reply

    async def async_refresh_session(self) -> AmazonCredentials:
        """Exchange the refresh token for new website cookies."""
        if (token := self.credentials.refresh_token) is None:
            raise AmazonAuthError("no refresh token")
        headers = self.request_headers(REQUEST_AGENT["Browser"])
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        form = urlencode(refresh_form(token, self.credentials.domain)).encode()
        try:
            raw = await self._post(TOKEN_URL, form, headers)
        except ClientResponseError as err:
            if err.status in (400, 401, 403):
                raise AmazonAuthError("refresh token refused") from None
            raise
        self.credentials = self.credentials.with_cookies(
            cookies_from_token_reply(_json(raw))
        )
        self.load_cookies()
        return self.credentials

    async def _post(self, url: URL, data: bytes, headers: dict[str, str]) -> bytes:
        self.traffic.update(requests=1, bytes_sent=len(data))
        async with self.http.session.post(
            url,
            data=data,
            headers=headers,
            allow_redirects=False,
            timeout=ClientTimeout(total=self.timeout),
        ) as response:
            raw = await _read_capped(response)
            self.traffic["bytes_received"] += len(raw)
            _raise_for_status(response, raw)
        return raw


async def _read_capped(response: ClientResponse) -> bytes:
    if (response.content_length or 0) > MAX_REPLY_BYTES:
        raise AmazonResponseError("reply too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise AmazonResponseError("reply too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _raise_for_status(response: ClientResponse, raw: bytes) -> None:
    status = response.status
    if 300 <= status < 400:
        if SIGNIN_PATH in response.headers.get("Location", ""):
            raise AmazonAuthError("sign-in redirect")
        # Elsewhere (a maintenance page, another host): try again later.
        raise AmazonTransientError(f"unexpected redirect {status}")
    if status == 429:
        raise AmazonRateLimitError("HTTP 429")
    if status >= 400:
        raise ClientResponseError(
            response.request_info,
            response.history,
            status=status,
            message=response.reason or "",
        )
    if "html" in response.headers.get("Content-Type", ""):
        if SIGNIN_PATH.encode() in raw or b'name="signIn"' in raw:
            raise AmazonAuthError("sign-in page")
        raise AmazonResponseError("HTML instead of JSON")


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise AmazonResponseError("malformed JSON") from None
