"""The lean Amazon client: GraphQL reads and the session-cookie refresh.

aioamazondevices signs in; everything after that is three small requests:
listing the monitors (about once a day), reading all their states (one
batched request per poll), and, when Amazon rejects the session, exchanging
the refresh token for new website cookies (``api.amazon.com/auth/token``,
the exchange the library itself uses after a domain switch). Each request is
made once; retries are the caller's decision (`retry.async_call_with_retry`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import ClientResponse, ClientResponseError, ClientTimeout
import orjson
from yarl import URL

from .const import REQUEST_TIMEOUT
from .credentials import AmazonCredentials
from .errors import AmazonAuthError, AmazonRateLimitError, AmazonResponseError
from .redact import protect
from .transport import AmazonHttp

# The app identity aioamazondevices registers its virtual device with.
APP_NAME: Final = "AioAmazonDevices"
APP_VERSION: Final = "2.2.663733.0"
APP_BUNDLE_ID: Final = "com.amazon.echo"
CLIENT_OS: Final = "18.5"
SDK_VERSION: Final = "6.12.4"
USER_AGENT: Final = f"AmazonWebView/AmazonAlexa/{APP_VERSION}/iOS/{CLIENT_OS}/iPhone"
TOKEN_URL: Final = URL("https://api.amazon.com/auth/token")
SIGNIN_PATH: Final = "/ap/signin"
THROTTLED: Final = "TOO_MANY_REQUESTS"
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
        self._http = http
        self.credentials = credentials
        self.timeout = timeout
        self.traffic = TrafficStats()
        self._load_cookies()
        protect(self)

    @property
    def alexa_url(self) -> URL:
        """Return the account's Alexa web API base URL."""
        return URL(f"https://alexa.amazon.{self.credentials.domain}/")

    def secret_values(self) -> Iterable[str]:
        """Return the secrets this client holds, for log redaction."""
        return [*self.credentials.secret_values(), *self._http.cookie_values()]

    def _load_cookies(self) -> None:
        jar = self._http.session.cookie_jar
        jar.clear_domain(self.alexa_url.host or "")
        jar.update_cookies(self.credentials.cookies, self.alexa_url)

    async def async_close(self) -> None:
        """Release the session."""
        await self._http.async_release()

    async def async_graphql(self, body: Any) -> dict[str, Any]:
        """Send one GraphQL request; return the (first) operation's reply."""
        url = self.alexa_url.joinpath("nexus/v1/graphql")
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
        }
        cookies = self._http.session.cookie_jar.filter_cookies(url)
        if (csrf := cookies.get("csrf")) is not None:
            headers["csrf"] = csrf.value
        raw = await self._post(url, orjson.dumps(body), headers)
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
        form = {
            "app_name": APP_NAME,
            "app_version": APP_VERSION,
            "di.sdk.version": SDK_VERSION,
            "source_token": token,
            "package_name": APP_BUNDLE_ID,
            "di.hw.version": "iPhone",
            "platform": "iOS",
            "requested_token_type": "auth_cookies",
            "source_token_type": "refresh_token",
            "di.os.name": "iOS",
            "di.os.version": CLIENT_OS,
            "current_version": SDK_VERSION,
            "previous_version": SDK_VERSION,
            "domain": f"www.amazon.{self.credentials.domain}",
        }
        try:
            raw = await self._post(
                TOKEN_URL,
                urlencode(form).encode(),
                {
                    "User-Agent": USER_AGENT,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        except ClientResponseError as err:
            if err.status in (400, 401, 403):
                raise AmazonAuthError("refresh token refused") from None
            raise
        cookies = _cookies_from_token_reply(_json(raw))
        self.credentials = self.credentials.with_cookies(cookies)
        self._load_cookies()
        return self.credentials

    async def _post(self, url: URL, data: bytes, headers: dict[str, str]) -> bytes:
        session = self._http.session
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
        raise AmazonResponseError(f"unexpected redirect {status}")
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
        extensions = error.get("extensions")
        code = (
            str(extensions.get("errorCode", "")) if isinstance(extensions, dict) else ""
        )
        if (
            THROTTLED in code
            or "too many requests" in str(error.get("message", "")).lower()
        ):
            raise AmazonRateLimitError("GraphQL too many requests")
        codes.append(code or "unknown")
    data = reply.get("data")
    if not isinstance(data, dict) or not any(data.values()):
        raise AmazonResponseError(f"GraphQL error {','.join(codes) or 'unknown'}")


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
