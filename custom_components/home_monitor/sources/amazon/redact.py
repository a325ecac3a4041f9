"""Keeps Amazon credentials out of log records written by aioamazondevices.

At DEBUG (and for one message at INFO) the library logs request payloads,
response bodies, redirect URLs and cookie values that hold the one-time code,
the authorization code, tokens and cookies. A filter on the library's logger
rewrites each record before any handler sees it, in three passes:

1. structure: values under secret keys of dict/list arguments are replaced;
   a message template that announces a secret (``authcode: %s``,
   ``CSRF cookie value``) has its plain string arguments replaced;
2. patterns: ``key=value`` / ``"key": "value"`` pairs of secret keys and
   ``Bearer`` headers in the rendered text (values seen this way are
   remembered, so a later bare mention is caught too);
3. values: every secret the live logins and clients hold (password, code,
   tokens, cookie-jar values) is replaced wherever it appears.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
import logging
import re
from typing import Any, Protocol
from weakref import WeakSet

REDACTED = "**REDACTED**"
LIBRARY_LOGGER = "aioamazondevices"
MIN_SECRET_LENGTH = 6

# Dict keys whose whole value is secret (compared lower-case).
SECRET_KEYS = frozenset(
    {
        "access_token",
        "adp_token",
        "at-main",
        "authorization",
        "authorization_code",
        "bearer",
        "code",
        "code_verifier",
        "cookie",
        "cookies",
        "csrf",
        "device_private_key",
        "frc",
        "mac_dms",
        "map-md",
        "otp",
        "otpcode",
        "password",
        "refresh_token",
        "sess-at-main",
        "session-id",
        "session-token",
        "source_token",
        "store_authentication_cookie",
        "token",
        "tokens",
        "ubid-main",
        "website_cookies",
        "x-main",
    }
)
# Cookies the library sets that identify nothing.
NOT_SECRET_COOKIES = frozenset({"lc-acbit", "amzn-app-id"})

_TEXT_KEYS = (
    "password",
    "otpCode",
    "authorization_code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "source_token",
    "adp_token",
    "device_private_key",
    "session-token",
    "session-id",
    "csrf",
    "Value",
    "frc",
    "map-md",
)
# Amazon's session cookies: ``at-main`` on amazon.com, ``at-acbde`` on amazon.de, ...
_SITE_COOKIE = r"(?:sess-at|at|x|ubid)-(?:main|acb[a-z]{2,3})"
_SITE_COOKIE_NAME = re.compile(rf"(?i){_SITE_COOKIE}")
_KEYS = "|".join([_SITE_COOKIE, *(re.escape(key) for key in _TEXT_KEYS)])
_KEY_VALUE = re.compile(
    rf"""(?P<key>["']?(?:{_KEYS})["']?\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,&;}\]'"]+)"""
)
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",}]+")
_SECRET_TEMPLATE = re.compile(r"(?i)auth ?code|csrf|cookie|token|password|otp")


class SecretSource(Protocol):
    """Something holding credentials: a sign-in in progress or a live client."""

    def secret_values(self) -> Iterable[str]:
        """Return every secret value it holds."""


class AmazonLogRedactor(logging.Filter):
    """The filter on the library's logger (one per process)."""

    def __init__(self) -> None:
        """Start with no sources and nothing learned."""
        super().__init__(LIBRARY_LOGGER)
        self._sources: WeakSet[SecretSource] = WeakSet()
        self._learned: deque[str] = deque(maxlen=64)

    def protect(self, source: SecretSource) -> None:
        """Redact `source`'s secrets for as long as it lives."""
        self._sources.add(source)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record without secrets; never drop it."""
        wholesale = bool(_SECRET_TEMPLATE.search(str(record.msg)))
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub(arg, wholesale) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = _scrub(record.args, wholesale)
        try:
            message = record.getMessage()
        except TypeError, ValueError:
            message = f"{record.msg} {record.args!r}"
        record.msg = self.scrub_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.scrub_text(formatted)
        if record.stack_info:
            record.stack_info = self.scrub_text(record.stack_info)
        return True

    def scrub_text(self, text: str) -> str:
        """Return `text` with secret pairs, bearer tokens and known values replaced."""

        def _pair(match: re.Match[str]) -> str:
            value = match["value"].strip("\"'")
            if len(value) >= MIN_SECRET_LENGTH and value != REDACTED:
                self._learned.append(value)
            return f"{match['key']}{REDACTED}"

        text = _KEY_VALUE.sub(_pair, text)
        text = _BEARER.sub(rf"\1{REDACTED}", text)
        for secret in sorted(self._secrets(), key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def _secrets(self) -> set[str]:
        found = {s for s in self._learned if s}
        for source in list(self._sources):
            found.update(source.secret_values())
        return {s for s in found if len(s) >= MIN_SECRET_LENGTH}


def is_secret_key(key: str) -> bool:
    """Return whether a dict key or cookie name holds a secret (any Amazon site)."""
    return key.lower() in SECRET_KEYS or bool(_SITE_COOKIE_NAME.fullmatch(key))


def _scrub(value: Any, wholesale: bool) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_secret_key(str(key)) else _scrub(item, False)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_scrub(item, False) for item in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if wholesale and isinstance(value, str) and not value.startswith("http"):
        return REDACTED
    return value


REDACTOR = AmazonLogRedactor()


def protect(source: SecretSource) -> None:
    """Install the filter (once) and redact `source`'s secrets while it lives."""
    logger = logging.getLogger(LIBRARY_LOGGER)
    if REDACTOR not in logger.filters:
        logger.addFilter(REDACTOR)
    REDACTOR.protect(source)


def login_data_secrets(login_data: Mapping[str, Any]) -> Iterable[str]:
    """Yield the secret values of the library's login data."""
    for key in ("access_token", "refresh_token", "adp_token", "device_private_key"):
        if isinstance(value := login_data.get(key), str):
            yield value
    cookies = login_data.get("website_cookies")
    if isinstance(cookies, Mapping):
        yield from (str(v) for k, v in cookies.items() if k not in NOT_SECRET_COOKIES)
    store_cookie = login_data.get("store_authentication_cookie")
    if isinstance(store_cookie, Mapping) and isinstance(
        cookie := store_cookie.get("cookie"), str
    ):
        yield cookie
