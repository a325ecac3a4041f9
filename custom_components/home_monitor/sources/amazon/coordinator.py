"""The Amazon account's coordinator: discovery, one poll, failures, login expiry.

Discovery runs at set-up and then about once a day (two requests: the
account's endpoints, then the monitors' features), sooner (at most once an
hour) when a known monitor is missing from a state reply. Every poll reads all
monitors with one batched request and hands every value to `mirror`.

Failures are handled by kind (see `classify`):

- auth (401/403/407, a sign-in redirect or page, an authentication error in a
  GraphQL reply): one refresh of the session cookies, then the read again; if
  Amazon still refuses, `ConfigEntryAuthFailed` (reauth), a fixable repair
  issue and the `home_monitor_login_expired` event (entry id, account title and
  a short reason, never a credential), all cleared by the next good poll;
- rate limited (429, GraphQL too-many-requests): no retry in the cycle, the
  next one waits longer each time (`UpdateFailed(retry_after=...)`);
- transient (5xx, timeouts, connection errors, other redirects): retried with
  backoff inside the cycle, then `UpdateFailed`;
- malformed replies: `UpdateFailed` (all entities unavailable), while a bad
  property or monitor only makes its own entities unavailable (logged once
  while it lasts, and once when it clears).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
import time
from typing import TYPE_CHECKING, Any, ClassVar, override

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
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
from . import (
    CONF_LOGIN_DATA,
    DEFAULT_POLL_INTERVAL,
    DISCOVERY_INTERVAL,
    EVENT_LOGIN_EXPIRED,
    ISSUE_LOGIN_EXPIRED,
    REDISCOVERY_MIN_INTERVAL,
    AmazonResponseError,
    classify,
)
from .client import AmazonClient, endpoints_request, features_request, state_request
from .parsing import (
    MonitorInfo,
    PollResult,
    apply_features,
    parse_monitors,
    poll_result,
)

if TYPE_CHECKING:
    from ...store import HistoryStore

FAILURE_KEYS = {
    FailureKind.TRANSIENT: "amazon_unreachable",
    FailureKind.RATE_LIMITED: "amazon_rate_limited",
    FailureKind.PERMANENT: "amazon_bad_reply",
}


async def async_discover(client: AmazonClient) -> tuple[list[MonitorInfo], str | None]:
    """Return the account's monitors, and why their features are missing, if they are."""
    monitors = parse_monitors(await client.async_graphql(endpoints_request()))
    if not monitors:
        return monitors, None
    ids = [monitor.endpoint_id for monitor in monitors]
    try:
        reply = await client.async_graphql(features_request(ids))
        return apply_features(monitors, reply), None
    except AmazonResponseError as err:
        return monitors, err.reason


async def async_read_states(
    client: AmazonClient, monitors: list[MonitorInfo], now: datetime
) -> PollResult:
    """Return the snapshot and readings of `monitors`, read with one request."""
    if not monitors:
        return PollResult()
    reply = await client.async_graphql(
        state_request([monitor.endpoint_id for monitor in monitors])
    )
    return poll_result(monitors, client.credentials.customer_id, reply, now)


def issue_id(entry: ConfigEntry) -> str:
    """Return the repair issue id of an entry's expired login."""
    return f"{ISSUE_LOGIN_EXPIRED}_{entry.entry_id}"


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
        client: AmazonClient,
        clock: Callable[[], datetime] = dt_util.utcnow,
    ) -> None:
        """Poll the account behind `client` at the entry's interval."""
        seconds = entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
        super().__init__(hass, entry, store, update_interval=timedelta(seconds=seconds))
        self.client = client
        self.monitors: list[MonitorInfo] = []
        self.discovered_at: datetime | None = None
        self.features_unavailable = False
        self.rate_limited_until: datetime | None = None
        self._clock = clock
        self._rediscover = False
        self._discovery_postponed_until: datetime | None = None
        # Problem key -> message, of the problems logged and not yet cleared.
        self._problems: dict[str, str] = {}

    # -- the update path -------------------------------------------------------------

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
        self._async_login_works()
        self._log_problems(result.problems)
        self.mirror(result.readings, result.devices.values())
        return result.devices

    async def _read(self, deadline: float) -> PollResult:
        if self.discovery_due():
            try:
                await self._call("discovery", self.async_discover, deadline)
            except RetryError as err:
                if not self.monitors or err.failure.kind in (
                    FailureKind.AUTH,
                    FailureKind.RATE_LIMITED,
                ):
                    raise
                # Keep reading the monitors already known; look again in an hour.
                self._discovery_postponed_until = (
                    self._clock() + REDISCOVERY_MIN_INTERVAL
                )
                LOGGER.info(
                    "Could not look up the Amazon account's monitors (%s); "
                    "reading the %s known ones",
                    err.failure.reason,
                    len(self.monitors),
                )
        return await self._call("state", self.async_read_states, deadline)

    async def _read_after_refresh(
        self, failure: Failure, deadline: float
    ) -> PollResult:
        LOGGER.debug("Amazon refused the session (%s); refreshing it", failure.reason)
        try:
            credentials = await self._call(
                "token", self.client.async_refresh_session, deadline
            )
            self.hass.config_entries.async_update_entry(
                self.config_entry,
                data={
                    **self.config_entry.data,
                    CONF_LOGIN_DATA: dict(credentials.login_data),
                },
            )
            return await self._read(deadline)
        except RetryError as err:
            if err.failure.kind is FailureKind.AUTH:
                raise self._auth_failed(err.failure) from None
            raise self._update_failed(err.failure) from None

    async def _call[T](
        self, endpoint: str, call: Callable[[], Awaitable[T]], deadline: float
    ) -> T:
        return await async_call_with_retry(
            call,
            source=SOURCE_AMAZON,
            endpoint=endpoint,
            classify=classify,
            policy=self.policy,
            on_event=self.record_retry,
            deadline=deadline,
            stats=self.retry_stats,
        )

    # -- the account's monitors ------------------------------------------------------

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

    async def async_discover(self) -> list[MonitorInfo]:
        """Find the account's monitors and what each of them measures."""
        monitors, missing = await async_discover(self.client)
        if missing is not None and not self.features_unavailable:
            # Measurements still map by range instance without the labels.
            LOGGER.warning(
                "Amazon did not list the monitors' features (%s); "
                "matching measurements by instance only",
                missing,
            )
        self.features_unavailable = missing is not None
        self.monitors = monitors
        self.discovered_at = self._clock()
        self._rediscover = False
        self._discovery_postponed_until = None
        LOGGER.debug("Amazon account has %s air-quality monitor(s)", len(monitors))
        return monitors

    async def async_read_states(self) -> PollResult:
        """Read every known monitor's state with one request."""
        result = await async_read_states(self.client, self.monitors, self._clock())
        if any(key.endswith(":endpoint") for key in result.problems):
            self._rediscover = True
        return result

    # -- failures, problems and the expired login --------------------------------------

    def _interval(self) -> float:
        return (
            self.update_interval or timedelta(seconds=DEFAULT_POLL_INTERVAL)
        ).total_seconds()

    def _log_problems(self, problems: Mapping[str, str]) -> None:
        """Log new problems as warnings and cleared ones at info, each once."""
        for key, message in problems.items():
            if key not in self._problems:
                LOGGER.warning("%s", message)
        for key, message in self._problems.items():
            if key not in problems:
                LOGGER.info("Resolved: %s", message)
        self._problems = dict(problems)

    def _auth_failed(self, failure: Failure) -> ConfigEntryAuthFailed:
        self._async_login_expired(failure.reason)
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

    @callback
    def _async_login_expired(self, reason: str) -> None:
        """Open the repair issue and fire the event (once per expiry)."""
        entry = self.config_entry
        if ir.async_get(self.hass).async_get_issue(DOMAIN, issue_id(entry)):
            return
        LOGGER.warning(
            "The Amazon login of %s expired (%s); sign in again to resume readings",
            entry.title,
            reason,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(entry),
            data={"entry_id": entry.entry_id},
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_LOGIN_EXPIRED,
            translation_placeholders={"account": entry.title},
        )
        self.hass.bus.async_fire(
            EVENT_LOGIN_EXPIRED,
            {
                "entry_id": entry.entry_id,
                "source": SOURCE_AMAZON,
                "account": entry.title,
                "reason": reason,
            },
        )

    @callback
    def _async_login_works(self) -> None:
        """Clear the issue and any unfinished reauth flow after a good poll."""
        entry = self.config_entry
        if ir.async_get(self.hass).async_get_issue(DOMAIN, issue_id(entry)):
            LOGGER.info("The Amazon login of %s works again", entry.title)
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(entry))
        for flow in entry.async_get_active_flows(self.hass, {SOURCE_REAUTH}):
            self.hass.config_entries.flow.async_abort(flow["flow_id"])

    @override
    def source_diagnostics(self) -> dict[str, Any]:
        """Return the account's polling state: no credential, person or device id."""
        return {
            "domain": self.client.credentials.domain,
            "monitors": len(self.monitors),
            "discovered_at": (
                self.discovered_at.isoformat() if self.discovered_at else None
            ),
            "features_unavailable": self.features_unavailable,
            "rate_limited_until": (
                self.rate_limited_until.isoformat() if self.rate_limited_until else None
            ),
            "open_problems": len(self._problems),
            **self.client.traffic,
        }

    @override
    async def async_shutdown(self) -> None:
        """Stop polling and release the account's session."""
        await super().async_shutdown()
        await self.client.async_close()
