"""The login data stored in a config entry, and what the client reads from it.

aioamazondevices returns more than it needs later. The entry keeps only what
the library itself reads back from stored data (site, cookies, refresh token,
device serial, customer id and home region); the one-time code, the password,
the short-lived access token and the device signing keys are not stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .redact import login_data_secrets

DEFAULT_SITE = "https://www.amazon.com"
SESSION_TOKEN = "session-token"  # noqa: S105 - a cookie name
LANGUAGE_COOKIE = "lc-acbit"


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
        """Return the website cookies the Alexa web API expects."""
        cookies = {
            str(k): str(v)
            for k, v in (self.login_data.get("website_cookies") or {}).items()
        }
        store = self.login_data.get("store_authentication_cookie") or {}
        if store.get("cookie"):
            cookies[SESSION_TOKEN] = str(store["cookie"])
        return cookies

    def with_cookies(self, cookies: Mapping[str, str]) -> AmazonCredentials:
        """Return these credentials with a fresh set of website cookies."""
        data = dict(self.login_data)
        website = {k: v for k, v in cookies.items() if k != SESSION_TOKEN}
        # The token exchange does not send the library's language cookie: keep it.
        old = self.login_data.get("website_cookies") or {}
        if LANGUAGE_COOKIE in old:
            website.setdefault(LANGUAGE_COOKIE, old[LANGUAGE_COOKIE])
        data["website_cookies"] = website
        if SESSION_TOKEN in cookies:
            data["store_authentication_cookie"] = {"cookie": cookies[SESSION_TOKEN]}
        return AmazonCredentials(data)

    def secret_values(self) -> Iterable[str]:
        """Return the secret values, for log redaction."""
        return list(login_data_secrets(self.login_data))
