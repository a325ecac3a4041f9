"""Bridge requests under the shared retry policy, bounded by the cycle's deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import time

from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from ...const import DOMAIN, SOURCE_HUE
from ...retry import (
    BackoffPolicy,
    FailureKind,
    RetryError,
    RetryEvent,
    RetryStats,
    async_call_with_retry,
)
from .client_v2 import RetryCall
from .const import REQUEST_TIMEOUT
from .errors import classify_hue_error

MIN_ATTEMPT_TIME = 0.05


def deadline_in(seconds: float) -> float:
    """Return the monotonic time `seconds` from now."""
    return time.monotonic() + seconds


def retry_call(
    deadline: float,
    policy: BackoffPolicy,
    stats: RetryStats,
    on_event: Callable[[RetryEvent], None],
) -> RetryCall:
    """Return a caller that runs each request with retries until `deadline`.

    Each attempt is cut off at REQUEST_TIMEOUT or at the deadline, whichever is first,
    so a cycle never overruns its interval even if the bridge stops answering.
    """

    async def call[T](endpoint: str, request: Callable[[], Awaitable[T]]) -> T:
        async def attempt() -> T:
            remaining = deadline - time.monotonic()
            async with asyncio.timeout(
                max(MIN_ATTEMPT_TIME, min(REQUEST_TIMEOUT, remaining))
            ):
                return await request()

        stats.calls += 1
        return await async_call_with_retry(
            attempt,
            source=SOURCE_HUE,
            endpoint=endpoint,
            classify=classify_hue_error,
            policy=policy,
            on_event=on_event,
            deadline=deadline,
        )

    return call


def cycle_error(err: RetryError) -> HomeAssistantError:
    """Return what a failed cycle raises: reauth for a rejected key, else UpdateFailed."""
    if err.failure.kind is FailureKind.AUTH:
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="hue_auth_failed"
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="hue_update_failed",
        translation_placeholders={"reason": err.failure.reason},
    )
