"""Bridge JSON to entity values and store readings, checked before anything trusts it.

Both APIs are read from the raw JSON the bridge sent (v2: the resource with its partial
updates merged), never from a library model that could coerce a value (`true` into
1.0 °C). One pass over a resource gives a `Value`; the entity shows it and the store
gets its `Reading`. A value of the wrong type, not finite, out of range, or missing makes
only that metric unavailable; a sensor that reports a value as not valid (or is
disabled) makes it unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
import math
from typing import Any, NamedTuple

from homeassistant.util import dt as dt_util

from ...const import SOURCE_HUE
from ...coordinator import SourceDevice
from ...models import DeviceRecord, Metric, Reading

UNITS: dict[Metric, str | None] = {
    Metric.TEMPERATURE: "°C",
    Metric.ILLUMINANCE: "lx",
    Metric.BATTERY: "%",
    Metric.MOTION: None,
    Metric.CONNECTIVITY: None,
}
# Values outside these bounds are not something a motion sensor can report.
RANGES: dict[Metric, tuple[float, float]] = {
    Metric.TEMPERATURE: (-50.0, 100.0),
    Metric.ILLUMINANCE: (0.0, 200_000.0),
    Metric.BATTERY: (0.0, 100.0),
    Metric.MOTION: (0.0, 1.0),
    Metric.CONNECTIVITY: (0.0, 1.0),
}
MAX_LIGHT_LEVEL = 65535  # the bridge reports a 16-bit value

# v1: one Hue motion sensor is three sensors sharing the first 23 characters of their
# `uniqueid` ("00:17:88:01:02:03:04:05"); the presence sensor's name names it.
V1_PRESENCE = "ZLLPresence"
V1_METRICS: dict[str, tuple[Metric, str]] = {
    V1_PRESENCE: (Metric.MOTION, "presence"),
    "ZLLLightLevel": (Metric.ILLUMINANCE, "lightlevel"),
    "ZLLTemperature": (Metric.TEMPERATURE, "temperature"),
}
V1_UNIQUEID_PREFIX = 23

# v2: sensor service type -> (metric, feature object, value key); the last two have no
# feature object and no device time.
V2_SERVICES: dict[str, tuple[Metric, str, str]] = {
    "temperature": (Metric.TEMPERATURE, "temperature", "temperature"),
    "light_level": (Metric.ILLUMINANCE, "light", "light_level"),
    "motion": (Metric.MOTION, "motion", "motion"),
    "device_power": (Metric.BATTERY, "power_state", "battery_level"),
    "zigbee_connectivity": (Metric.CONNECTIVITY, "", "status"),
}
ROOM_TYPE = "room"  # a room's `children` are the devices in it
SENSOR_SERVICES = frozenset({"temperature", "light_level", "motion"})


class MalformedValueError(ValueError):
    """A value of the wrong type, not finite, out of range, or missing."""


class Value(NamedTuple):
    """One metric as the bridge reported it, checked.

    `value` None with no `problem` is unknown (not valid, disabled, not reported);
    a `problem` makes the metric unavailable.
    """

    metric: Metric
    value: float | None
    changed: datetime | None = None
    problem: str | None = None

    def reading(self, key: str, received: datetime) -> Reading | None:
        """Return the store reading of a known value (receive time if untimed)."""
        if self.value is None:
            return None
        timed = self.changed is not None
        measured_at = self.changed if self.changed is not None else received
        return Reading(
            key, self.metric, self.value, UNITS[self.metric], measured_at, timed
        )


def device_key(bridge_id: str, device_id: str) -> str:
    """Return the stable key of a physical sensor on a bridge."""
    return f"{SOURCE_HUE}:{bridge_id}:{device_id}"


def number(value: object) -> float:
    """Return `value` as a finite float, or raise MalformedValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedValueError(f"{type(value).__name__} instead of a number")
    if not math.isfinite(value):
        raise MalformedValueError("not a finite number")
    return float(value)


def flag(value: object) -> float:
    """Return a boolean as 1.0/0.0, or raise MalformedValueError."""
    if not isinstance(value, bool):
        raise MalformedValueError(f"{type(value).__name__} instead of true/false")
    return 1.0 if value else 0.0


def lux(light_level: object) -> float:
    """Convert Hue's light level (10000 * log10(lux) + 1) to lux."""
    level = number(light_level)
    if level > MAX_LIGHT_LEVEL:
        raise MalformedValueError("out of range")
    if level <= 0:
        return 0.0
    return round(10 ** ((level - 1) / 10000), 2)


def checked(metric: Metric, value: float) -> float:
    """Return `value` rounded for `metric`, or raise if it is out of range."""
    low, high = RANGES[metric]
    if not low <= value <= high:
        raise MalformedValueError("out of range")
    return round(value, 2)


def convert(metric: Metric, raw: object) -> float:
    """Return a raw bridge value as the metric's value; raise MalformedValueError."""
    if metric is Metric.MOTION:
        return flag(raw)
    if metric is Metric.ILLUMINANCE:
        return checked(metric, lux(raw))
    return checked(metric, number(raw))


def _mapping(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedValueError(f"no {name} object")
    return value


def _time(value: object) -> datetime:
    if not isinstance(value, str) or (parsed := dt_util.parse_datetime(value)) is None:
        raise MalformedValueError("unreadable time")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- v2 -----------------------------------------------------------------------------
def v2_value(resource: Mapping[str, Any]) -> Value:
    """Check one v2 sensor service resource and return its metric's value."""
    metric = V2_SERVICES[resource["type"]][0]
    try:
        return _v2_value(resource)
    except MalformedValueError as err:
        return Value(metric, None, problem=str(err))


def _v2_value(resource: Mapping[str, Any]) -> Value:
    metric, feature_name, key = V2_SERVICES[resource["type"]]
    if metric is Metric.CONNECTIVITY:
        status = resource.get("status")
        if not isinstance(status, str):
            raise MalformedValueError("no status")
        return Value(metric, 1.0 if status == "connected" else 0.0)
    feature = _mapping(resource.get(feature_name), feature_name)
    if metric is Metric.BATTERY:
        level = feature.get(key)
        return Value(metric, None if level is None else convert(metric, level))
    if resource.get("enabled", True) is False or feature.get(f"{key}_valid") is False:
        return Value(metric, None)
    if (report := feature.get(f"{key}_report")) is not None:
        report = _mapping(report, f"{key}_report")
        return Value(
            metric, convert(metric, _field(report, key)), _time(report.get("changed"))
        )
    # Older firmware: only the flat field, without a time.
    raw = _field(feature, key)
    return Value(metric, None if raw is None else convert(metric, raw))


def _field(data: Mapping[str, Any], key: str) -> Any:
    if key not in data:
        raise MalformedValueError(f"no {key}")
    return data[key]


def v2_owner(resource: Mapping[str, Any]) -> str | None:
    """Return the id of the device a service resource belongs to."""
    owner = resource.get("owner")
    rid = owner.get("rid") if isinstance(owner, dict) else None
    return rid if isinstance(rid, str) else None


def v2_services(device: Mapping[str, Any]) -> dict[str, str]:
    """Return {service type: resource id} of a v2 device."""
    services = device.get("services")
    found: dict[str, str] = {}
    for service in services if isinstance(services, list) else ():
        if isinstance(service, dict):
            rtype, rid = service.get("rtype"), service.get("rid")
            if isinstance(rtype, str) and isinstance(rid, str):
                found[rtype] = rid
    return found


def _text(data: object, *path: str) -> str | None:
    for name in path:
        data = data.get(name) if isinstance(data, dict) else None
    return data if isinstance(data, str) else None


def v2_record(
    key: str, device: Mapping[str, Any], fallback: str, room: str | None = None
) -> DeviceRecord:
    """Return the record of a v2 device (names from its metadata, room as location)."""
    return DeviceRecord(
        key,
        SOURCE_HUE,
        _text(device, "metadata", "name") or fallback,
        model=_text(device, "product_data", "product_name"),
        manufacturer=_text(device, "product_data", "manufacturer_name"),
        location=room,
    )


def v2_room_names(rooms: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Return {device id: room name} from the bridge's room resources."""
    found: dict[str, str] = {}
    for room in rooms:
        name, children = _text(room, "metadata", "name"), room.get("children")
        for child in children if isinstance(children, list) else ():
            rid = child.get("rid") if isinstance(child, dict) else None
            if name and isinstance(rid, str) and child.get("rtype") == "device":
                found.setdefault(rid, name)
    return found


def merge(current: dict[str, Any], update: dict[str, Any]) -> None:
    """Merge a partial resource into the full one, as the bridge means it."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(old := current.get(key), dict):
            merge(old, value)
        else:
            current[key] = value


def v2_hub(devices: Iterable[Mapping[str, Any]], hub_key: str) -> DeviceRecord:
    """Return the bridge's own device record (the parent of every sensor)."""
    for device in devices:
        if "bridge" in v2_services(device):
            return v2_record(hub_key, device, "Hue Bridge")
    return DeviceRecord(hub_key, SOURCE_HUE, "Hue Bridge", model="Hue Bridge")


def v2_devices(
    devices: Iterable[Mapping[str, Any]],
    resources: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, Value],
    bridge_id: str,
    hub_key: str,
    *,
    rooms: Iterable[Mapping[str, Any]] = (),
) -> dict[str, SourceDevice]:
    """Return a snapshot of every v2 sensor device from its checked values."""
    snapshot: dict[str, SourceDevice] = {}
    room_of = v2_room_names(rooms)
    for device in devices:
        services = v2_services(device)
        if not any(services.get(rtype) in values for rtype in SENSOR_SERVICES):
            continue  # not a sensor, or its sensor services are gone (deleted)
        key = device_key(bridge_id, device["id"])
        found = {
            metric: values.get(services[rtype], Value(metric, None, problem="missing"))
            for rtype, (metric, _, _) in V2_SERVICES.items()
            if rtype in services
        }
        connectivity = found.get(Metric.CONNECTIVITY)
        snapshot[key] = SourceDevice(
            record=v2_record(key, device, key, room_of.get(device["id"])),
            metrics=frozenset(found),
            values={metric: value.value for metric, value in found.items()},
            unavailable=frozenset(m for m, v in found.items() if v.problem),
            online=connectivity is None or connectivity.value != 0.0,
            via_device=hub_key,
            serial_number=_text(
                resources.get(services.get("zigbee_connectivity", "")), "mac_address"
            ),
            sw_version=_text(device, "product_data", "software_version"),
        )
    return snapshot


# -- v1 -----------------------------------------------------------------------------
def parse_lastupdated(value: object) -> datetime | None:
    """Parse v1 `lastupdated` (UTC without zone; "none" before the first report)."""
    if not isinstance(value, str) or value == "none":
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


class _V1Device:
    """What the three v1 sensors of one physical sensor add up to."""

    def __init__(self, key: str, serial: str) -> None:
        self.key = key
        self.serial = serial
        self.sensor: Mapping[str, Any] = {}
        self.values: dict[Metric, Value] = {}
        self.reachable = True

    def add(self, sensor: Mapping[str, Any]) -> None:
        metric, field = V1_METRICS[sensor["type"]]
        state, config = sensor.get("state"), sensor.get("config")
        state = state if isinstance(state, dict) else {}
        config = config if isinstance(config, dict) else {}
        if sensor["type"] == V1_PRESENCE or not self.sensor:
            self.sensor = sensor
        self.values[metric] = _v1_value(metric, state, field)
        self.reachable = self.reachable and config.get("reachable") is not False
        # The three sensors report the same battery.
        if Metric.BATTERY not in self.values and config.get("battery") is not None:
            self.values[Metric.BATTERY] = _v1_value(Metric.BATTERY, config, "battery")

    def device(self, hub_key: str) -> SourceDevice:
        self.values.setdefault(Metric.BATTERY, Value(Metric.BATTERY, None))
        connected = 1.0 if self.reachable else 0.0
        self.values[Metric.CONNECTIVITY] = Value(Metric.CONNECTIVITY, connected)
        sensor = self.sensor
        model = sensor.get("productname") or sensor.get("modelid")
        return SourceDevice(
            record=DeviceRecord(
                self.key,
                SOURCE_HUE,
                str(sensor.get("name") or self.key),
                str(model) if model else None,
                _text(sensor, "manufacturername"),
            ),
            metrics=frozenset(self.values),
            values={metric: value.value for metric, value in self.values.items()},
            unavailable=frozenset(m for m, v in self.values.items() if v.problem),
            online=self.reachable,
            via_device=hub_key,
            serial_number=self.serial,
            sw_version=_text(sensor, "swversion"),
        )


def _v1_value(metric: Metric, data: Mapping[str, Any], field: str) -> Value:
    """Check one v1 value; temperatures come in 0.01 °C."""
    changed = None
    if (
        metric is not Metric.BATTERY
        and (changed := parse_lastupdated(data.get("lastupdated"))) is None
    ):
        return Value(metric, None)  # never reported
    raw = data.get(field)
    if raw is None:
        return Value(metric, None, changed)
    try:
        if metric is Metric.TEMPERATURE:
            return Value(metric, checked(metric, number(raw) / 100), changed)
        return Value(metric, convert(metric, raw), changed)
    except MalformedValueError as err:
        return Value(metric, None, changed, problem=str(err))


def v1_devices(
    raw: Mapping[str, Any], bridge_id: str, hub_key: str, received: datetime
) -> tuple[dict[str, SourceDevice], list[Reading]]:
    """Return the motion-sensor devices in a `/sensors` answer and their readings.

    Battery and connectivity have no time in v1; they are stamped `received`.
    """
    grouped: dict[str, _V1Device] = {}
    for sensor in raw.values():
        if not isinstance(sensor, dict) or sensor.get("type") not in V1_METRICS:
            continue
        uniqueid = sensor.get("uniqueid")
        if not isinstance(uniqueid, str) or len(uniqueid) < V1_UNIQUEID_PREFIX:
            continue
        prefix = uniqueid[:V1_UNIQUEID_PREFIX]
        if (group := grouped.get(prefix)) is None:
            grouped[prefix] = group = _V1Device(device_key(bridge_id, prefix), prefix)
        group.add(sensor)
    devices = {group.key: group.device(hub_key) for group in grouped.values()}
    readings = [
        reading
        for group in grouped.values()
        for value in group.values.values()
        if (reading := value.reading(group.key, received)) is not None
    ]
    return devices, readings
