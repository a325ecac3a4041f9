"""Sessions for Amazon, and the opt-in route to the simulator."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest

from custom_components.home_monitor.sources.amazon.client import (
    SIMULATOR_ENV,
    LoopbackResolver,
    async_create_http,
    simulator_target,
)


@pytest.mark.parametrize(
    ("value", "target"),
    [
        ("127.0.0.1:8443", ("127.0.0.1", 8443)),
        ("[::1]:9000", ("::1", 9000)),
        ("127.0.0.2:1", ("127.0.0.2", 1)),
    ],
)
def test_loopback_targets_are_accepted(value: str, target: tuple[str, int]) -> None:
    assert simulator_target(value) == target


@pytest.mark.parametrize(
    "value",
    [
        "192.168.1.5:8443",
        "alexa.amazon.com:443",
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:x",
    ],
)
def test_anything_else_is_ignored_loudly(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert simulator_target(value) is None
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_unset_means_amazon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIMULATOR_ENV, raising=False)
    assert simulator_target() is None
    assert simulator_target("") is None


async def test_resolver_sends_every_host_to_the_target() -> None:
    resolver = LoopbackResolver("::1", 8443)
    [result] = await resolver.resolve("alexa.amazon.de", 443)
    assert (result["host"], result["port"], result["hostname"]) == (
        "::1",
        8443,
        "alexa.amazon.de",
    )
    await resolver.close()


async def test_production_session_is_home_assistants_own_connector(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SIMULATOR_ENV, raising=False)
    http = async_create_http(hass)
    assert not http.owns_connector
    assert list(http.cookie_values()) == []
    await http.async_release()
    assert http.session.closed


async def test_simulator_session_warns(
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(SIMULATOR_ENV, "127.0.0.1:8443")
    http = async_create_http(hass)
    assert http.owns_connector
    assert "simulator" in caplog.text
    await http.async_release()
    assert http.session.closed
