"""HTTP sessions for talking to Amazon, and the opt-in route to the simulator.

Each sign-in and each account gets its own session, so Amazon's cookies never
land in Home Assistant's shared cookie jar.

Development and tests can send every Amazon request to the simulator
(`tests/simulators/alexa.py`) by setting the environment variable
``HOME_MONITOR_AMAZON_SIMULATOR=127.0.0.1:<port>`` before Home Assistant
starts. Only loopback addresses are accepted, any other value is ignored with
an error, and every session made this way logs a warning, so it cannot route
a production installation anywhere by accident. URLs, cookies and TLS stay as
for Amazon; host names resolve to the simulator, whose throw-away certificate
is not verified (it is on the same machine).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import ip_address
import os
import socket
from typing import Final

from aiohttp import ClientSession, CookieJar, TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_create_clientsession

from ...const import LOGGER
from .redact import NOT_SECRET_COOKIES

SIMULATOR_ENV: Final = "HOME_MONITOR_AMAZON_SIMULATOR"


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


@dataclass(slots=True)
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
