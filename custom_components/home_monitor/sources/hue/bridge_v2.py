"""aiohue's CLIP v2 bridge, hardened for unattended use.

- Requests go through our session (fail-fast on 503/429, counted).
- Every event, streamed or polled, is checked before aiohue's controllers see it: a
  resource that aiohue cannot parse would otherwise raise inside a task (or, with no
  `data` list or no `type`, end the event processor for good). A malformed item is
  dropped with a warning and reported, so its entity can go unavailable.
- The stream's background tasks are watched: a rejected app key ends aiohue's reader
  without any event, so it is reported here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import copy
from typing import Any, override

import aiohttp
from aiohue import HueBridgeV2
from aiohue.util import dataclass_from_dict, update_dataclass
from aiohue.v2.controllers.events import EventStream, EventType

from ...const import LOGGER

RESOURCE_EVENTS = (
    EventType.RESOURCE_ADDED,
    EventType.RESOURCE_UPDATED,
    EventType.RESOURCE_DELETED,
)
type MalformedCallback = Callable[[str, str], None]
type StreamEndedCallback = Callable[[BaseException | None], None]


class _ContainerQueue(asyncio.Queue[Any]):
    """aiohue's event queue, refusing containers its processor would choke on."""

    @override
    def put_nowait(self, item: Any) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("data"), list):
            LOGGER.warning("Ignoring a malformed event from the Hue bridge")
            return
        super().put_nowait(item)


class CheckedEventStream(EventStream):  # type: ignore[misc]
    """aiohue's EventStream with checked events and watched tasks."""

    def __init__(
        self,
        bridge: CheckedBridgeV2,
        on_malformed: MalformedCallback,
        on_ended: StreamEndedCallback,
    ) -> None:
        """Wrap aiohue's stream for `bridge`."""
        super().__init__(bridge)
        self._event_queue = _ContainerQueue()
        self._checked_bridge = bridge
        self._on_malformed = on_malformed
        self._on_ended = on_ended

    @override
    async def initialize(self) -> None:
        """Start aiohue's reader, processor and keep-alive, and watch them."""
        await super().initialize()
        for task in self._bg_tasks:
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        self._on_ended(task.exception())

    @override
    def emit(self, event_type: EventType, data: Any = None) -> None:
        """Hand a checked event to aiohue's controllers and our subscribers."""
        if event_type in RESOURCE_EVENTS and not self._checked_bridge.is_valid_event(
            event_type, data
        ):
            return
        super().emit(event_type, data)


class CheckedBridgeV2(HueBridgeV2):  # type: ignore[misc]
    """A v2 bridge that uses our session and checks every resource event."""

    def __init__(
        self,
        host: str,
        app_key: str,
        session: aiohttp.ClientSession,
        on_malformed: MalformedCallback,
        on_ended: StreamEndedCallback,
    ) -> None:
        """Connect to `host` with `app_key` over `session`."""
        super().__init__(host, app_key)
        self._websession = session
        self._events = CheckedEventStream(self, on_malformed, on_ended)
        self._on_malformed = on_malformed
        self._warned: set[str] = set()
        self.controllers: dict[str, Any] = {
            "device": self.devices,
            "geofence_client": self.sensors.geofence_client,
            "temperature": self.sensors.temperature,
            "light_level": self.sensors.light_level,
            "motion": self.sensors.motion,
            "device_power": self.sensors.device_power,
            "zigbee_connectivity": self.sensors.zigbee_connectivity,
        }

    def is_valid_event(self, event_type: EventType, data: Any) -> bool:
        """Return whether aiohue can apply this add/update/delete without failing."""
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("id"), str)
            or not isinstance(data.get("type"), str)
        ):
            LOGGER.warning("Ignoring a Hue event without an id or type")
            return False
        rtype = data["type"]
        if (
            event_type is EventType.RESOURCE_DELETED
            or (controller := self.controllers.get(rtype)) is None
        ):
            return True
        try:
            if event_type is EventType.RESOURCE_ADDED:
                dataclass_from_dict(controller.item_cls, data)
            elif (current := controller.get(data["id"])) is not None:
                update_dataclass(copy.deepcopy(current), data)
        except KeyError, TypeError, ValueError, AttributeError:
            # Once per resource at warning level: a sensor that keeps sending bad
            # values must not flood the log.
            log = LOGGER.debug if data["id"] in self._warned else LOGGER.warning
            self._warned.add(data["id"])
            log("Ignoring a malformed %s resource from the Hue bridge", rtype)
            self._on_malformed(rtype, data["id"])
            return False
        return True
