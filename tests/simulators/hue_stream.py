"""The simulated bridge's CLIP v2 event stream (server-sent events).

Each change becomes one event container ``{"creationtime", "data": [...], "id", "type"}``
sent as ``id: <seconds>:<seq>`` plus ``data: [<container>]``. Recent events are kept so a
client that reconnects with ``Last-Event-ID`` gets what it missed, as a bridge does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import json
from typing import Any
import uuid

from aiohttp import web

from .hue_home import Clock

REPLAY_LIMIT = 100


class EventHub:
    """Fan-out of event containers to every open stream."""

    def __init__(self, clock: Clock) -> None:
        """Start with no streams and no history."""
        self._clock = clock
        self._streams: set[asyncio.Queue[str | None]] = set()
        self._history: deque[tuple[int, str]] = deque(maxlen=REPLAY_LIMIT)
        self._seq = 0
        self.sent_events = 0
        self.connections = 0
        # Called with each event's text once it is written to a client (a served log).
        self.on_served: Callable[[str], None] | None = None

    def use_clock(self, clock: Clock) -> None:
        """Stamp events with `clock` from now on."""
        self._clock = clock

    @property
    def open_streams(self) -> int:
        """Return how many clients are connected."""
        return len(self._streams)

    def publish(self, kind: str, items: list[dict[str, Any]]) -> None:
        """Send one container of `kind` ("add", "update", "delete") holding `items`."""
        self._seq += 1
        now = self._clock.now
        container = {
            "creationtime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": items,
            "id": str(uuid.uuid4()),
            "type": kind,
        }
        payload = json.dumps([container], separators=(",", ":"))
        self.push_raw(f"id: {int(now.timestamp())}:{self._seq}\ndata: {payload}\n\n")

    def push_raw(self, text: str) -> None:
        """Send raw SSE text (for malformed-payload tests)."""
        self._history.append((self._seq, text))
        for queue in self._streams:
            queue.put_nowait(text)
            self.sent_events += 1

    def close_all(self) -> None:
        """End every open stream."""
        for queue in self._streams:
            queue.put_nowait(None)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """Stream events until the hub closes the stream or the client goes."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        last = request.headers.get("last-event-id", "")
        if ":" in last and last.rsplit(":", 1)[1].strip().isdigit():
            seen = int(last.rsplit(":", 1)[1])
            for seq, text in self._history:
                if seq > seen:
                    queue.put_nowait(text)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        self._streams.add(queue)
        self.connections += 1
        try:
            await response.write(b": hi\n\n")
            while (text := await queue.get()) is not None:
                await response.write(text.encode())
                if self.on_served is not None:
                    self.on_served(text)
        except ConnectionResetError:
            pass
        finally:
            self._streams.discard(queue)
        return response
