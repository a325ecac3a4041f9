"""The lean Amazon client: GraphQL reads and the session-cookie refresh.

aioamazondevices signs in; everything after that is three small requests:
listing the monitors (about once a day), reading all their states (one
batched request per poll), and, when Amazon rejects the session, exchanging
the refresh token for new website cookies (``api.amazon.com/auth/token``,
the exchange the library itself uses after a domain switch). Each request is
made once; retries are the caller's decision (`retry.async_call_with_retry`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from http.cookies import SimpleCookie
from typing import Any, Final
from urllib.parse import urlencode

from aioamazondevices import __version__ as LIBRARY_VERSION  # noqa: N812
from aioamazondevices.const.http import (
    AMAZON_APP_BUNDLE_ID,
    AMAZON_APP_NAME,
    AMAZON_APP_VERSION,
    AMAZON_CLIENT_OS,
    CSRF_COOKIE,
    DEFAULT_HEADERS,
    REFRESH_AUTH_COOKIES,
    REQUEST_AGENT,
    URI_NEXUS_GRAPHQL,
    URI_SIGNIN,
    URI_TOKEN,
)
from aioamazondevices.http_wrapper import AmazonSessionStateData
from aiohttp import ClientResponse, ClientResponseError, ClientTimeout
import orjson
from yarl import URL

from .const import REQUEST_TIMEOUT
from .credentials import LANGUAGE_COOKIE, AmazonCredentials
from .errors import (
    AmazonAuthError,
    AmazonRateLimitError,
    AmazonResponseError,
    AmazonTransientError,
)
from .redact import protect
from .transport import AmazonHttp

# The app identity is the library's: its virtual device was registered with it.
# The SDK version and the client header are literals in the library's code.
SDK_VERSION: Final = "6.12.4"
CLIENT_HEADER: Final = "github.com/chemelli74/aioamazondevices"

TOKEN_URL: Final = URL("https://api.amazon.com").joinpath(URI_TOKEN)
SIGNIN_PATH: Final = f"/{URI_SIGNIN}"
THROTTLED: Final = "TOO_MANY_REQUESTS"
# GraphQL error codes and messages that mean the session is no longer accepted.
AUTH_ERROR_CODES: Final = (
    "UNAUTHENTICATED",
    "UNAUTHORIZED",
    "AUTHENTICATION",
    "FORBIDDEN",
    "INVALID_TOKEN",
    "SESSION_EXPIRED",
)
AUTH_ERROR_MESSAGES: Final = ("unauthorized", "unauthenticated", "not authenticated")
# No reply the client asks for comes near this; a larger one is refused unread.
MAX_REPLY_BYTES = 4_000_000


@dataclass(slots=True)
class TrafficStats:
    """Requests and bytes the client exchanged with Amazon."""

    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


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
        self.traffic = TrafficStats()
        self.language = _language(credentials.domain)
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
        """Put the account's cookies in the session, where the library puts them.

        That is for the whole ``.amazon.<tld>`` site (and ``.amazon.com``, which
        serves the global endpoints such as the token exchange), with the
        language cookie the library adds.
        """
        jar = self.http.session.cookie_jar
        jar.clear()
        cookies = {**self.credentials.cookies, LANGUAGE_COOKIE: self.language}
        domains = {self.credentials.domain, "com"}
        for domain in domains:
            morsels: SimpleCookie = SimpleCookie()
            for name, value in cookies.items():
                morsels[name] = value
                morsels[name]["domain"] = f".amazon.{domain}"
                morsels[name]["path"] = "/"
            jar.update_cookies(morsels, URL(f"https://amazon.{domain}"))

    def request_headers(self, agent: str) -> dict[str, str]:
        """Return the headers the library sends with every request."""
        return {
            **DEFAULT_HEADERS,
            "User-Agent": agent,
            "Accept-Language": self.language,
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
        _raise_for_graphql_errors(reply)
        return reply

    async def async_refresh_session(self) -> AmazonCredentials:
        """Exchange the refresh token for new website cookies."""
        if (token := self.credentials.refresh_token) is None:
            raise AmazonAuthError("no refresh token")
        headers = self.request_headers(REQUEST_AGENT["Browser"])
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            raw = await self._post(
                TOKEN_URL,
                urlencode(refresh_form(token, self.credentials.domain)).encode(),
                headers,
            )
        except ClientResponseError as err:
            if err.status in (400, 401, 403):
                raise AmazonAuthError("refresh token refused") from None
            raise
        cookies = _cookies_from_token_reply(_json(raw))
        self.credentials = self.credentials.with_cookies(cookies)
        self.load_cookies()
        return self.credentials

    async def _post(self, url: URL, data: bytes, headers: dict[str, str]) -> bytes:
        session = self.http.session
        self.traffic.requests += 1
        self.traffic.bytes_sent += len(data)
        async with session.post(
            url,
            data=data,
            headers=headers,
            allow_redirects=False,
            timeout=ClientTimeout(total=self.timeout),
        ) as response:
            raw = await _read_capped(response)
            self.traffic.bytes_received += len(raw)
            _raise_for_status(response, raw)
        return raw


def refresh_form(refresh_token: str, domain: str) -> dict[str, str]:
    """Return the form exchanging the refresh token for website cookies.

    It is the library's own (`AmazonHttpWrapper.refresh_data`), which a test
    compares field by field.
    """
    return {
        "app_name": AMAZON_APP_NAME,
        "app_version": AMAZON_APP_VERSION,
        "di.sdk.version": SDK_VERSION,
        "source_token": refresh_token,
        "package_name": AMAZON_APP_BUNDLE_ID,
        "di.hw.version": "iPhone",
        "platform": "iOS",
        "requested_token_type": REFRESH_AUTH_COOKIES,
        "source_token_type": "refresh_token",
        "di.os.name": "iOS",
        "di.os.version": AMAZON_CLIENT_OS,
        "current_version": SDK_VERSION,
        "previous_version": SDK_VERSION,
        "domain": f"www.amazon.{domain}",
    }


@cache
def _language(domain: str) -> str:
    """Return the language the library speaks to `domain` (``de-DE``, ``en-US``)."""
    return AmazonSessionStateData(f"https://www.amazon.{domain}", "", "").language


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


def _raise_for_graphql_errors(reply: dict[str, Any]) -> None:
    errors = reply.get("errors")
    if not errors:
        return
    codes = []
    for error in errors if isinstance(errors, list) else [errors]:
        if not isinstance(error, dict):
            continue
        code = _error_code(error.get("extensions"))
        message = str(error.get("message", "")).lower()
        if THROTTLED in code or "too many requests" in message:
            raise AmazonRateLimitError("GraphQL too many requests")
        if any(word in code for word in AUTH_ERROR_CODES) or any(
            word in message for word in AUTH_ERROR_MESSAGES
        ):
            # An expired session, reported inside an HTTP 200.
            raise AmazonAuthError("GraphQL authentication error")
        codes.append(code or "unknown")
    data = reply.get("data")
    if not isinstance(data, dict) or not any(data.values()):
        raise AmazonResponseError(f"GraphQL error {','.join(codes) or 'unknown'}")


def _error_code(extensions: Any) -> str:
    if not isinstance(extensions, Mapping):
        return ""
    code = extensions.get("errorCode") or extensions.get("classification") or ""
    return str(code).upper()


def _cookies_from_token_reply(reply: Any) -> dict[str, str]:
    try:
        by_domain = reply["response"]["tokens"]["cookies"]
        cookies = {
            str(cookie["Name"]): str(cookie["Value"]).replace('"', "")
            for listed in by_domain.values()
            for cookie in listed
        }
    except KeyError, TypeError, AttributeError:
        raise AmazonResponseError("unexpected token reply") from None
    if not cookies:
        raise AmazonResponseError("token reply without cookies")
    return cookies
