"""v2 bridges: one state read of the sensor resource types, then the event stream.

Only the resource types the sensors need are read (devices for names, the five sensor
types, and geofence clients so aiohue's stream keep-alive reuses its client). While the
stream is down the five sensor types are polled; polled items go through the same
checked event path as streamed ones, so aiohue's controllers stay the one state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

import aiohttp
from aiohue.v2.controllers.events import EventType

from .bridge_v2 import CheckedBridgeV2, MalformedCallback, StreamEndedCallback
from .const import V2_POLLED_TYPES, V2_SETUP_TYPES
from .errors import MalformedResponseError

CONNECTION_EVENTS = (EventType.CONNECTED, EventType.DISCONNECTED, EventType.RECONNECTED)
type ResourceCallback = Callable[[str, EventType, Any], None]


class RetryCall(Protocol):
    """Runs one bridge request under the retry policy."""

    def __call__[T](
        self, endpoint: str, request: Callable[[], Awaitable[T]]
    ) -> Awaitable[T]:
        """Run `request`, named `endpoint` in retry events."""


def resource_path(rtype: str) -> str:
    """Return the CLIP v2 path of a resource type."""
    return f"clip/v2/resource/{rtype}"


class HueV2Client:
    """A v2 bridge's sensor resources, kept current by the event stream."""

    def __init__(
        self,
        host: str,
        app_key: str,
        session: aiohttp.ClientSession,
        *,
        on_resource: ResourceCallback,
        on_connection: Callable[[EventType], None],
        on_malformed: MalformedCallback,
        on_stream_ended: StreamEndedCallback,
    ) -> None:
        """Prepare the bridge; nothing is requested yet."""
        self.bridge = CheckedBridgeV2(
            host, app_key, session, on_malformed, on_stream_ended
        )
        self._on_resource = on_resource
        self._on_connection = on_connection
        self._stream_started = False

    async def fetch(self, rtype: str) -> list[dict[str, Any]]:
        """Return every resource of one type."""
        data = await self.bridge.request("get", resource_path(rtype))
        if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
            raise MalformedResponseError(f"{rtype} is not a list of resources")
        return data

    async def initialize(self, call: RetryCall) -> None:
        """Read the set-up resource types and load aiohue's controllers with them."""
        fetched = {
            rtype: await call(resource_path(rtype), partial(self.fetch, rtype))
            for rtype in V2_SETUP_TYPES
        }
        for rtype, items in fetched.items():
            controller = self.bridge.controllers[rtype]
            valid = [
                item
                for item in items
                if self.bridge.is_valid_event(EventType.RESOURCE_ADDED, item)
            ]
            await controller.initialize(valid)
            if rtype != "geofence_client":
                controller.subscribe(partial(self._on_resource, rtype))

    async def poll(self, call: RetryCall) -> None:
        """Read the sensor types once and apply them like stream events."""
        for rtype in V2_POLLED_TYPES:
            items = await call(resource_path(rtype), partial(self.fetch, rtype))
            self._apply(rtype, items)
        # aiohue's controllers handle each emitted event in a task of its own.
        await asyncio.sleep(0)

    def _apply(self, rtype: str, items: list[dict[str, Any]]) -> None:
        controller = self.bridge.controllers[rtype]
        events = self.bridge.events
        seen = set()
        for item in items:
            rid = item.get("id")
            seen.add(rid)
            known = isinstance(rid, str) and rid in controller
            events.emit(
                EventType.RESOURCE_UPDATED if known else EventType.RESOURCE_ADDED, item
            )
        for item in controller.items:
            if item.id not in seen:
                events.emit(EventType.RESOURCE_DELETED, {"id": item.id, "type": rtype})

    async def start_stream(self) -> None:
        """Connect the event stream (aiohue reconnects it by itself)."""
        if not self._stream_started:
            self.bridge.events.subscribe(self._connection_event, CONNECTION_EVENTS)
            self._stream_started = True
        await self.bridge.events.initialize()

    async def restart_stream(self) -> None:
        """Start the stream again after its reader ended."""
        await self.bridge.events.stop()
        await self.start_stream()

    def _connection_event(self, event_type: EventType, _: Any = None) -> None:
        self._on_connection(event_type)

    async def close(self) -> None:
        """Stop the stream (the session belongs to the caller)."""
        await self.bridge.events.stop()
