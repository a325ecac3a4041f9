"""Retry policy shared by every source: error classes, backoff and bookkeeping.

A source classifies each failure into one of four kinds:

- transient (connection refused/reset, timeouts, 5xx): retried inside the
  cycle with exponential backoff and jitter, bounded by a deadline so a cycle
  never overruns its interval;
- rate limited (429, "too many requests"): never retried inside the cycle;
  the next cycle is pushed back by a delay that grows with each hit;
- auth (rejected credentials or app key): never retried, leads to reauth;
- permanent (anything else we cannot fix by waiting): never retried.

Every retry and every outcome becomes a `RetryEvent`, which the coordinator
counts for the health checks and writes to the store's events table. Events
carry the endpoint and a short reason, never a credential.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import random
import time
from typing import Final

import aiohttp
from homeassistant.util import dt as dt_util

CYCLE_SHARE: Final = 0.8
"""Share of a poll interval one update cycle may spend, retries included."""


class FailureKind(StrEnum):
    """How a failure is handled."""

    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    PERMANENT = "permanent"


class RetryOutcome(StrEnum):
    """What happened after a failed attempt."""

    RETRYING = "retrying"
    RECOVERED = "recovered"
    EXHAUSTED = "exhausted"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified failure. `reason` is short and never holds a secret."""

    kind: FailureKind
    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One step of a retried call, for the health checks and the store."""

    source: str
    endpoint: str
    attempt: int
    reason: str
    outcome: RetryOutcome
    delay: float | None = None


class RetryError(Exception):
    """A call failed for good within this cycle."""

    def __init__(self, failure: Failure, attempts: int) -> None:
        """Keep the final failure and how many attempts were made."""
        super().__init__(f"{failure.reason} after {attempts} attempt(s)")
        self.failure = failure
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with jitter; `attempts` counts the first try."""

    attempts: int = 3
    base_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.25
    rate_limit_base: float = 60.0
    rate_limit_max: float = 3600.0

    def delay(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Return the wait before retry number `retry` (1 for the first retry)."""
        raw = min(self.max_delay, self.base_delay * self.factor ** (retry - 1))
        spread = raw * self.jitter
        return max(0.0, raw - spread + 2 * spread * rand())

    def rate_limit_delay(self, hits: int, retry_after: float | None = None) -> float:
        """Return how long to wait after `hits` consecutive rate-limited cycles."""
        grown = self.rate_limit_base * self.factor ** max(0, hits - 1)
        return min(self.rate_limit_max, max(grown, retry_after or 0.0))


@dataclass(slots=True)
class RetryStats:
    """Counters for one source, read by the health checks and diagnostics."""

    calls: int = 0
    retries: int = 0
    recovered: int = 0
    exhausted: int = 0
    rate_limited: int = 0
    auth_failures: int = 0
    permanent: int = 0
    consecutive_rate_limits: int = 0
    probing: bool = False
    last_failure: str | None = None
    last_failure_at: datetime | None = None
    by_reason: dict[str, int] = field(default_factory=dict)

    def record(self, event: RetryEvent) -> None:
        """Count one retry event."""
        if event.outcome is RetryOutcome.RECOVERED:
            self.recovered += 1
            return
        self.last_failure = f"{event.endpoint}: {event.reason}"
        self.last_failure_at = dt_util.utcnow()
        self.by_reason[event.reason] = self.by_reason.get(event.reason, 0) + 1
        match event.outcome:
            case RetryOutcome.RETRYING:
                self.retries += 1
            case RetryOutcome.EXHAUSTED:
                self.exhausted += 1
                self.probing = True
            case RetryOutcome.RATE_LIMITED:
                self.rate_limited += 1
                self.consecutive_rate_limits += 1
            case RetryOutcome.AUTH:
                self.auth_failures += 1
            case RetryOutcome.PERMANENT:
                self.permanent += 1

    def record_success(self) -> None:
        """End the run of rate-limited cycles and probing: an update succeeded."""
        self.consecutive_rate_limits = 0
        self.probing = False

    def as_dict(self) -> dict[str, object]:
        """Return the counters as plain data."""
        return {
            "calls": self.calls,
            "retries": self.retries,
            "recovered": self.recovered,
            "exhausted": self.exhausted,
            "rate_limited": self.rate_limited,
            "auth_failures": self.auth_failures,
            "permanent": self.permanent,
            "consecutive_rate_limits": self.consecutive_rate_limits,
            "last_failure": self.last_failure,
            "last_failure_at": (
                self.last_failure_at.isoformat() if self.last_failure_at else None
            ),
            "by_reason": dict(self.by_reason),
        }


_TERMINAL_OUTCOME = {
    FailureKind.RATE_LIMITED: RetryOutcome.RATE_LIMITED,
    FailureKind.AUTH: RetryOutcome.AUTH,
    FailureKind.PERMANENT: RetryOutcome.PERMANENT,
}


def classify_network_error(err: BaseException) -> Failure | None:
    """Classify the transport errors both sources share, or return None.

    Reasons name the HTTP status or the error class only: an aiohttp error's
    message can hold the request URL, which may carry an app key.
    """
    if isinstance(err, aiohttp.ClientResponseError):
        status = err.status
        if status == 429:
            return Failure(FailureKind.RATE_LIMITED, "HTTP 429")
        if status in (401, 403, 407):
            return Failure(FailureKind.AUTH, f"HTTP {status}")
        if status >= 500:
            return Failure(FailureKind.TRANSIENT, f"HTTP {status}")
        return Failure(FailureKind.PERMANENT, f"HTTP {status}")
    if isinstance(err, TimeoutError):
        return Failure(FailureKind.TRANSIENT, "timeout")
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return Failure(FailureKind.TRANSIENT, "server disconnected")
    if isinstance(err, aiohttp.ClientConnectorError):
        return Failure(FailureKind.TRANSIENT, "connection refused")
    if isinstance(err, (aiohttp.ClientConnectionError, ConnectionError)):
        return Failure(FailureKind.TRANSIENT, "connection error")
    if isinstance(err, aiohttp.ClientPayloadError):
        return Failure(FailureKind.TRANSIENT, "incomplete response")
    return None


async def async_call_with_retry[T](
    call: Callable[[], Awaitable[T]],
    *,
    source: str,
    endpoint: str,
    classify: Callable[[BaseException], Failure],
    policy: BackoffPolicy,
    on_event: Callable[[RetryEvent], None],
    deadline: float | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    stats: RetryStats | None = None,
) -> T:
    """Run `call`, retrying transient failures under `policy`.

    `deadline` is a `clock()` value; a retry whose wait would pass it is not
    started, so a cycle never overruns its interval. Raises `RetryError` with
    the last failure when the call fails for good.

    With the source's `stats`, the call is counted there, and a call made while
    the source is probing (a call failed for good and no call or update has
    succeeded since) gets one attempt: during an outage each cycle sends one request instead of a full
    round of retries, and the first answer brings the retries back.
    """
    if stats is not None:
        stats.calls += 1
    attempts = 1 if stats is not None and stats.probing else policy.attempts
    attempt = 0
    last: Failure | None = None
    while True:
        attempt += 1
        try:
            result = await call()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - every failure is classified
            failure = classify(err)
        else:
            if stats is not None:
                stats.probing = False
            if last is not None:
                on_event(
                    RetryEvent(
                        source, endpoint, attempt, last.reason, RetryOutcome.RECOVERED
                    )
                )
            return result
        last = failure
        if (outcome := _TERMINAL_OUTCOME.get(failure.kind)) is not None:
            on_event(RetryEvent(source, endpoint, attempt, failure.reason, outcome))
            raise RetryError(failure, attempt)
        wait = policy.delay(attempt)
        if attempt >= attempts or (deadline is not None and clock() + wait > deadline):
            on_event(
                RetryEvent(
                    source, endpoint, attempt, failure.reason, RetryOutcome.EXHAUSTED
                )
            )
            raise RetryError(failure, attempt)
        on_event(
            RetryEvent(
                source, endpoint, attempt, failure.reason, RetryOutcome.RETRYING, wait
            )
        )
        await sleep(wait)
