"""The HTTP session the Hue source talks to a bridge with.

aiohue retries a 503 or 429 up to 25 times with about 81 s of sleeps before it gives up.
A middleware turns those statuses into an immediate error, so the shared retry policy
(three attempts, bounded by the cycle) decides instead; it also makes an event stream
answered with an error status fail, as aiohue's reader expects. The same session counts requests
and payload bytes, including the event stream's, for the measurements. Errors it raises
carry a redacted URL and no headers, so an app key cannot leak through them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .const import REQUEST_TIMEOUT

FAIL_FAST_STATUSES = frozenset({429, 503})
EVENTSTREAM_PATH = "/eventstream/clip/v2"


def redact_url(url: URL) -> URL:
    """Return `url` without a v1 app key (`/api/<key>/...`)."""
    parts = url.path.split("/")
    if len(parts) > 2 and parts[1] == "api" and parts[2] and parts[2] != "config":
        parts[2] = "**REDACTED**"
        return url.with_path("/".join(parts), encoded=False).with_query(None)
    return url.with_query(None)


@dataclass(slots=True)
class TrafficCounter:
    """Requests and response payload bytes, since the session was made."""

    requests: int = 0
    payload_bytes: int = 0
    _stream: list[aiohttp.StreamReader] = field(default_factory=list)
    _stream_done: int = 0

    @property
    def stream_bytes(self) -> int:
        """Return the bytes read from event streams so far."""
        return self._stream_done + sum(s.total_bytes for s in self._stream)

    @property
    def total_bytes(self) -> int:
        """Return every payload byte received (requests and streams)."""
        return self.payload_bytes + self.stream_bytes

    def track_stream(self, content: aiohttp.StreamReader) -> None:
        """Count an event stream's bytes as they arrive."""
        self._stream_done += sum(s.total_bytes for s in self._stream)
        self._stream = [content]


def _make_trace(counter: TrafficCounter) -> aiohttp.TraceConfig:
    async def on_request_end(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
    ) -> None:
        counter.requests += 1

    async def on_chunk(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
    ) -> None:
        counter.payload_bytes += len(params.chunk)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    trace.on_response_chunk_received.append(on_chunk)
    return trace


def _make_middleware(counter: TrafficCounter) -> Any:
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

    return middleware


def session_options(counter: TrafficCounter) -> dict[str, Any]:
    """Return the ClientSession options that count into `counter` and fail fast."""
    return {
        "middlewares": (_make_middleware(counter),),
        "trace_configs": [_make_trace(counter)],
    }


def create_session(counter: TrafficCounter) -> aiohttp.ClientSession:
    """Return a stand-alone session (the integration uses Home Assistant's helper).

    At most 3 connections: the bridge refuses more.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit_per_host=3),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT),
        **session_options(counter),
    )
