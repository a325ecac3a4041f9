"""The shared retry policy: classification, backoff, bounds and bookkeeping."""

import asyncio
from collections.abc import Awaitable, Callable

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


async def _run_with_stats(
    call: Calls, stats: RetryStats, policy: BackoffPolicy = DEFAULT_POLICY
) -> tuple[str | RetryError, list[RetryEvent], list[float]]:
    """Run `call` as a coordinator does: its events go to the source's stats."""
    events: list[RetryEvent] = []

    def on_event(event: RetryEvent) -> None:
        events.append(event)
        stats.record(event)

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
            on_event=on_event,
            sleep=sleep,
            stats=stats,
        )
    except RetryError as err:
        result = err
    return result, events, sleeps


async def test_after_a_call_failed_for_good_the_next_makes_one_attempt() -> None:
    stats = RetryStats()
    first = Calls(*(TimeoutError() for _ in range(3)))
    result, _, sleeps = await _run_with_stats(first, stats)
    assert isinstance(result, RetryError)
    assert first.count == 3
    assert len(sleeps) == 2
    assert stats.probing

    probe = Calls(TimeoutError(), TimeoutError())
    result, events, sleeps = await _run_with_stats(probe, stats)
    assert isinstance(result, RetryError)
    assert result.attempts == 1
    assert probe.count == 1
    assert sleeps == []
    # The failed probe is still recorded, for the store and the health checks.
    assert [(e.attempt, e.outcome) for e in events] == [(1, RetryOutcome.EXHAUSTED)]
    assert stats.probing
    assert stats.exhausted == 2


async def test_an_answer_ends_probing_and_brings_the_retries_back() -> None:
    stats = RetryStats()
    await _run_with_stats(Calls(*(TimeoutError() for _ in range(3))), stats)
    assert stats.probing

    result, events, _ = await _run_with_stats(Calls(), stats)
    assert result == "done"
    assert events == []
    assert not stats.probing

    call = Calls(TimeoutError(), TimeoutError())
    result, _, sleeps = await _run_with_stats(call, stats)
    assert result == "done"
    assert call.count == 3
    assert len(sleeps) == 2


async def test_a_good_update_ends_probing() -> None:
    stats = RetryStats()
    await _run_with_stats(Calls(*(TimeoutError() for _ in range(3))), stats)
    assert stats.probing
    stats.record_success()
    assert not stats.probing

    call = Calls(TimeoutError())
    result, _, sleeps = await _run_with_stats(call, stats)
    assert result == "done"
    assert call.count == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    "error", [_response_error(401), _response_error(404), _response_error(429)]
)
async def test_failures_that_are_never_retried_do_not_start_probing(
    error: BaseException,
) -> None:
    stats = RetryStats()
    await _run_with_stats(Calls(error), stats)
    assert not stats.probing

    call = Calls(TimeoutError())
    result, _, _ = await _run_with_stats(call, stats)
    assert result == "done"
    assert call.count == 2


async def test_without_stats_a_failed_call_does_not_shorten_the_next() -> None:
    await _run(Calls(*(TimeoutError() for _ in range(3))))
    call = Calls(TimeoutError(), TimeoutError())
    result, _, sleeps = await _run(call)
    assert result == "done"
    assert call.count == 3
    assert len(sleeps) == 2


async def test_concurrent_calls_keep_their_own_attempts() -> None:
    """A call already retrying keeps its attempts when another one fails for good."""
    stats = RetryStats()
    gate = asyncio.Event()

    async def wait_for_gate(delay: float) -> None:
        await gate.wait()

    async def no_wait(delay: float) -> None:
        return

    async def run(
        call: Calls, sleep: Callable[[float], Awaitable[None]]
    ) -> str | RetryError:
        try:
            return await async_call_with_retry(
                call,
                source="test",
                endpoint="/things",
                classify=_classify,
                policy=DEFAULT_POLICY,
                on_event=stats.record,
                sleep=sleep,
                stats=stats,
            )
        except RetryError as err:
            return err

    retrying = Calls(TimeoutError(), TimeoutError())
    retrying_task = asyncio.create_task(run(retrying, wait_for_gate))
    await asyncio.sleep(0)
    assert retrying.count == 1  # failed once, waiting to retry

    failing = Calls(*(_response_error(503) for _ in range(3)))
    assert isinstance(await run(failing, no_wait), RetryError)
    assert failing.count == 3
    assert stats.probing

    gate.set()
    assert await retrying_task == "done"
    assert retrying.count == 3
    assert not stats.probing
