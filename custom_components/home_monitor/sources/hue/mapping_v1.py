"""v1 `/api/<key>/sensors` to device snapshots and readings.

One Hue motion sensor is three v1 sensors (presence, light level, temperature) sharing the
first 23 characters of their `uniqueid`; that prefix identifies the physical device and its
presence sensor's name names it. The v1 API has no validity flags: a missing, null or
wrongly typed value makes that one metric unknown or unavailable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ...const import SOURCE_HUE
from ...coordinator import SourceDevice
from ...models import DeviceRecord, Metric, Reading
from .const import V1_LIGHT_LEVEL, V1_PRESENCE, V1_TEMPERATURE, V1_UNIQUEID_PREFIX
from .values import MalformedValueError, checked, device_key, flag, lux, number, reading

V1_METRICS: dict[str, tuple[Metric, str]] = {
    V1_PRESENCE: (Metric.MOTION, "presence"),
    V1_LIGHT_LEVEL: (Metric.ILLUMINANCE, "lightlevel"),
    V1_TEMPERATURE: (Metric.TEMPERATURE, "temperature"),
}


def parse_lastupdated(value: object) -> datetime | None:
    """Parse v1 `lastupdated` (UTC without zone; "none" before the first report)."""
    if not isinstance(value, str) or value == "none":
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def _convert(metric: Metric, raw: object) -> float | None:
    if raw is None:
        return None
    if metric is Metric.MOTION:
        return flag(raw)
    if metric is Metric.ILLUMINANCE:
        return checked(metric, lux(raw))
    return checked(metric, number(raw) / 100)


class _Device:
    """What the three v1 sensors of one physical sensor add up to."""

    def __init__(self, key: str, hub_key: str, serial: str) -> None:
        self.key = key
        self.hub_key = hub_key
        self.serial = serial
        self.name: str | None = None
        self.model: str | None = None
        self.manufacturer: str | None = None
        self.sw_version: str | None = None
        self.values: dict[Metric, float | None] = {}
        self.unavailable: set[Metric] = set()
        self.reachable = True
        self.readings: list[Reading] = []

    def add(self, sensor: Mapping[str, Any]) -> None:
        metric, field = V1_METRICS[sensor["type"]]
        state = sensor.get("state")
        config = sensor.get("config")
        state = state if isinstance(state, Mapping) else {}
        config = config if isinstance(config, Mapping) else {}
        if sensor["type"] == V1_PRESENCE or self.name is None:
            self.name = str(sensor.get("name") or self.key)
            self.model = str(sensor.get("productname") or sensor.get("modelid") or "")
            self.manufacturer = sensor.get("manufacturername")
            self.sw_version = sensor.get("swversion")
        changed = parse_lastupdated(state.get("lastupdated"))
        try:
            value = _convert(metric, state.get(field)) if changed else None
        except MalformedValueError:
            value = None
            self.unavailable.add(metric)
        self.values[metric] = value
        if changed is not None:
            self.readings += reading(self.key, metric, value, changed)
        self.reachable = self.reachable and config.get("reachable") is not False
        if (battery := config.get("battery")) is not None:
            try:
                self.values[Metric.BATTERY] = checked(Metric.BATTERY, number(battery))
            except MalformedValueError:
                self.unavailable.add(Metric.BATTERY)
        self.values.setdefault(Metric.BATTERY, None)
        self.values[Metric.CONNECTIVITY] = 1.0 if self.reachable else 0.0

    def device(self) -> SourceDevice:
        self.unavailable -= {m for m, v in self.values.items() if v is not None}
        return SourceDevice(
            record=DeviceRecord(
                self.key,
                SOURCE_HUE,
                self.name or self.key,
                self.model or None,
                self.manufacturer,
            ),
            metrics=frozenset(self.values),
            values=dict(self.values),
            unavailable=frozenset(self.unavailable),
            online=self.reachable,
            via_device=self.hub_key,
            serial_number=self.serial,
            sw_version=self.sw_version,
        )


def map_sensors(
    raw: Mapping[str, Any], bridge_id: str, hub_key: str, now: datetime
) -> tuple[dict[str, SourceDevice], list[Reading]]:
    """Return the motion-sensor devices in a `/sensors` answer and their readings.

    Battery and connectivity have no timestamp in v1; their readings are stamped `now`
    and the coordinator keeps only changes.
    """
    grouped: dict[str, _Device] = {}
    for sensor in raw.values():
        if not isinstance(sensor, Mapping) or sensor.get("type") not in V1_METRICS:
            continue
        uniqueid = sensor.get("uniqueid")
        if not isinstance(uniqueid, str) or len(uniqueid) < V1_UNIQUEID_PREFIX:
            continue
        prefix = uniqueid[:V1_UNIQUEID_PREFIX]
        key = device_key(bridge_id, prefix)
        grouped.setdefault(key, _Device(key, hub_key, prefix)).add(sensor)
    devices = {key: group.device() for key, group in grouped.items()}
    readings = [r for group in grouped.values() for r in group.readings]
    for key, device in devices.items():
        for metric in (Metric.BATTERY, Metric.CONNECTIVITY):
            readings += reading(key, metric, device.values.get(metric), now)
    return devices, readings
