"""Signing in, the stored credentials, and the exchange that refreshes them.

aioamazondevices runs the interactive sign-in (e-mail, password, then the
authenticator-app code), registers a virtual device and returns its login
data. The entry keeps only what the library itself reads back from stored
data (site, cookies, refresh token, device serial, customer id and home
region); the one-time code, the password, the short-lived access token and the
device signing keys are not stored. When Amazon stops accepting the website
cookies, the refresh token buys new ones with the library's own form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aioamazondevices import AmazonEchoApi, CannotAuthenticate, CannotConnect
from aioamazondevices.const.http import (
    AMAZON_APP_BUNDLE_ID,
    AMAZON_APP_NAME,
    AMAZON_APP_VERSION,
    AMAZON_CLIENT_OS,
    REFRESH_AUTH_COOKIES,
)
from aioamazondevices.exceptions import AmazonError as LibraryError
from aioamazondevices.http_wrapper import AmazonSessionStateData
from aiohttp import ClientError
from bs4 import BeautifulSoup

from ...const import LOGGER
from . import AmazonLoginError, AmazonResponseError
from .redact import login_data_secrets, protect

if TYPE_CHECKING:
    from .client import AmazonHttp

DEFAULT_SITE: Final = "https://www.amazon.com"
SESSION_TOKEN: Final = "session-token"  # noqa: S105 - a cookie name
LANGUAGE_COOKIE: Final = "lc-acbit"
AUTHORIZATION_CODE: Final = "openid.oa2.authorization_code"
# A literal in the library's `refresh_data`, not one of its constants.
SDK_VERSION: Final = "6.12.4"

# aioamazondevices parses every reply with BeautifulSoup, whose encoding
# detection imports codec modules the first time it meets a kind of body. Meet
# the usual kinds now, while the integration is imported off the event loop.
for _body in (b'{"ascii":1}', "<p>\u00e9\u00e8 \u20ac</p>".encode()):
    BeautifulSoup(_body, "html.parser")


def _pick(data: Any, keys: Iterable[str]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return {}
    return {key: data[key] for key in keys if key in data}


def stored_login_data(login_data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the part of the library's login data an entry keeps."""
    kept: dict[str, Any] = _pick(
        login_data, ("site", "refresh_token", "account_customer_id")
    )
    kept["website_cookies"] = dict(login_data.get("website_cookies") or {})
    kept["store_authentication_cookie"] = _pick(
        login_data.get("store_authentication_cookie"), ("cookie",)
    )
    kept["device_info"] = _pick(
        login_data.get("device_info"), ("device_serial_number",)
    )
    kept["customer_info"] = _pick(
        login_data.get("customer_info"), ("user_id", "home_region")
    )
    return kept


@cache
def language(domain: str) -> str:
    """Return the language the library speaks to `domain` (``de-DE``, ``en-US``)."""
    return AmazonSessionStateData(f"https://www.amazon.{domain}", "", "").language


@dataclass(frozen=True, slots=True)
class AmazonCredentials:
    """An account's stored login data."""

    login_data: Mapping[str, Any]

    @property
    def customer_id(self) -> str:
        """Return the account's customer id (the entry's unique id)."""
        return str(self.login_data["customer_info"]["user_id"])

    @property
    def domain(self) -> str:
        """Return the account's Amazon domain, like ``com`` or ``co.uk``."""
        site = str(self.login_data.get("site") or DEFAULT_SITE)
        return (
            site.removeprefix("https://")
            .removeprefix("www.")
            .removeprefix("amazon.")
            .rstrip("/")
            .lower()
            or "com"
        )

    @property
    def refresh_token(self) -> str | None:
        """Return the refresh token, if any."""
        token = self.login_data.get("refresh_token")
        return token if isinstance(token, str) else None

    @property
    def cookies(self) -> dict[str, str]:
        """Return the cookies the library sends: website, session and language."""
        cookies = {
            str(k): str(v)
            for k, v in (self.login_data.get("website_cookies") or {}).items()
        }
        store = self.login_data.get("store_authentication_cookie") or {}
        if store.get("cookie"):
            cookies[SESSION_TOKEN] = str(store["cookie"])
        cookies[LANGUAGE_COOKIE] = language(self.domain)
        return cookies

    def with_cookies(self, cookies: Mapping[str, str]) -> AmazonCredentials:
        """Return these credentials with a fresh set of website cookies."""
        data = dict(self.login_data)
        # As the library keeps them: with its language cookie, which the token
        # exchange does not send.
        data["website_cookies"] = {
            **{k: v for k, v in cookies.items() if k != SESSION_TOKEN},
            LANGUAGE_COOKIE: language(self.domain),
        }
        if SESSION_TOKEN in cookies:
            data["store_authentication_cookie"] = {"cookie": cookies[SESSION_TOKEN]}
        return AmazonCredentials(data)

    def secret_values(self) -> Iterable[str]:
        """Return the secret values, for log redaction."""
        return list(login_data_secrets(self.login_data))


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


def cookies_from_token_reply(reply: Any) -> dict[str, str]:
    """Return the website cookies of a token exchange's reply."""
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


def _create_api(http: AmazonHttp, email: str, password: str, storage: Path) -> Any:
    # 16.x added a required `save_data`; both forms go by the public signature.
    factory: Any = AmazonEchoApi
    if "save_data" in inspect.signature(AmazonEchoApi).parameters:
        from aioamazondevices.structures import AmazonSaveDataConfig  # noqa: PLC0415

        save_data = AmazonSaveDataConfig(path=storage)
        return factory(http.session, email, password, save_data=save_data)
    return factory(http.session, email, password)


class AmazonSignIn:
    """One interactive sign-in; its password and code are redacted from logs."""

    def __init__(self, http: AmazonHttp, email: str, password: str, code: str) -> None:
        """Prepare a sign-in with the session `http`."""
        self._http = http
        self._email = email
        self._password = password
        self._code = code
        protect(self)

    def secret_values(self) -> Iterable[str]:
        """Return the password, the code and the session's cookies."""
        return [self._password, self._code, *self._http.cookie_values()]

    async def async_login(self, storage: Path) -> AmazonCredentials:
        """Sign in; raise `AmazonLoginError` with a config-flow error key."""
        api = _create_api(self._http, self._email, self._password, storage)
        try:
            login_data = await api.login.login_mode_interactive(self._code)
        except CannotAuthenticate as err:
            LOGGER.debug("Amazon did not accept the sign-in: %s", type(err).__name__)
            raise AmazonLoginError("invalid_auth") from None
        except CannotConnect, ClientError, TimeoutError:
            raise AmazonLoginError("amazon_cannot_connect") from None
        except LibraryError as err:
            LOGGER.warning("Amazon sign-in failed: %s", type(err).__name__)
            raise AmazonLoginError("cannot_retrieve_data") from None
        except KeyError as err:
            # Releases before 14 fail this way when the code was not accepted.
            if err.args == (AUTHORIZATION_CODE,):
                raise AmazonLoginError("invalid_auth") from None
            LOGGER.warning("Amazon sign-in got an unexpected reply: KeyError")
            raise AmazonLoginError("unknown") from None
        except (ValueError, TypeError, LookupError) as err:
            LOGGER.warning(
                "Amazon sign-in got an unexpected reply: %s", type(err).__name__
            )
            raise AmazonLoginError("unknown") from None
        credentials = AmazonCredentials(stored_login_data(login_data))
        if not credentials.login_data["customer_info"].get("user_id"):
            LOGGER.warning("Amazon's sign-in reply lacks the customer id")
            raise AmazonLoginError("unknown")
        return credentials
