"""The Amazon account's coordinator: one poll, its failures, and the history store.

Failures are handled by kind (see `errors.py`):

- auth (401/403/407, sign-in redirect): one refresh of the session cookies,
  then the read again; if Amazon still refuses, `ConfigEntryAuthFailed`
  (reauth), a repair issue and the `home_monitor_login_expired` event;
- rate limited (429, GraphQL too-many-requests): no retry in the cycle, the
  next one waits longer each time (`UpdateFailed(retry_after=...)`);
- transient (5xx, timeouts, connection errors): retried with backoff inside
  the cycle, then `UpdateFailed`;
- malformed replies: `UpdateFailed` (all entities unavailable), while a bad
  property or monitor only makes its own entities unavailable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import time
from typing import TYPE_CHECKING, Any, ClassVar, override

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from ...const import CONF_POLL_INTERVAL, DOMAIN, LOGGER, SOURCE_AMAZON
from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator, SourceDevice
from ...retry import (
    CYCLE_SHARE,
    BackoffPolicy,
    Failure,
    FailureKind,
    RetryError,
    async_call_with_retry,
)
from .account import AmazonAccount
from .const import CONF_LOGIN_DATA, DEFAULT_POLL_INTERVAL
from .errors import classify
from .login_expiry import async_login_expired, async_login_works
from .problems import ProblemLog
from .readings import PollResult

if TYPE_CHECKING:
    from ...store import HistoryStore

FAILURE_KEYS = {
    FailureKind.TRANSIENT: "amazon_unreachable",
    FailureKind.RATE_LIMITED: "amazon_rate_limited",
    FailureKind.PERMANENT: "amazon_bad_reply",
}


class AmazonCoordinator(HomeMonitorCoordinator):
    """Polls one Amazon account's air-quality monitors."""

    source: ClassVar[str] = SOURCE_AMAZON
    policy: ClassVar[BackoffPolicy] = BackoffPolicy(
        attempts=3,
        base_delay=2.0,
        max_delay=20.0,
        rate_limit_base=600.0,
        rate_limit_max=3600.0,
    )
    remove_stale_devices: ClassVar[bool] = True

    def __init__(
        self,
        hass: HomeAssistant,
        entry: HomeMonitorConfigEntry,
        store: HistoryStore,
        account: AmazonAccount,
    ) -> None:
        """Poll `account` at the entry's interval."""
        seconds = entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
        super().__init__(hass, entry, store, update_interval=timedelta(seconds=seconds))
        self.account = account
        self.rate_limited_until: datetime | None = None
        self._problems = ProblemLog(LOGGER)

    @override
    async def _async_poll(self) -> dict[str, SourceDevice]:
        """Read every monitor once; map failures to HA's exceptions."""
        deadline = time.monotonic() + self._interval() * CYCLE_SHARE
        try:
            result = await self._read(deadline)
        except RetryError as err:
            if err.failure.kind is not FailureKind.AUTH:
                raise self._update_failed(err.failure) from None
            result = await self._read_after_refresh(err.failure, deadline)
        self.rate_limited_until = None
        async_login_works(self.hass, self.config_entry)
        self._problems.update(result.problems)
        self.mirror(result.readings, result.devices.values())
        return result.devices

    async def _read(self, deadline: float) -> PollResult:
        if self.account.discovery_due():
            try:
                await self._call("discovery", self.account.async_discover, deadline)
            except RetryError as err:
                if not self.account.monitors or err.failure.kind in (
                    FailureKind.AUTH,
                    FailureKind.RATE_LIMITED,
                ):
                    raise
                # Keep reading the monitors already known; look again in an hour.
                self.account.postpone_discovery()
                LOGGER.info(
                    "Could not look up the Amazon account's monitors (%s); "
                    "reading the %s known ones",
                    err.failure.reason,
                    len(self.account.monitors),
                )
        return await self._call("state", self.account.async_poll, deadline)

    async def _read_after_refresh(
        self, failure: Failure, deadline: float
    ) -> PollResult:
        LOGGER.debug("Amazon refused the session (%s); refreshing it", failure.reason)
        try:
            credentials = await self._call(
                "token", self.account.client.async_refresh_session, deadline
            )
        except RetryError as err:
            if err.failure.kind is FailureKind.AUTH:
                raise self._auth_failed(err.failure) from None
            raise self._update_failed(err.failure) from None
        self.hass.config_entries.async_update_entry(
            self.config_entry,
            data={
                **self.config_entry.data,
                CONF_LOGIN_DATA: dict(credentials.login_data),
            },
        )
        try:
            return await self._read(deadline)
        except RetryError as err:
            if err.failure.kind is FailureKind.AUTH:
                raise self._auth_failed(err.failure) from None
            raise self._update_failed(err.failure) from None

    async def _call[T](
        self, endpoint: str, call: Callable[[], Awaitable[T]], deadline: float
    ) -> T:
        self.retry_stats.calls += 1
        return await async_call_with_retry(
            call,
            source=SOURCE_AMAZON,
            endpoint=endpoint,
            classify=classify,
            policy=self.policy,
            on_event=self.record_retry,
            deadline=deadline,
        )

    def _interval(self) -> float:
        return (
            self.update_interval or timedelta(seconds=DEFAULT_POLL_INTERVAL)
        ).total_seconds()

    def _auth_failed(self, failure: Failure) -> ConfigEntryAuthFailed:
        async_login_expired(self.hass, self.config_entry, failure.reason)
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="amazon_login_expired",
            translation_placeholders={"account": self.config_entry.title},
        )

    def _update_failed(self, failure: Failure) -> UpdateFailed:
        retry_after: float | None = None
        placeholders = {"reason": failure.reason}
        if failure.kind is FailureKind.RATE_LIMITED:
            hits = max(1, self.retry_stats.consecutive_rate_limits)
            retry_after = max(
                self._interval(),
                self.policy.rate_limit_delay(hits, failure.retry_after),
            )
            self.rate_limited_until = dt_util.utcnow() + timedelta(seconds=retry_after)
            placeholders["delay"] = str(round(retry_after))
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=FAILURE_KEYS.get(failure.kind, "amazon_bad_reply"),
            translation_placeholders=placeholders,
            retry_after=retry_after,
        )

    @override
    def source_diagnostics(self) -> dict[str, Any]:
        """Return the account's polling state, without credentials."""
        traffic = self.account.client.traffic
        return {
            "domain": self.account.client.credentials.domain,
            "monitors": len(self.account.monitors),
            "discovered_at": (
                self.account.discovered_at.isoformat()
                if self.account.discovered_at
                else None
            ),
            "features_unavailable": self.account.features_unavailable,
            "rate_limited_until": (
                self.rate_limited_until.isoformat() if self.rate_limited_until else None
            ),
            "open_problems": self._problems.open_count,
            "requests": traffic.requests,
            "bytes_sent": traffic.bytes_sent,
            "bytes_received": traffic.bytes_received,
        }

    @override
    async def async_shutdown(self) -> None:
        """Stop polling and release the account's session."""
        await super().async_shutdown()
        await self.account.client.async_close()
