"""One Amazon account: its monitors, when to look for them again, and one poll.

Discovery runs at set-up and then about once a day (two requests: the
account's endpoints, then the monitors' features). It runs sooner, at most
once an hour, when a known monitor is missing from a state reply. Every poll
reads all monitors with one batched request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from homeassistant.util import dt as dt_util

from ...const import LOGGER
from .client import AmazonClient
from .const import DISCOVERY_INTERVAL, REDISCOVERY_MIN_INTERVAL
from .discovery import MonitorInfo, apply_features, parse_monitors
from .errors import AmazonResponseError
from .queries import endpoints_request, features_request, state_request
from .readings import PollResult, poll_result


class AmazonAccount:
    """The monitors of one account, read through `client`."""

    def __init__(
        self, client: AmazonClient, clock: Callable[[], datetime] = dt_util.utcnow
    ) -> None:
        """Start with no monitors known."""
        self.client = client
        self.monitors: list[MonitorInfo] = []
        self.discovered_at: datetime | None = None
        self._clock = clock
        self._rediscover = False
        self._discovery_postponed_until: datetime | None = None
        self.features_unavailable = False

    @property
    def customer_id(self) -> str:
        """Return the account's customer id."""
        return self.client.credentials.customer_id

    def discovery_due(self) -> bool:
        """Return whether the monitors should be looked up (again) now."""
        now = self._clock()
        if self._discovery_postponed_until is not None:
            return now >= self._discovery_postponed_until
        if self.discovered_at is None:
            return True
        age = now - self.discovered_at
        if self._rediscover and age >= REDISCOVERY_MIN_INTERVAL:
            return True
        return age >= DISCOVERY_INTERVAL

    def postpone_discovery(self) -> None:
        """Look for monitors again in an hour (after a failed discovery)."""
        self._discovery_postponed_until = self._clock() + REDISCOVERY_MIN_INTERVAL

    async def async_discover(self) -> list[MonitorInfo]:
        """Find the account's monitors and what each of them measures."""
        monitors = parse_monitors(await self.client.async_graphql(endpoints_request()))
        if monitors:
            ids = [monitor.endpoint_id for monitor in monitors]
            try:
                reply = await self.client.async_graphql(features_request(ids))
                monitors = apply_features(monitors, reply)
                self.features_unavailable = False
            except AmazonResponseError as err:
                # Measurements still map by range instance without the labels.
                if not self.features_unavailable:
                    LOGGER.warning(
                        "Amazon did not list the monitors' features (%s); "
                        "matching measurements by instance only",
                        err.reason,
                    )
                self.features_unavailable = True
        self.monitors = monitors
        self.discovered_at = self._clock()
        self._rediscover = False
        self._discovery_postponed_until = None
        LOGGER.debug("Amazon account has %s air-quality monitor(s)", len(monitors))
        return monitors

    async def async_poll(self) -> PollResult:
        """Read every monitor's state with one request."""
        if not self.monitors:
            return PollResult()
        ids = [monitor.endpoint_id for monitor in self.monitors]
        reply = await self.client.async_graphql(state_request(ids))
        result = poll_result(self.monitors, self.customer_id, reply, self._clock())
        if any(key.endswith(":endpoint") for key in result.problems):
            self._rediscover = True
        return result
