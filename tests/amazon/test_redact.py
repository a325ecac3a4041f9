"""The log filter on aioamazondevices, message by message."""

from __future__ import annotations

from collections.abc import Iterable
import logging

import pytest
from yarl import URL

from custom_components.home_monitor.sources.amazon.redact import (
    LIBRARY_LOGGER,
    REDACTED,
    AmazonLogRedactor,
    protect,
)

LOGGER = logging.getLogger(LIBRARY_LOGGER)


class Holder:
    def __init__(self, *values: str) -> None:
        self.values = list(values)

    def secret_values(self) -> Iterable[str]:
        return self.values


@pytest.fixture
def holder() -> Holder:
    source = Holder("hunter2-password", "135790")
    protect(source)
    return source


def logged(caplog: pytest.LogCaptureFixture, *args: object) -> str:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, LIBRARY_LOGGER):
        LOGGER.debug(*args)  # type: ignore[arg-type]
    return caplog.records[-1].getMessage()


def test_dict_arguments_lose_secret_values(
    caplog: pytest.LogCaptureFixture, holder: Holder
) -> None:
    payload = {
        "email": "a***@e***.com",
        "otpCode": "135790",
        "auth_data": {"authorization_code": "ANcode123", "code_verifier": "vrf-9876"},
        "user_context_map": {"frc": "fingerprint"},
        "cookies": {"website_cookies": [], "domain": ".amazon.com"},
        "list": [{"refresh_token": "Atnr|x"}],
    }
    message = logged(
        caplog,
        "%s request: %s with payload %s [json=%s]",
        "POST",
        URL("https://api.amazon.com/auth/register"),
        payload,
        True,
    )
    for secret in ("135790", "ANcode123", "vrf-9876", "fingerprint", "Atnr|x"):
        assert secret not in message
    assert "a***@e***.com" in message
    assert "api.amazon.com/auth/register" in message


def test_urls_and_announced_values(caplog: pytest.LogCaptureFixture) -> None:
    url = URL(
        "https://www.amazon.com/ap/maplanding?openid.oa2.authorization_code=ANabc123xyz&x=1"
    )
    message = logged(caplog, "Login response url:%s", url)
    assert "ANabc123xyz" not in message
    assert "x=1" in message
    # Learned from the URL, so a bare mention later is caught as well.
    assert "ANabc123xyz" not in logged(caplog, "Code was %s", "ANabc123xyz")
    assert logged(caplog, "Login extracted authcode: %s", "fresh-code-1") == (
        f"Login extracted authcode: {REDACTED}"
    )
    message = logged(
        caplog,
        "CSRF cookie value: <%s> [%s]",
        "csrfvalue",
        URL("https://alexa.amazon.com/api"),
    )
    assert "csrfvalue" not in message
    assert "https://alexa.amazon.com/api" in message


def test_text_patterns_and_known_values(
    caplog: pytest.LogCaptureFixture, holder: Holder
) -> None:
    body = (
        b'{"source_token":"Atnr|secret-refresh","requested_token_type":"auth_cookies"}'
    )
    message = logged(caplog, "Refresh data response %s with payload %s", 200, body)
    assert "secret-refresh" not in message
    assert "auth_cookies" in message
    message = logged(caplog, "Adding to headers: %s", "Authorization: Bearer Atza|tok")
    assert "Atza|tok" not in message
    assert "hunter2-password" not in logged(caplog, "typed %s", "hunter2-password")
    holder.values.append("new-cookie-value")
    assert "new-cookie-value" not in logged(caplog, "jar: new-cookie-value")


def test_mapping_arguments_tracebacks_and_bad_formats(
    caplog: pytest.LogCaptureFixture, holder: Holder
) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, LIBRARY_LOGGER):
        LOGGER.debug(
            "%(password)s and %(ok)s", {"password": "pw-1234567", "ok": "fine"}
        )
        try:
            int("token hunter2-password in message")
        except ValueError:
            LOGGER.exception("failed", stack_info=True)
        LOGGER.debug("%s %s", "only one")  # noqa: PLE1206 - a broken call, on purpose
    first, second, third = caplog.records[-3:]
    assert first.getMessage() == f"{REDACTED} and fine"
    assert "hunter2-password" not in (second.exc_text or "")
    assert "ValueError" in (second.exc_text or "")
    assert second.stack_info
    assert "only one" in third.getMessage()


def test_filter_is_installed_once() -> None:
    protect(Holder())
    protect(Holder())
    assert sum(isinstance(f, AmazonLogRedactor) for f in LOGGER.filters) == 1


@pytest.mark.parametrize(
    "name", ["x-acbde", "at-acbde", "sess-at-acbuk", "ubid-acbfr", "at-main", "x-main"]
)
def test_session_cookies_of_every_site_are_redacted_in_free_text(
    caplog: pytest.LogCaptureFixture, name: str
) -> None:
    message = logged(
        caplog, "Response headers: %s", f"{name}=unseen-value-4711; Domain=.amazon.de"
    )
    assert "unseen-value-4711" not in message
    assert name in message
    message = logged(caplog, "Data: %s", {name: "unseen-value-4712"})
    assert "unseen-value-4712" not in message


def test_the_language_cookie_is_not_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    assert "lc-acbit=en-US" in logged(caplog, "Sent %s", "lc-acbit=en-US")
