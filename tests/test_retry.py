"""The shared retry policy: classification, backoff, bounds and bookkeeping."""

from collections.abc import Callable

import aiohttp
import pytest

from custom_components.home_monitor.retry import (
    BackoffPolicy,
    Failure,
    FailureKind,
    RetryError,
    RetryEvent,
    RetryOutcome,
    RetryStats,
    async_call_with_retry,
    classify_network_error,
)


def _classify(err: BaseException) -> Failure:
    return classify_network_error(err) or Failure(FailureKind.PERMANENT, "unknown")


class Calls:
    """A call that fails with the given errors, then returns `done`."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.count = 0

    async def __call__(self) -> str:
        self.count += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


DEFAULT_POLICY = BackoffPolicy()


async def _run(
    call: Calls, policy: BackoffPolicy = DEFAULT_POLICY, **kwargs: object
) -> tuple[str | RetryError, list[RetryEvent], list[float]]:
    events: list[RetryEvent] = []
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    try:
        result: str | RetryError = await async_call_with_retry(
            call,
            source="test",
            endpoint="/things",
            classify=_classify,
            policy=policy,
            on_event=events.append,
            sleep=sleep,
            **kwargs,  # type: ignore[arg-type]
        )
    except RetryError as err:
        result = err
    return result, events, sleeps


def _response_error(status: int) -> aiohttp.ClientResponseError:
    return aiohttp.ClientResponseError(None, (), status=status)  # type: ignore[arg-type]


async def test_success_first_attempt_records_nothing() -> None:
    result, events, sleeps = await _run(Calls())
    assert result == "done"
    assert events == []
    assert sleeps == []


async def test_transient_failure_then_success() -> None:
    call = Calls(TimeoutError(), _response_error(503))
    result, events, sleeps = await _run(call)
    assert result == "done"
    assert call.count == 3
    assert [e.outcome for e in events] == [
        RetryOutcome.RETRYING,
        RetryOutcome.RETRYING,
        RetryOutcome.RECOVERED,
    ]
    assert [e.reason for e in events[:2]] == ["timeout", "HTTP 503"]
    assert len(sleeps) == 2


async def test_exhaustion_after_max_attempts() -> None:
    call = Calls(*(aiohttp.ServerDisconnectedError() for _ in range(5)))
    result, events, sleeps = await _run(call, BackoffPolicy(attempts=3))
    assert isinstance(result, RetryError)
    assert result.attempts == 3
    assert result.failure.kind is FailureKind.TRANSIENT
    assert call.count == 3
    assert events[-1].outcome is RetryOutcome.EXHAUSTED
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("error", "kind", "outcome"),
    [
        (_response_error(401), FailureKind.AUTH, RetryOutcome.AUTH),
        (_response_error(403), FailureKind.AUTH, RetryOutcome.AUTH),
        (_response_error(404), FailureKind.PERMANENT, RetryOutcome.PERMANENT),
        (_response_error(429), FailureKind.RATE_LIMITED, RetryOutcome.RATE_LIMITED),
        (ValueError("bad"), FailureKind.PERMANENT, RetryOutcome.PERMANENT),
    ],
)
async def test_no_retry_for_auth_rate_limit_and_permanent(
    error: BaseException, kind: FailureKind, outcome: RetryOutcome
) -> None:
    call = Calls(error)
    result, events, sleeps = await _run(call)
    assert isinstance(result, RetryError)
    assert result.failure.kind is kind
    assert call.count == 1
    assert sleeps == []
    assert [e.outcome for e in events] == [outcome]


async def test_deadline_stops_retries_that_would_overrun() -> None:
    now = [100.0]
    call = Calls(TimeoutError(), TimeoutError(), TimeoutError())
    policy = BackoffPolicy(attempts=5, base_delay=4.0, jitter=0.0)
    result, events, sleeps = await _run(
        call, policy, deadline=105.0, clock=lambda: now[0]
    )
    # The first wait (4 s) fits before the deadline, the second (8 s) does not.
    assert isinstance(result, RetryError)
    assert sleeps == [4.0]
    assert call.count == 2
    assert events[-1].outcome is RetryOutcome.EXHAUSTED


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = BackoffPolicy(base_delay=1.0, factor=2.0, max_delay=30.0, jitter=0.25)
    lowest: Callable[[], float] = lambda: 0.0  # noqa: E731
    highest: Callable[[], float] = lambda: 1.0  # noqa: E731
    assert [policy.delay(n, lowest) for n in (1, 2, 3)] == [0.75, 1.5, 3.0]
    assert [policy.delay(n, highest) for n in (1, 2, 3)] == [1.25, 2.5, 5.0]
    assert policy.delay(10, highest) == 37.5
    assert policy.delay(10, lowest) == 22.5


def test_rate_limit_delay_grows_and_honours_retry_after() -> None:
    policy = BackoffPolicy(rate_limit_base=60, factor=2, rate_limit_max=600)
    assert [policy.rate_limit_delay(hits) for hits in (1, 2, 3, 4, 5)] == [
        60,
        120,
        240,
        480,
        600,
    ]
    assert policy.rate_limit_delay(1, retry_after=90) == 90


def test_stats_count_each_outcome() -> None:
    stats = RetryStats()
    for outcome in RetryOutcome:
        stats.record(RetryEvent("hue", "/sensors", 1, "HTTP 503", outcome))
    data = stats.as_dict()
    assert data["retries"] == 1
    assert data["recovered"] == 1
    assert data["exhausted"] == 1
    assert data["rate_limited"] == 1
    assert data["auth_failures"] == 1
    assert data["permanent"] == 1
    assert data["by_reason"] == {"HTTP 503": 5}
    assert data["last_failure"] == "/sensors: HTTP 503"


@pytest.mark.parametrize(
    ("error", "kind", "reason"),
    [
        (TimeoutError(), FailureKind.TRANSIENT, "timeout"),
        (
            aiohttp.ServerDisconnectedError(),
            FailureKind.TRANSIENT,
            "server disconnected",
        ),
        (ConnectionResetError(), FailureKind.TRANSIENT, "connection error"),
        (aiohttp.ClientPayloadError(), FailureKind.TRANSIENT, "incomplete response"),
        (_response_error(500), FailureKind.TRANSIENT, "HTTP 500"),
        (_response_error(407), FailureKind.AUTH, "HTTP 407"),
    ],
)
def test_classify_network_error(
    error: BaseException, kind: FailureKind, reason: str
) -> None:
    assert classify_network_error(error) == Failure(kind, reason)


def test_classify_unknown_error_is_left_to_the_source() -> None:
    assert classify_network_error(KeyError("x")) is None
