"""The push side of a v2 bridge: stream events in, fallback polling while it is down.

aiohue calls these callbacks from its own tasks. Values are copied into readings at once
(aiohue mutates its models in place); the snapshot is rebuilt and published once per
loop iteration, however many events arrived in it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohue import Unauthorized
from aiohue.v2.controllers.events import EventType
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from ...const import LOGGER, SOURCE_HUE
from ...coordinator import HomeMonitorCoordinator, SourceDevice
from ...retry import RetryEvent, RetryOutcome
from .mapping_v2 import readings_for
from .measurements import Measurements
from .readings import NewReadings

STREAM = "eventstream/clip/v2"


class HuePushCoordinator(HomeMonitorCoordinator):
    """Event-stream handling shared by the Hue coordinator."""

    bridge_id: str
    poll_interval: timedelta
    measurements: Measurements
    readings: NewReadings
    stream_connected: bool = False
    stream_dead: bool = False
    polling: bool = False
    needs_resync: bool = False
    in_cycle: bool = False
    malformed: set[str]
    _publish_handle: Any = None
    _unsub_poll: CALLBACK_TYPE | None = None
    _disconnects: int = 0

    def _snapshot(self) -> dict[str, SourceDevice]:
        raise NotImplementedError

    @callback
    def _schedule_publish(self) -> None:
        if self.data is not None and not self.in_cycle and self._publish_handle is None:
            self._publish_handle = self.hass.loop.call_soon(self._publish)

    @callback
    def _publish(self) -> None:
        self._publish_handle = None
        devices = self._snapshot()
        self.async_publish(devices, self.readings.take(devices))

    @callback
    def on_resource(self, rtype: str, event_type: EventType, item: Any) -> None:
        """Take a resource event (streamed, or applied by a poll)."""
        if not self.in_cycle:
            self.measurements.events_received()
        if event_type is EventType.RESOURCE_UPDATED:
            self.malformed.discard(getattr(item, "id", ""))
            now = dt_util.utcnow()
            if (result := readings_for(self.bridge_id, rtype, item, now)) is not None:
                self.readings.add(result[1])
        self._schedule_publish()

    @callback
    def on_malformed(self, rtype: str, rid: str) -> None:
        """Make the entity of a resource the bridge sent malformed unavailable."""
        self.malformed.add(rid)
        self._schedule_publish()

    @callback
    def on_connection(self, event_type: EventType) -> None:
        """Follow the stream: poll while it is down, resync once it is back."""
        if event_type is EventType.DISCONNECTED:
            self.stream_connected = False
            self.polling = True
            self._disconnects += 1
            self._record_stream(RetryOutcome.RETRYING)
            self._start_polling()
            return
        self.stream_connected = True
        self.polling = False
        if event_type is EventType.RECONNECTED:
            self._disconnects += 1
            self._record_stream(RetryOutcome.RECOVERED)
            self._disconnects = 0
            self.needs_resync = True
            self.update_interval = None
            self.config_entry.async_create_background_task(
                self.hass, self.async_refresh(), f"{self.name} resync"
            )

    def _record_stream(self, outcome: RetryOutcome) -> None:
        self.record_retry(
            RetryEvent(
                SOURCE_HUE, STREAM, self._disconnects, "stream disconnected", outcome
            )
        )

    @callback
    def on_stream_ended(self, err: BaseException | None) -> None:
        """Poll from now on; a later good poll restarts the stream."""
        self.stream_connected = False
        self.stream_dead = True
        self.polling = True
        if isinstance(err, Unauthorized):
            LOGGER.warning("The Hue bridge rejected the app key on the event stream")
        else:
            LOGGER.warning(
                "The Hue event stream stopped (%s); polling instead", type(err).__name__
            )
        self._start_polling(now=True)

    @callback
    def _start_polling(self, now: bool = False) -> None:
        if self.update_interval is not None and not now:
            return
        self.update_interval = self.poll_interval
        if self._unsub_poll is not None:
            self._unsub_poll()

        @callback
        def _poll(_: Any = None) -> None:
            self._unsub_poll = None
            if self.polling:
                self.config_entry.async_create_background_task(
                    self.hass, self.async_refresh(), f"{self.name} poll"
                )

        if now:
            _poll()
        else:
            self._unsub_poll = async_call_later(self.hass, self.poll_interval, _poll)

    @callback
    def cancel_timers(self) -> None:
        """Cancel a pending poll and a pending publish."""
        if self._unsub_poll is not None:
            self._unsub_poll()
            self._unsub_poll = None
        if self._publish_handle is not None:
            self._publish_handle.cancel()
            self._publish_handle = None
