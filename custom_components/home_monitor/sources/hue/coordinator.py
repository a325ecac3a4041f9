"""The Hue coordinator: push from a v2 event stream, lean polling otherwise.

- v2: the sensor resource types are read once, then the event stream pushes changes
  (no polling). When the stream drops, the sensor types are polled every poll interval
  until aiohue has reconnected it; each reconnect is followed by one resync read.
- v1: `/api/<key>/sensors` is polled every poll interval.
Every request runs under the shared retry policy, bounded by the cycle's deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import time
from typing import Any, override

from aiohue import Unauthorized
from aiohue.v2.controllers.events import EventType
from homeassistant.const import CONF_API_KEY, CONF_HOST, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from ...const import DOMAIN, LOGGER, SOURCE_HUE
from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator, SourceDevice
from ...models import DeviceRecord, Metric, Reading
from ...retry import (
    FailureKind,
    RetryError,
    RetryEvent,
    RetryOutcome,
    async_call_with_retry,
)
from ...store import HistoryStore
from .client_v1 import HueV1Client
from .client_v2 import HueV2Client, RetryCall
from .const import (
    CONF_API_VERSION,
    CONF_POLL_INTERVAL,
    CYCLE_SHARE,
    DEFAULT_POLL_INTERVAL,
    HUE_POLICY,
    MANUFACTURER,
    REQUEST_TIMEOUT,
    SETUP_BUDGET,
)
from .errors import classify_hue_error
from .mapping_v1 import map_sensors
from .mapping_v2 import build_devices, hub_record, readings_for
from .measurements import Measurements
from .session import TrafficCounter, create_session
from .values import device_key

UNTIMED = frozenset({Metric.BATTERY, Metric.CONNECTIVITY})
STREAM = "eventstream/clip/v2"


class HueCoordinator(HomeMonitorCoordinator):
    """One Hue bridge."""

    source = SOURCE_HUE
    policy = HUE_POLICY

    def __init__(
        self, hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
    ) -> None:
        """Prepare the clients; nothing is requested until the first refresh."""
        self.poll_interval = timedelta(
            seconds=entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
        )
        self.api_version = int(entry.data.get(CONF_API_VERSION, 2))
        super().__init__(
            hass,
            entry,
            store,
            update_interval=self.poll_interval if self.api_version == 1 else None,
        )
        self.bridge_id = str(entry.unique_id)
        self._hub_key = device_key(self.bridge_id, "bridge")
        self.hub_device = DeviceRecord(
            self._hub_key, SOURCE_HUE, entry.title, "Hue Bridge", MANUFACTURER
        )
        self.counter = TrafficCounter()
        self.session = create_session(self.counter)
        self.measurements = Measurements(
            self.counter, lambda: dt_util.utcnow().strftime("%Y-%m-%dT%H:00Z")
        )
        host, key = entry.data[CONF_HOST], entry.data[CONF_API_KEY]
        self._v1 = (
            HueV1Client(host, key, self.session) if self.api_version == 1 else None
        )
        self._v2 = (
            HueV2Client(
                host,
                key,
                self.session,
                on_resource=self._on_resource,
                on_connection=self._on_connection,
                on_malformed=self._on_malformed,
                on_stream_ended=self._on_stream_ended,
            )
            if self.api_version != 1
            else None
        )
        self.stream_connected = False
        self.stream_dead = False
        self.polling = self.api_version == 1
        self._needs_resync = False
        self._in_cycle = False
        self._malformed: set[str] = set()
        self._pending: list[Reading] = []
        self._publish_handle: Any = None
        self._unsub_poll: CALLBACK_TYPE | None = None
        self._last: dict[tuple[str, Metric], tuple[datetime, float]] = {}
        self._disconnects = 0

    # -- requests under the retry policy ----------------------------------------------
    def _deadline(self, budget: timedelta) -> float:
        return time.monotonic() + budget.total_seconds()

    def _caller(self, deadline: float) -> RetryCall:
        async def call[T](endpoint: str, request: Callable[[], Awaitable[T]]) -> T:
            async def attempt() -> T:
                remaining = deadline - time.monotonic()
                async with asyncio.timeout(max(0.05, min(REQUEST_TIMEOUT, remaining))):
                    return await request()

            self.retry_stats.calls += 1
            return await async_call_with_retry(
                attempt,
                source=SOURCE_HUE,
                endpoint=endpoint,
                classify=classify_hue_error,
                policy=self.policy,
                on_event=self.record_retry,
                deadline=deadline,
            )

        return call

    async def _cycle(
        self, kind: str, body: Callable[[], Awaitable[dict[str, SourceDevice]]]
    ) -> dict[str, SourceDevice]:
        self.measurements.cycle_started()
        self._in_cycle = True
        ok = False
        try:
            devices = await body()
            ok = True
        except RetryError as err:
            if err.failure.kind is FailureKind.AUTH:
                raise ConfigEntryAuthFailed(
                    translation_domain=DOMAIN, translation_key="hue_auth_failed"
                ) from err
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="hue_update_failed",
                translation_placeholders={"reason": err.failure.reason},
            ) from err
        finally:
            self._in_cycle = False
            self.measurements.cycle_finished(kind, ok)
            if not ok:
                # Readings that did arrive before the failure are still kept.
                self.mirror(self._take_new(self.data or {}))
        self.mirror(self._take_new(devices), devices.values())
        return devices

    # -- set-up and polling ---------------------------------------------------------------
    @override
    async def _async_setup(self) -> None:
        """Read a v2 bridge's sensor state and start its event stream."""
        if (client := self._v2) is not None:
            deadline = self._deadline(SETUP_BUDGET)
            await self._cycle("setup", lambda: self._setup_v2(client, deadline))
            self.hub_device = hub_record(client.bridge, self.bridge_id)
        await super()._async_setup()
        if self._v2 is not None:
            await self._v2.start_stream()
            self.config_entry.async_on_unload(
                self.hass.bus.async_listen_once(
                    EVENT_HOMEASSISTANT_STOP, self._async_stop_stream
                )
            )

    async def _async_stop_stream(self, _: Event) -> None:
        if self._v2 is not None:
            await self._v2.close()

    async def _setup_v2(
        self, client: HueV2Client, deadline: float
    ) -> dict[str, SourceDevice]:
        await client.initialize(self._caller(deadline))
        now = dt_util.utcnow()
        for rtype, controller in client.bridge.controllers.items():
            for item in controller:
                if (
                    result := readings_for(self.bridge_id, rtype, item, now)
                ) is not None:
                    self._pending += result[1]
        return self._snapshot()

    @override
    async def _async_update_data(self) -> dict[str, SourceDevice]:
        """Poll v1, or v2 while its stream is down; otherwise return the snapshot."""
        budget = self.poll_interval * CYCLE_SHARE
        if self._v1 is not None:
            v1 = self._v1
            return await self._cycle("poll", lambda: self._poll_v1(v1, budget))
        if not self.polling and not self._needs_resync:
            return self._cycle_free_snapshot()
        kind = "poll" if self.polling else "resync"
        v2 = self._v2
        if v2 is None:  # pragma: no cover - an entry is v1 or v2
            return {}
        return await self._cycle(kind, lambda: self._poll_v2(v2, budget))

    def _cycle_free_snapshot(self) -> dict[str, SourceDevice]:
        devices = self._snapshot()
        self.mirror(self._take_new(devices), devices.values())
        return devices

    async def _poll_v1(
        self, client: HueV1Client, budget: timedelta
    ) -> dict[str, SourceDevice]:
        call = self._caller(self._deadline(budget))
        raw = await call("sensors", client.fetch_sensors)
        devices, readings = map_sensors(
            raw, self.bridge_id, self._hub_key, dt_util.utcnow()
        )
        self._pending += readings
        return devices

    async def _poll_v2(
        self, client: HueV2Client, budget: timedelta
    ) -> dict[str, SourceDevice]:
        await client.poll(self._caller(self._deadline(budget)))
        self._needs_resync = False
        if self.stream_dead:
            self.stream_dead = False
            LOGGER.info("Restarting the Hue event stream")
            await client.restart_stream()
        return self._snapshot()

    def _snapshot(self) -> dict[str, SourceDevice]:
        if self._v2 is None:  # pragma: no cover - v1 entries build snapshots per poll
            return self.data or {}
        return build_devices(
            self._v2.bridge, self.bridge_id, self._malformed, self._hub_key
        )

    def _take_new(self, devices: dict[str, SourceDevice]) -> list[Reading]:
        """Return the pending readings of known devices that are new (once each)."""
        pending, self._pending = self._pending, []
        fresh: list[Reading] = []
        for item in pending:
            if item.device_key not in devices:
                continue
            last = self._last.get((item.device_key, item.metric))
            untimed = item.metric in UNTIMED
            if last is not None and (
                last[1] == item.value if untimed else item.measured_at <= last[0]
            ):
                continue
            self._last[(item.device_key, item.metric)] = (item.measured_at, item.value)
            fresh.append(item)
        return fresh

    # -- push path ------------------------------------------------------------------------
    @callback
    def _on_resource(self, rtype: str, event_type: EventType, item: Any) -> None:
        if not self._in_cycle:
            self.measurements.events_received()
        if event_type is EventType.RESOURCE_UPDATED:
            self._malformed.discard(getattr(item, "id", ""))
            if (
                result := readings_for(self.bridge_id, rtype, item, dt_util.utcnow())
            ) is not None:
                self._pending += result[1]
        if not self._in_cycle and self._publish_handle is None:
            self._publish_handle = self.hass.loop.call_soon(self._publish)

    @callback
    def _publish(self) -> None:
        self._publish_handle = None
        devices = self._snapshot()
        self.async_publish(devices, self._take_new(devices))

    @callback
    def _on_malformed(self, rtype: str, rid: str) -> None:
        self._malformed.add(rid)
        if (
            self.data is not None
            and not self._in_cycle
            and self._publish_handle is None
        ):
            self._publish_handle = self.hass.loop.call_soon(self._publish)

    @callback
    def _on_connection(self, event_type: EventType) -> None:
        if event_type is EventType.DISCONNECTED:
            self.stream_connected = False
            self.polling = True
            self._disconnects += 1
            self.record_retry(
                RetryEvent(
                    SOURCE_HUE,
                    STREAM,
                    self._disconnects,
                    "stream disconnected",
                    RetryOutcome.RETRYING,
                )
            )
            self._start_polling()
            return
        self.stream_connected = True
        self.polling = False
        if event_type is EventType.RECONNECTED:
            self.record_retry(
                RetryEvent(
                    SOURCE_HUE,
                    STREAM,
                    self._disconnects + 1,
                    "stream disconnected",
                    RetryOutcome.RECOVERED,
                )
            )
            self._disconnects = 0
            self._needs_resync = True
            self.update_interval = None
            self.config_entry.async_create_background_task(
                self.hass, self.async_refresh(), f"{self.name} resync"
            )

    @callback
    def _on_stream_ended(self, err: BaseException | None) -> None:
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

    # -- life cycle and diagnostics -------------------------------------------------------
    @override
    async def async_shutdown(self) -> None:
        """Stop the stream and timers and close the session."""
        if self._unsub_poll is not None:
            self._unsub_poll()
            self._unsub_poll = None
        if self._publish_handle is not None:
            self._publish_handle.cancel()
            self._publish_handle = None
        if self._v2 is not None:
            await self._v2.close()
        await self.session.close()
        await super().async_shutdown()

    @override
    def source_diagnostics(self) -> dict[str, Any]:
        """Return the transport state and traffic measurements (no app key, no host)."""
        return {
            "api_version": self.api_version,
            "poll_interval": self.poll_interval.total_seconds(),
            "stream_connected": self.stream_connected,
            "polling": self.polling,
            "malformed_resources": len(self._malformed),
            "measurements": self.measurements.as_dict(),
        }
