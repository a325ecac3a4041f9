"""One 127.0.0.1 port that answers plain HTTP and TLS, told apart by the first byte.

A Hue bridge is reached at ``http://HOST`` (v1, discovery) and ``https://HOST`` (v2) with
the same HOST string. Tests may only open sockets to 127.0.0.1, so both protocols share one
ephemeral port: a TLS client starts with a handshake record (byte 0x16), an HTTP client
with a method name. Bytes are counted at the HTTP level (TLS framing excluded), in both
directions, for the benchmarks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import contextlib
from dataclasses import dataclass
import socket
import ssl
from typing import Any

from .tls import server_context

TLS_HANDSHAKE = 0x16
FIRST_BYTE_TIMEOUT = 10.0


@dataclass(slots=True)
class ByteCounters:
    """Bytes and connections seen by the listener."""

    bytes_in: int = 0
    bytes_out: int = 0
    connections: int = 0
    tls_connections: int = 0

    def reset(self) -> None:
        """Start counting from zero."""
        self.bytes_in = self.bytes_out = self.connections = self.tls_connections = 0


def server_ssl_context(common_name: str) -> ssl.SSLContext:
    """Build a server TLS context with a self-signed certificate, like a bridge's own."""
    return server_context(common_name, "Philips Hue")


class _CountingTransport:
    """Transport proxy that counts what the HTTP server writes."""

    def __init__(self, inner: asyncio.Transport, counters: ByteCounters) -> None:
        self._inner = inner
        self._counters = counters

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._counters.bytes_out += len(data)
        self._inner.write(data)

    def writelines(self, lines: Iterable[bytes | bytearray | memoryview]) -> None:
        chunks = list(lines)
        self._counters.bytes_out += sum(len(chunk) for chunk in chunks)
        self._inner.writelines(chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _CountingProtocol(asyncio.Protocol):
    """Protocol wrapper that counts what the client sends."""

    def __init__(self, inner: asyncio.Protocol, listener: DualListener) -> None:
        self._inner = inner
        self._listener = listener
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._listener.open_protocols.add(self)
        self._inner.connection_made(
            _CountingTransport(transport, self._listener.counters)  # type: ignore[arg-type]
        )

    def data_received(self, data: bytes) -> None:
        self._listener.counters.bytes_in += len(data)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._listener.open_protocols.discard(self)
        self._inner.connection_lost(exc)


class DualListener:
    """Accept connections on one port; hand each to HTTP or TLS by its first byte."""

    def __init__(
        self,
        protocol_factory: Callable[[], asyncio.Protocol],
        ssl_context: ssl.SSLContext,
    ) -> None:
        """Serve `protocol_factory` (an aiohttp low-level server) on 127.0.0.1."""
        self._factory = protocol_factory
        self._ssl = ssl_context
        self.counters = ByteCounters()
        self.open_protocols: set[_CountingProtocol] = set()
        self.port = 0
        self._sock: socket.socket | None = None
        self._accept_task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def listening(self) -> bool:
        """Return True while connections are accepted."""
        return self._sock is not None

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (port 0: an ephemeral one, kept for restarts)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port or self.port))
        sock.listen(128)
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._accept_task = asyncio.get_running_loop().create_task(self._accept())

    async def stop(self) -> None:
        """Stop listening and drop every open connection (clients see a reset)."""
        if self._accept_task is not None:
            self._accept_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accept_task
            self._accept_task = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for task in list(self._pending):
            task.cancel()
        if self._pending:
            await asyncio.wait(self._pending)
        self.drop_connections()
        await asyncio.sleep(0)

    def drop_connections(self) -> None:
        """Abort every open connection."""
        for protocol in list(self.open_protocols):
            if protocol.transport is not None:
                protocol.transport.abort()

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._sock is not None
        while True:
            conn, _ = await loop.sock_accept(self._sock)
            conn.setblocking(False)
            task = loop.create_task(self._dispatch(conn))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _dispatch(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()

        def _ready() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(conn.fileno(), _ready)
        try:
            async with asyncio.timeout(FIRST_BYTE_TIMEOUT):
                await readable
            first = conn.recv(1, socket.MSG_PEEK)
        except TimeoutError, OSError:
            first = b""
        except asyncio.CancelledError:
            conn.close()
            raise
        finally:
            loop.remove_reader(conn.fileno())
        if not first:
            conn.close()
            return
        tls = first[0] == TLS_HANDSHAKE
        self.counters.connections += 1
        self.counters.tls_connections += tls
        try:
            await loop.connect_accepted_socket(
                lambda: _CountingProtocol(self._factory(), self),
                conn,
                ssl=self._ssl if tls else None,
            )
        except OSError, ssl.SSLError, ConnectionError:
            conn.close()
