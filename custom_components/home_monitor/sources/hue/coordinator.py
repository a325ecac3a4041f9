"""The Hue coordinator: push from a v2 event stream, lean polling otherwise.

- v2: the sensor resource types are read once, then the event stream pushes changes
  (no polling). The coordinator keeps each resource as the bridge sent it (partial
  updates merged) and, in one pass per change, the checked value the entity shows and
  the reading the store gets. When the stream drops, the sensor types are polled every
  poll interval until aiohue has reconnected it, then read once more to resync; polled
  resources are applied the same way, and what the bridge replays then keeps its time.
- v1: `/api/<key>/sensors` is polled every poll interval, never the whole configuration.
Requests run under the shared retry policy, bounded by the cycle's deadline; `mirror`
decides which parsed value is new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar, override

from aiohue import HueBridgeV1, Unauthorized
from aiohue.v2.controllers.events import EventType
from homeassistant.const import CONF_API_KEY, CONF_HOST, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_create_clientsession
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from ...const import CONF_POLL_INTERVAL, LOGGER, SOURCE_HUE
from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator, SourceDevice
from ...models import DeviceRecord, Reading
from ...retry import CYCLE_SHARE, BackoffPolicy, RetryError, RetryEvent, RetryOutcome
from ...store import HistoryStore
from . import CONF_API_VERSION, DEFAULT_POLL_INTERVAL, MANUFACTURER, SETUP_BUDGET
from .client import (
    HUE_POLICY,
    KEEPALIVE_TYPE,
    CheckedBridgeV2,
    RetryCall,
    cycle_error,
    fetch_v1_sensors,
    resource_path,
    retry_call,
    session_options,
)
from .mapping import (
    ROOM_TYPE,
    V2_SERVICES,
    Value,
    device_key,
    merge,
    v1_devices,
    v2_devices,
    v2_hub,
    v2_owner,
    v2_value,
)
from .measurements import Measurements, TrafficCounter

STREAM = "eventstream/clip/v2"
# Polled while the stream is down; devices (names), rooms (suggested areas) and
# geofence clients (aiohue's keep-alive reuses its own) are read once at set-up.
V2_POLLED_TYPES = tuple(V2_SERVICES)
V2_SETUP_TYPES = ("device", ROOM_TYPE, *V2_POLLED_TYPES)


class HueCoordinator(HomeMonitorCoordinator):
    """One Hue bridge."""

    source = SOURCE_HUE
    policy: ClassVar[BackoffPolicy] = HUE_POLICY

    def __init__(
        self, hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
    ) -> None:
        """Prepare the client; nothing is requested until the first refresh."""
        self.poll_interval = timedelta(
            seconds=entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
        )
        self.api_version = int(entry.data.get(CONF_API_VERSION, 2))
        v1 = self.api_version == 1
        super().__init__(
            hass, entry, store, update_interval=self.poll_interval if v1 else None
        )
        self.bridge_id = str(entry.unique_id)
        self._hub_key = device_key(self.bridge_id, "bridge")
        self.hub_device = DeviceRecord(
            self._hub_key, SOURCE_HUE, entry.title, "Hue Bridge", MANUFACTURER
        )
        self.counter = TrafficCounter()
        # Bridges use a certificate from an on-bridge authority; Home Assistant closes
        # the session when the entry unloads.
        self.session = async_create_clientsession(
            hass, verify_ssl=False, **session_options(self.counter)
        )
        self.measurements = Measurements(
            self.counter, lambda: dt_util.utcnow().strftime("%Y-%m-%dT%H:00Z")
        )
        host, key = entry.data[CONF_HOST], entry.data[CONF_API_KEY]
        self._v1 = HueBridgeV1(host, key, self.session) if v1 else None
        self._v2 = None
        if not v1:
            self._v2 = CheckedBridgeV2(
                host,
                key,
                self.session,
                name=self.bridge_id,
                on_resource=self._on_resource,
                on_ended=self._on_stream_ended,
            )
        # v2 state: resources as the bridge sent them, and each service's checked value.
        self._devices: dict[str, dict[str, Any]] = {}
        self._rooms: dict[str, dict[str, Any]] = {}
        self._services: dict[str, dict[str, Any]] = {}
        self._values: dict[str, Value] = {}
        self._warned: set[str] = set()
        self._pending: list[Reading] = []
        self.stream_connected = self.stream_dead = False
        self.polling = v1
        self.needs_resync = False
        self.in_cycle = False
        self._publish_handle: asyncio.Handle | None = None
        self._unsub_poll: CALLBACK_TYPE | None = None
        self._disconnects = 0

    # -- cycles -----------------------------------------------------------------------
    def _caller(self, budget: timedelta) -> RetryCall:
        return retry_call(
            budget.total_seconds(), self.policy, self.retry_stats, self.record_retry
        )

    async def _cycle(
        self, kind: str, body: Callable[[], Awaitable[dict[str, SourceDevice]]]
    ) -> dict[str, SourceDevice]:
        """Run one poll, resync or set-up read, measured, mapping its failure."""
        self.measurements.cycle_started()
        self.in_cycle = True
        ok = False
        try:
            devices = await body()
            ok = True
        except RetryError as err:
            raise cycle_error(err) from err
        finally:
            self.in_cycle = False
            self.measurements.cycle_finished(kind, ok)
            if not ok:
                # Readings that did arrive before the failure are still kept.
                self.mirror(self._take(self.data or {}))
        self.mirror(self._take(devices), devices.values())
        return devices

    @override
    async def _async_setup(self) -> None:
        """Read a v2 bridge's sensor state and start its event stream."""
        if (bridge := self._v2) is not None:
            await self._cycle("setup", lambda: self._setup_v2(bridge))
        await super()._async_setup()
        if bridge is not None:
            await bridge.start_stream(self._on_connection)
            self.config_entry.async_on_unload(
                self.hass.bus.async_listen_once(
                    EVENT_HOMEASSISTANT_STOP, self._async_stop_stream
                )
            )

    async def _async_stop_stream(self, _: Event) -> None:
        if self._v2 is not None:
            await self._v2.events.stop()

    async def _setup_v2(self, bridge: CheckedBridgeV2) -> dict[str, SourceDevice]:
        call = self._caller(SETUP_BUDGET)
        await self._read_v2(bridge, call, V2_SETUP_TYPES)
        clients = await call(
            resource_path(KEEPALIVE_TYPE), partial(bridge.fetch, KEEPALIVE_TYPE)
        )
        await bridge.load_keepalive_clients(clients)
        self.hub_device = v2_hub(self._devices.values(), self._hub_key)
        return self._snapshot()

    async def _read_v2(
        self, bridge: CheckedBridgeV2, call: RetryCall, rtypes: tuple[str, ...]
    ) -> None:
        """Read resource types and apply each as it arrives (removing vanished ones)."""
        for rtype in rtypes:
            items = await call(resource_path(rtype), partial(bridge.fetch, rtype))
            received = dt_util.utcnow()
            seen = set()
            for item in items:
                if isinstance(rid := item.get("id"), str) and item.get("type") == rtype:
                    seen.add(rid)
                    self._apply(EventType.RESOURCE_ADDED, item, received)
            known = self._known(rtype) or {}
            for rid in [r for r, i in known.items() if i["type"] == rtype]:
                if rid not in seen:
                    self._apply(EventType.RESOURCE_DELETED, known[rid], received)

    @override
    async def _async_poll(self) -> dict[str, SourceDevice]:
        """Poll v1, or v2 while its stream is down or to resync; else the snapshot."""
        budget = self.poll_interval * CYCLE_SHARE
        if (v1 := self._v1) is not None:
            return await self._cycle("poll", lambda: self._poll_v1(v1, budget))
        if (v2 := self._v2) is None or not (self.polling or self.needs_resync):
            devices = self._snapshot()
            self.mirror(self._take(devices), devices.values())
            return devices
        kind = "poll" if self.polling else "resync"
        return await self._cycle(kind, lambda: self._poll_v2(v2, budget))

    async def _poll_v1(
        self, bridge: HueBridgeV1, budget: timedelta
    ) -> dict[str, SourceDevice]:
        raw = await self._caller(budget)("sensors", partial(fetch_v1_sensors, bridge))
        devices, readings = v1_devices(
            raw, self.bridge_id, self._hub_key, dt_util.utcnow()
        )
        self._pending += readings
        return devices

    async def _poll_v2(
        self, bridge: CheckedBridgeV2, budget: timedelta
    ) -> dict[str, SourceDevice]:
        await self._read_v2(bridge, self._caller(budget), V2_POLLED_TYPES)
        self.needs_resync = False
        if self.stream_dead:
            self.stream_dead = False
            LOGGER.info("Restarting the Hue event stream")
            await bridge.restart_stream(self._on_connection)
        return self._snapshot()

    # -- v2 resources -----------------------------------------------------------------
    def _apply(
        self, event_type: EventType, item: dict[str, Any], received: datetime
    ) -> None:
        """Take one resource change: keep the resource, check its value once."""
        rtype, rid = item["type"], item["id"]
        if (known := self._known(rtype)) is None:
            return
        if event_type is EventType.RESOURCE_DELETED:
            known.pop(rid, None)
            self._values.pop(rid, None)
            return
        if event_type is EventType.RESOURCE_ADDED:
            known[rid] = item
        elif rid in known:
            merge(known[rid], item)
        else:
            return  # a partial update of a resource never seen whole
        resource = known[rid]
        if rtype not in V2_SERVICES:
            return
        self._values[rid] = value = v2_value(resource)
        if value.problem is None:
            self._warned.discard(rid)
        elif rid not in self._warned:
            self._warned.add(rid)
            LOGGER.warning(
                "Hue bridge %s sent a malformed %s value (%s); it is unavailable "
                "until a valid one arrives",
                self.bridge_id,
                rtype,
                value.problem,
            )
        if (owner := v2_owner(resource)) is not None and (
            reading := value.reading(device_key(self.bridge_id, owner), received)
        ) is not None:
            self._pending.append(reading)

    def _known(self, rtype: str) -> dict[str, dict[str, Any]] | None:
        """Return where resources of this type are kept, or None if not kept."""
        if rtype == "device":
            return self._devices
        if rtype == ROOM_TYPE:
            return self._rooms
        return self._services if rtype in V2_SERVICES else None

    def _snapshot(self) -> dict[str, SourceDevice]:
        return v2_devices(
            self._devices.values(),
            self._services,
            self._values,
            self.bridge_id,
            self._hub_key,
            rooms=self._rooms.values(),
        )

    def _take(self, devices: dict[str, SourceDevice]) -> list[Reading]:
        """Return the readings parsed since the last call, of devices shown."""
        pending, self._pending = self._pending, []
        return [reading for reading in pending if reading.device_key in devices]

    @callback
    def _on_resource(self, event_type: EventType, item: dict[str, Any]) -> None:
        """Take a streamed resource event; publish once per loop iteration."""
        self.measurements.events_received()
        self._apply(event_type, item, dt_util.utcnow())
        if self.data is not None and not self.in_cycle and self._publish_handle is None:
            self._publish_handle = self.hass.loop.call_soon(self._publish)

    @callback
    def _publish(self) -> None:
        self._publish_handle = None
        devices = self._snapshot()
        self.async_publish(devices, self._take(devices))

    # -- the stream's connection --------------------------------------------------------
    @callback
    def _on_connection(self, event_type: EventType, _: Any = None) -> None:
        """Follow the stream: poll while it is down, resync once it is back."""
        if event_type is EventType.DISCONNECTED:
            self.gate.delivery_stopped()
            self.stream_connected = False
            self.polling = True
            self._disconnects += 1
            self._record_stream(RetryOutcome.RETRYING)
            self._start_polling()
            return
        self.gate.delivery_resumed()
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
    def _on_stream_ended(self, err: BaseException | None) -> None:
        """Poll from now on; a later good poll restarts the stream."""
        self.gate.delivery_stopped()
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

    @override
    async def async_shutdown(self) -> None:
        """Stop the stream and the timers (Home Assistant closes the session)."""
        if self._unsub_poll is not None:
            self._unsub_poll()
            self._unsub_poll = None
        if self._publish_handle is not None:
            self._publish_handle.cancel()
            self._publish_handle = None
        if self._v2 is not None:
            await self._v2.events.stop()
        await super().async_shutdown()

    @override
    def source_diagnostics(self) -> dict[str, Any]:
        """Return the transport state and traffic measurements (no app key, no host)."""
        return {
            "api_version": self.api_version,
            "poll_interval": self.poll_interval.total_seconds(),
            "stream_connected": self.stream_connected,
            "polling": self.polling,
            "malformed_resources": sum(1 for v in self._values.values() if v.problem),
            "malformed_events": self._v2.events.malformed_events if self._v2 else 0,
            "measurements": self.measurements.as_dict(),
        }
