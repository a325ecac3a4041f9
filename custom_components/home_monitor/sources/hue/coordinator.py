"""The Hue coordinator: push from a v2 event stream, lean polling otherwise.

- v2: the sensor resource types are read once, then the event stream pushes changes
  (no polling). When the stream drops, the sensor types are polled every poll interval
  until aiohue has reconnected it; each reconnect is followed by one resync read.
- v1: `/api/<key>/sensors` is polled every poll interval, never the whole configuration.
Every request runs under the shared retry policy, bounded by the cycle's deadline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, override

from homeassistant.const import CONF_API_KEY, CONF_HOST, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.aiohttp_client import async_create_clientsession
from homeassistant.util import dt as dt_util

from ...const import LOGGER, SOURCE_HUE
from ...coordinator import HomeMonitorConfigEntry, SourceDevice
from ...models import DeviceRecord
from ...retry import CYCLE_SHARE, RetryError
from ...store import HistoryStore
from .client_v1 import HueV1Client
from .client_v2 import HueV2Client, RetryCall
from .const import (
    CONF_API_VERSION,
    CONF_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    HUE_POLICY,
    MANUFACTURER,
    SETUP_BUDGET,
)
from .mapping_v1 import map_sensors
from .mapping_v2 import build_devices, hub_record, readings_for
from .measurements import Measurements
from .push import HuePushCoordinator
from .readings import NewReadings
from .retrying import cycle_error, deadline_in, retry_call
from .session import TrafficCounter, session_options
from .values import device_key


class HueCoordinator(HuePushCoordinator):
    """One Hue bridge."""

    source = SOURCE_HUE
    policy = HUE_POLICY

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
        self.readings = NewReadings()
        self.malformed = set()
        self.polling = v1
        host, key = entry.data[CONF_HOST], entry.data[CONF_API_KEY]
        self._v1 = HueV1Client(host, key, self.session) if v1 else None
        self._v2 = (
            None
            if v1
            else HueV2Client(
                host,
                key,
                self.session,
                on_resource=self.on_resource,
                on_connection=self.on_connection,
                on_malformed=self.on_malformed,
                on_stream_ended=self.on_stream_ended,
            )
        )

    def _caller(self, budget: timedelta) -> RetryCall:
        return retry_call(
            deadline_in(budget.total_seconds()),
            self.policy,
            self.retry_stats,
            self.record_retry,
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
                self.mirror(self.readings.take(self.data or {}))
        self.mirror(self.readings.take(devices), devices.values())
        return devices

    @override
    async def _async_setup(self) -> None:
        """Read a v2 bridge's sensor state and start its event stream."""
        if (client := self._v2) is not None:
            await self._cycle("setup", lambda: self._setup_v2(client))
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

    async def _setup_v2(self, client: HueV2Client) -> dict[str, SourceDevice]:
        await client.initialize(self._caller(SETUP_BUDGET))
        now = dt_util.utcnow()
        for rtype, controller in client.bridge.controllers.items():
            for item in controller:
                if (
                    result := readings_for(self.bridge_id, rtype, item, now)
                ) is not None:
                    self.readings.add(result[1])
        return self._snapshot()

    @override
    async def _async_update_data(self) -> dict[str, SourceDevice]:
        """Poll v1, or v2 while its stream is down or to resync; else the snapshot."""
        budget = self.poll_interval * CYCLE_SHARE
        if (v1 := self._v1) is not None:
            return await self._cycle("poll", lambda: self._poll_v1(v1, budget))
        if (v2 := self._v2) is None or not (self.polling or self.needs_resync):
            devices = self._snapshot()
            self.mirror(self.readings.take(devices), devices.values())
            return devices
        kind = "poll" if self.polling else "resync"
        return await self._cycle(kind, lambda: self._poll_v2(v2, budget))

    async def _poll_v1(
        self, client: HueV1Client, budget: timedelta
    ) -> dict[str, SourceDevice]:
        raw = await self._caller(budget)("sensors", client.fetch_sensors)
        devices, readings = map_sensors(
            raw, self.bridge_id, self._hub_key, dt_util.utcnow()
        )
        self.readings.add(readings)
        return devices

    async def _poll_v2(
        self, client: HueV2Client, budget: timedelta
    ) -> dict[str, SourceDevice]:
        await client.poll(self._caller(budget))
        self.needs_resync = False
        if self.stream_dead:
            self.stream_dead = False
            LOGGER.info("Restarting the Hue event stream")
            await client.restart_stream()
        return self._snapshot()

    @override
    def _snapshot(self) -> dict[str, SourceDevice]:
        if self._v2 is None:  # pragma: no cover - v1 builds its snapshot per poll
            return self.data or {}
        return build_devices(
            self._v2.bridge, self.bridge_id, self.malformed, self._hub_key
        )

    @override
    async def async_shutdown(self) -> None:
        """Stop the stream and timers and close the session."""
        self.cancel_timers()
        if self._v2 is not None:
            await self._v2.close()
        await super().async_shutdown()

    @override
    def source_diagnostics(self) -> dict[str, Any]:
        """Return the transport state and traffic measurements (no app key, no host)."""
        return {
            "api_version": self.api_version,
            "poll_interval": self.poll_interval.total_seconds(),
            "stream_connected": self.stream_connected,
            "polling": self.polling,
            "malformed_resources": len(self.malformed),
            "measurements": self.measurements.as_dict(),
        }
