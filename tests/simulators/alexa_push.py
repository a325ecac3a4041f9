"""Amazon's push channel for aioamazondevices 17.x: the AVS directive stream over HTTP/2.

The library keeps one HTTP/2 GET open on ``/v20160207/directives`` (a
``multipart/related`` body that never ends), posts a keep-alive to ``/ping``
every 280 s and an event to ``/v20160207/events`` when the stream starts.
Smart-home changes arrive as parts holding the endpoint's new state. This
server speaks just that, with h2 over TLS (ALPN ``h2``) on 127.0.0.1, checks
the bearer token the simulator issued, counts every request, and can push a
monitor's state or drop every connection (a stream drop).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
import json
import ssl
from typing import Any

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import DataReceived, RequestReceived, StreamEnded, StreamReset

from .alexa_graphql import endpoint_state
from .alexa_state import AlexaState, SimulatedMonitor
from .tls import server_context

BOUNDARY = "------abcde123"
DIRECTIVES = "/v20160207/directives"


def _part(payload: dict[str, Any]) -> bytes:
    return (
        "Content-Type: application/json\r\n\r\n"
        + json.dumps(payload, separators=(",", ":"))
        + f"\r\n--{BOUNDARY}\r\n"
    ).encode()


class _Connection(asyncio.Protocol):
    """One client connection: requests in, headers and data frames out."""

    def __init__(self, server: AvsPushServer) -> None:
        self._server = server
        self._h2 = H2Connection(
            H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self._transport: asyncio.Transport | None = None
        self._requests: dict[int, dict[str, str]] = {}
        self.streams: set[int] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._h2.initiate_connection()
        self._flush()
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        for event in self._h2.receive_data(data):
            if isinstance(event, RequestReceived):
                headers = dict(event.headers)  # type: ignore[arg-type]
                self._requests[event.stream_id] = headers
                if headers.get(":path") == DIRECTIVES:
                    self._open_stream(event.stream_id, headers)
            elif isinstance(event, DataReceived):
                self._h2.acknowledge_received_data(
                    event.flow_controlled_length, event.stream_id
                )
            elif isinstance(event, StreamEnded):
                headers = self._requests.get(event.stream_id, {})
                if headers.get(":path") != DIRECTIVES:
                    self._answer(event.stream_id, headers)
            elif isinstance(event, StreamReset):
                self.streams.discard(event.stream_id)
        self._flush()

    def _authorised(self, headers: dict[str, str]) -> bool:
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        return bearer in self._server.state.access_tokens

    def _open_stream(self, stream_id: int, headers: dict[str, str]) -> None:
        self._server.requests[DIRECTIVES] += 1
        if not self._authorised(headers):
            self._h2.send_headers(stream_id, [(":status", "403")], end_stream=True)
            return
        content_type = f"multipart/related; boundary={BOUNDARY}; type=application/json"
        self._h2.send_headers(
            stream_id, [(":status", "200"), ("content-type", content_type)]
        )
        # The opening boundary: the library checks its AVS site once.
        self._h2.send_data(stream_id, f"--{BOUNDARY}\r\n".encode())
        self.streams.add(stream_id)

    def _answer(self, stream_id: int, headers: dict[str, str]) -> None:
        path = headers.get(":path", "")
        self._server.requests[path] += 1
        status = "204" if self._authorised(headers) else "403"
        self._h2.send_headers(stream_id, [(":status", status)], end_stream=True)

    def push(self, data: bytes) -> None:
        for stream_id in list(self.streams):
            self._h2.send_data(stream_id, data)
        self._flush()

    def drop(self) -> None:
        self.streams.clear()
        if self._transport is not None:
            self._transport.close()

    def _flush(self) -> None:
        if self._transport is not None and (data := self._h2.data_to_send()):
            self._transport.write(data)


class AvsPushServer:
    """The directive stream of the simulated account; `await start()` first."""

    def __init__(self, state: AlexaState) -> None:
        """Serve the account in `state`."""
        self.state = state
        self.connections: set[_Connection] = set()
        self.requests: Counter[str] = Counter()
        self.pushes = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen with TLS (ALPN h2) on `host`:`port`."""
        context = await asyncio.get_running_loop().run_in_executor(None, _h2_context)
        factory: Callable[[], asyncio.Protocol] = lambda: _Connection(self)  # noqa: E731
        self._server = await asyncio.get_running_loop().create_server(
            factory, host, port, ssl=context
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Drop every connection and stop listening."""
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def open_streams(self) -> int:
        """Return how many directive streams are open."""
        return sum(len(c.streams) for c in self.connections)

    def push_state(self, monitor: SimulatedMonitor) -> None:
        """Push a monitor's current state, as Amazon does after it takes a sample."""
        update = {
            "route": "EventBus:AlexaMobile::FDAL",
            "resourceId": "SmartHome",
            "resourceMetadata": {
                "payload": {
                    "entity": {"id": monitor.endpoint_id},
                    "data": endpoint_state(monitor, self.state),
                }
            },
        }
        directive = {
            "directive": {
                "header": {"namespace": "Alexa.Mobile", "name": "RenderingUpdate"},
                "payload": {"renderingUpdates": [update]},
            }
        }
        self.pushes += 1
        for connection in list(self.connections):
            connection.push(_part(directive))

    def drop(self) -> None:
        """Drop every connection, as when the stream breaks."""
        for connection in list(self.connections):
            connection.drop()


def _h2_context() -> ssl.SSLContext:
    context = server_context("amazon push simulator", "Amazon simulator")
    context.set_alpn_protocols(["h2"])
    return context
