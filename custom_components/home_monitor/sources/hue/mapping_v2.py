"""CLIP v2 resources (aiohue models) to device snapshots and readings.

aiohue hands subscribers the same mutable model objects it updates in place, so values are
copied into immutable `Reading`s and fresh `SourceDevice`s at the time of each call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...const import SOURCE_HUE
from ...coordinator import SourceDevice
from ...models import DeviceRecord, Metric, Reading
from .values import MalformedValueError, checked, device_key, flag, lux, number, reading

SERVICE_METRICS: dict[str, Metric] = {
    "temperature": Metric.TEMPERATURE,
    "light_level": Metric.ILLUMINANCE,
    "motion": Metric.MOTION,
    "device_power": Metric.BATTERY,
    "zigbee_connectivity": Metric.CONNECTIVITY,
}
SENSOR_SERVICES = frozenset({"temperature", "light_level", "motion"})
CONNECTED = "connected"


@dataclass(frozen=True, slots=True)
class Sample:
    """One resource's current value and the time the bridge says it changed."""

    value: float | None
    changed: datetime | None


def _enum_value(value: Any) -> Any:
    return getattr(value, "value", value)


def _feature(item: Any, name: str, key: str) -> Sample:
    """Read a sensing feature: `*_report` first, then the older flat fields."""
    feature = getattr(item, name, None)
    if not getattr(item, "enabled", True) or feature is None:
        return Sample(None, None)
    if getattr(feature, f"{key}_valid", None) is False:
        return Sample(None, None)
    report = getattr(feature, f"{key}_report", None)
    if report is not None:
        return Sample(getattr(report, key), report.changed)
    return Sample(getattr(feature, key, None), None)


def sample(rtype: str, item: Any) -> Sample:
    """Return the converted value of a sensor resource; raise MalformedValueError."""
    metric = SERVICE_METRICS[rtype]
    if rtype == "temperature":
        raw = _feature(item, "temperature", "temperature")
        value = None if raw.value is None else number(raw.value)
    elif rtype == "light_level":
        raw = _feature(item, "light", "light_level")
        value = None if raw.value is None else lux(raw.value)
    elif rtype == "motion":
        raw = _feature(item, "motion", "motion")
        value = None if raw.value is None else flag(raw.value)
    elif rtype == "device_power":
        level = getattr(item.power_state, "battery_level", None)
        raw = Sample(level, None)
        value = None if level is None else number(level)
    else:
        status = _enum_value(item.status)
        if not isinstance(status, str):
            raise MalformedValueError("status")
        raw = Sample(None, None)
        value = 1.0 if status == CONNECTED else 0.0
    return Sample(None if value is None else checked(metric, value), raw.changed)


def sensor_services(device: Any) -> dict[str, str]:
    """Return {service type: resource id} of a device that is a sensor, else {}."""
    services = {_enum_value(s.rtype): s.rid for s in device.services}
    return services if SENSOR_SERVICES & services.keys() else {}


def readings_for(
    bridge_id: str, rtype: str, item: Any, now: datetime
) -> tuple[str, list[Reading]] | None:
    """Return (device key, readings) for an updated sensor resource.

    None when the resource belongs to no device or its value is malformed.
    """
    owner = getattr(item, "owner", None)
    if rtype not in SERVICE_METRICS or owner is None:
        return None
    key = device_key(bridge_id, owner.rid)
    try:
        current = sample(rtype, item)
    except MalformedValueError, AttributeError:
        return None
    return key, reading(
        key, SERVICE_METRICS[rtype], current.value, current.changed or now
    )


def _checked_sample(rtype: str, item: Any, malformed: bool) -> float | None:
    if item is None or malformed:
        raise MalformedValueError("missing")
    return sample(rtype, item).value


def build_devices(
    bridge: Any, bridge_id: str, malformed: set[str], hub_key: str
) -> dict[str, SourceDevice]:
    """Return a snapshot of every sensor device the bridge knows."""
    devices: dict[str, SourceDevice] = {}
    for device in bridge.devices:
        if not (services := sensor_services(device)) or not any(
            rid in bridge.controllers[rtype] or rid in malformed
            for rtype, rid in services.items()
            if rtype in SENSOR_SERVICES
        ):
            continue  # not a sensor, or its sensor services are gone (deleted)
        metrics: set[Metric] = set()
        values: dict[Metric, float | None] = {}
        unavailable: set[Metric] = set()
        online = True
        serial = None
        for rtype, metric in SERVICE_METRICS.items():
            if (rid := services.get(rtype)) is None:
                continue
            metrics.add(metric)
            item = bridge.controllers[rtype].get(rid)
            try:
                values[metric] = _checked_sample(rtype, item, rid in malformed)
            except MalformedValueError, AttributeError:
                values[metric] = None
                unavailable.add(metric)
                continue
            if metric is Metric.CONNECTIVITY:
                online = values[metric] == 1.0
                serial = getattr(item, "mac_address", None)
        key = device_key(bridge_id, device.id)
        product = device.product_data
        devices[key] = SourceDevice(
            record=DeviceRecord(
                key,
                SOURCE_HUE,
                device.metadata.name,
                model=product.product_name,
                manufacturer=product.manufacturer_name,
            ),
            metrics=frozenset(metrics),
            values=values,
            unavailable=frozenset(unavailable),
            online=online,
            via_device=hub_key,
            serial_number=serial,
            sw_version=product.software_version,
        )
    return devices


def hub_record(bridge: Any, bridge_id: str) -> DeviceRecord:
    """Return the bridge's own device record (the parent of every sensor)."""
    key = device_key(bridge_id, "bridge")
    for device in bridge.devices:
        if "bridge" in {_enum_value(s.rtype) for s in device.services}:
            product = device.product_data
            return DeviceRecord(
                key,
                SOURCE_HUE,
                device.metadata.name,
                model=product.product_name,
                manufacturer=product.manufacturer_name,
            )
    return DeviceRecord(key, SOURCE_HUE, "Hue Bridge", model="Hue Bridge")
