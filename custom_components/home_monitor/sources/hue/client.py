"""Talking to a bridge: the session, v1 `/sensors`, v2 resources and the event stream.

- The session: aiohue retries a 503 or 429 up to 25 times with about 81 s of sleeps. A
  middleware turns those statuses into an immediate error, so the shared retry policy
  (bounded by the cycle) decides instead; it also makes an event stream answered with an
  error status fail, as aiohue's reader expects. The session counts requests and payload
  bytes, the stream's included. Its errors carry a redacted URL and no headers, so an app
  key cannot leak through them.
- v1: only `/api/<key>/sensors` is read, never the whole configuration.
- v2: only the resource types the sensors need are read, as raw JSON. aiohue's event
  stream keeps the connection (reconnects, `last-event-id`, keep-alive); its lines are
  parsed here instead of by aiohue, so a line that is not a valid event is dropped and
  counted without a traceback, and resources reach the coordinator as the bridge sent
  them. Only geofence clients go on to aiohue's controller, for its keep-alive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import copy
import json
import time
from types import SimpleNamespace
from typing import Any, Final, Protocol, override

import aiohttp
from aiohue import (
    BridgeBusy,
    HueBridgeV1,
    HueBridgeV2,
    LinkButtonNotPressed,
    Unauthorized,
)
from aiohue.errors import AiohueException
from aiohue.util import dataclass_from_dict, update_dataclass
from aiohue.v2.controllers.events import EventStream, EventType
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ...const import DOMAIN, LOGGER, SOURCE_HUE
from ...retry import (
    BackoffPolicy,
    Failure,
    FailureKind,
    RetryError,
    RetryEvent,
    RetryStats,
    async_call_with_retry,
    classify_network_error,
)
from . import REQUEST_TIMEOUT
from .measurements import TrafficCounter

FAIL_FAST_STATUSES = frozenset({429, 503})
EVENTSTREAM_PATH = "/eventstream/clip/v2"
MIN_ATTEMPT_TIME = 0.05
MALFORMED_REPORT_INTERVAL = 3600.0  # seconds between two warnings of dropped lines
RESOURCE_EVENTS = frozenset(("add", "update", "delete"))
CONNECTION_EVENTS = (EventType.CONNECTED, EventType.DISCONNECTED, EventType.RECONNECTED)
KEEPALIVE_TYPE = "geofence_client"
type ResourceCallback = Callable[[EventType, dict[str, Any]], None]
type StreamEndedCallback = Callable[[BaseException | None], None]


class MalformedResponseError(Exception):
    """The bridge answered with something that is not the expected JSON shape."""


# -- session ------------------------------------------------------------------------
def redact_url(url: URL) -> URL:
    """Return `url` without a v1 app key (`/api/<key>/...`)."""
    parts = url.path.split("/")
    if len(parts) > 2 and parts[1] == "api" and parts[2] and parts[2] != "config":
        parts[2] = "**REDACTED**"
        return url.with_path("/".join(parts), encoded=False).with_query(None)
    return url.with_query(None)


def session_options(counter: TrafficCounter) -> dict[str, Any]:
    """Return the ClientSession options that count into `counter` and fail fast."""

    async def on_request_end(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
    ) -> None:
        counter.requests += 1

    async def on_chunk(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
    ) -> None:
        counter.payload_bytes += len(params.chunk)

    async def middleware(
        request: aiohttp.ClientRequest, handler: Any
    ) -> aiohttp.ClientResponse:
        response: aiohttp.ClientResponse = await handler(request)
        stream = response.url.path == EVENTSTREAM_PATH
        # aiohue reads an event stream whatever its status; an error status must raise
        # so that its reader backs off (5xx) or stops (403, 404) instead of reconnecting
        # every 2 s.
        if response.status in FAIL_FAST_STATUSES or (stream and response.status != 200):
            response.release()
            url = redact_url(response.url)
            info = aiohttp.RequestInfo(
                url, request.method, CIMultiDictProxy(CIMultiDict()), url
            )
            raise aiohttp.ClientResponseError(
                info, (), status=response.status, message=response.reason or ""
            )
        if stream:
            counter.track_stream(response.content)
        return response

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    trace.on_response_chunk_received.append(on_chunk)
    return {"middlewares": (middleware,), "trace_configs": [trace]}


def create_session(counter: TrafficCounter) -> aiohttp.ClientSession:
    """Return a stand-alone session (the integration uses Home Assistant's helper).

    At most 3 connections: the bridge refuses more.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit_per_host=3),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT),
        **session_options(counter),
    )


# -- requests under the retry policy --------------------------------------------------
# Transient failures (refused/reset, timeouts, 503, 429) are retried inside a cycle.
HUE_POLICY: Final[BackoffPolicy] = BackoffPolicy(
    attempts=3, base_delay=0.5, factor=2.0, max_delay=4.0, jitter=0.25
)


def classify_hue_error(err: BaseException) -> Failure:
    """Classify a failure of one bridge request.

    A Hue bridge answers 429 when more than a few requests run at once and 503 when it
    is busy; both clear within seconds, so both are transient here (unlike a cloud
    rate limit). Reasons never carry the message of the error, which for v1 requests
    can hold the URL and so the app key.
    """
    if isinstance(err, (Unauthorized, LinkButtonNotPressed)):
        return Failure(FailureKind.AUTH, "app key rejected")
    if isinstance(err, BridgeBusy):
        return Failure(FailureKind.TRANSIENT, "bridge busy")
    if isinstance(
        err, (aiohttp.ContentTypeError, json.JSONDecodeError, MalformedResponseError)
    ):
        return Failure(FailureKind.TRANSIENT, "malformed response")
    if isinstance(err, aiohttp.ClientResponseError) and err.status == 429:
        return Failure(FailureKind.TRANSIENT, "HTTP 429")
    if (shared := classify_network_error(err)) is not None:
        return shared
    if isinstance(err, AiohueException):
        return Failure(FailureKind.PERMANENT, "bridge error")
    if isinstance(err, (LookupError, TypeError, ValueError, AttributeError)):
        return Failure(FailureKind.TRANSIENT, "malformed response")
    return Failure(FailureKind.PERMANENT, type(err).__name__)


class RetryCall(Protocol):
    """Runs one bridge request under the retry policy."""

    def __call__[T](
        self, endpoint: str, request: Callable[[], Awaitable[T]]
    ) -> Awaitable[T]:
        """Run `request`, named `endpoint` in retry events."""


def retry_call(
    seconds: float,
    policy: BackoffPolicy,
    stats: RetryStats,
    on_event: Callable[[RetryEvent], None],
) -> RetryCall:
    """Return a caller that runs each request with retries for at most `seconds`.

    Each attempt is cut off at REQUEST_TIMEOUT or at the deadline, whichever is first,
    so a cycle never overruns its interval even if the bridge stops answering.
    """
    deadline = time.monotonic() + seconds

    async def call[T](endpoint: str, request: Callable[[], Awaitable[T]]) -> T:
        async def attempt() -> T:
            remaining = deadline - time.monotonic()
            async with asyncio.timeout(
                max(MIN_ATTEMPT_TIME, min(REQUEST_TIMEOUT, remaining))
            ):
                return await request()

        return await async_call_with_retry(
            attempt,
            source=SOURCE_HUE,
            endpoint=endpoint,
            classify=classify_hue_error,
            policy=policy,
            on_event=on_event,
            deadline=deadline,
            stats=stats,
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


async def fetch_v1_sensors(bridge: HueBridgeV1) -> dict[str, Any]:
    """Return `/api/<key>/sensors` of a v1 bridge (a dict keyed by v1 sensor id)."""
    data = await bridge.request("get", "sensors")
    if not isinstance(data, dict):
        raise MalformedResponseError("sensors is not an object")
    return data


# -- v2 -----------------------------------------------------------------------------
def resource_path(rtype: str) -> str:
    """Return the CLIP v2 path of a resource type."""
    return f"clip/v2/resource/{rtype}"


class CheckedEventStream(EventStream):  # type: ignore[misc]
    """aiohue's event stream, with its lines checked here and its tasks watched."""

    def __init__(
        self,
        bridge: HueBridgeV2,
        name: str,
        on_resource: ResourceCallback,
        on_ended: StreamEndedCallback,
    ) -> None:
        """Wrap aiohue's stream for `bridge` (called `name` in the log)."""
        super().__init__(bridge)
        self._name = name
        self._on_resource = on_resource
        self._on_ended = on_ended
        self.malformed_events = 0
        self._unreported = 0
        self._report_after = 0.0

    @override
    async def initialize(self) -> None:
        """Start aiohue's reader, processor and keep-alive, and watch them."""
        await super().initialize()
        for task in self._bg_tasks:
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled():
            self._on_ended(task.exception())

    # aiohue's reader hands every received line to its private parser; this one takes
    # its place.
    def _EventStream__parse_message(self, msg: bytes) -> None:  # noqa: N802
        """Take one line of the stream: an event id, a data line, or something else."""
        try:
            key, _, value = msg.decode().strip().partition(":")
        except UnicodeDecodeError:
            self._malformed()
            return
        if key == "id":
            self._last_event_id = value
            return
        if key != "data":
            return  # empty lines and comments separate the events
        try:
            containers = json.loads(value)
        except ValueError:
            self._malformed()
            return
        for container in containers if isinstance(containers, list) else [None]:
            if (
                not isinstance(container, dict)
                or container.get("type") not in RESOURCE_EVENTS
                or not isinstance(items := container.get("data"), list)
            ):
                self._malformed()
                continue
            for item in items:
                self._resource(EventType(container["type"]), item)

    def _resource(self, event_type: EventType, item: Any) -> None:
        if (
            not isinstance(item, dict)
            or not isinstance(rid := item.get("id"), str)
            or not isinstance(rtype := item.get("type"), str)
        ):
            self._malformed()
        elif rtype != KEEPALIVE_TYPE:
            self._on_resource(event_type, item)
        elif self.valid_keepalive_client(event_type, rid, item):
            self.emit(event_type, item)
        else:
            self._malformed()

    def valid_keepalive_client(
        self, event_type: EventType, rid: str, item: Any
    ) -> bool:
        """Return whether aiohue's geofence controller can take this event."""
        controller = self._bridge.sensors.geofence_client
        try:
            if event_type is EventType.RESOURCE_ADDED:
                dataclass_from_dict(controller.item_cls, item)
            elif (current := controller.get(rid)) is not None:
                update_dataclass(copy.deepcopy(current), item)
        except KeyError, TypeError, ValueError, AttributeError:
            return False
        return True

    def _malformed(self) -> None:
        """Count a dropped line; warn once, then at most once an hour with the count."""
        self.malformed_events += 1
        self._unreported += 1
        if (now := time.monotonic()) >= self._report_after:
            LOGGER.warning(
                "Ignored %s malformed event(s) from the event stream of Hue bridge %s "
                "(reported at most once an hour)",
                self._unreported,
                self._name,
            )
            self._unreported = 0
            self._report_after = now + MALFORMED_REPORT_INTERVAL


class CheckedBridgeV2(HueBridgeV2):  # type: ignore[misc]
    """A v2 bridge read as raw resources over our session."""

    def __init__(
        self,
        host: str,
        app_key: str,
        session: aiohttp.ClientSession,
        *,
        name: str,
        on_resource: ResourceCallback,
        on_ended: StreamEndedCallback,
    ) -> None:
        """Talk to `host` with `app_key` over `session`; nothing is requested yet."""
        super().__init__(host, app_key)
        self._websession = session
        self._events = CheckedEventStream(self, name, on_resource, on_ended)
        self._stream_started = False

    async def fetch(self, rtype: str) -> list[dict[str, Any]]:
        """Return every resource of one type."""
        data = await self.request("get", resource_path(rtype))
        if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
            raise MalformedResponseError(f"{rtype} is not a list of resources")
        return data

    async def load_keepalive_clients(self, items: list[dict[str, Any]]) -> None:
        """Give aiohue's keep-alive the geofence clients, so it reuses its own."""
        await self.sensors.geofence_client.initialize(
            [
                item
                for item in items
                if self.events.valid_keepalive_client(
                    EventType.RESOURCE_ADDED, "", item
                )
            ]
        )

    async def start_stream(self, on_connection: Callable[..., None]) -> None:
        """Connect the event stream (aiohue reconnects it by itself)."""
        if not self._stream_started:
            self.events.subscribe(on_connection, CONNECTION_EVENTS)
            self._stream_started = True
        await self.events.initialize()

    async def restart_stream(self, on_connection: Callable[..., None]) -> None:
        """Start the stream again after its reader ended."""
        await self.events.stop()
        await self.start_stream(on_connection)
