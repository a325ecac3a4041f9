"""Value types shared by the sources, the coordinators and the history store."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Metric(StrEnum):
    """What a reading measures; the store keys its metric table on these values."""

    TEMPERATURE = "temperature"
    ILLUMINANCE = "illuminance"
    MOTION = "motion"
    BATTERY = "battery"
    CONNECTIVITY = "connectivity"
    HUMIDITY = "humidity"
    VOC_INDEX = "voc_index"
    PM25 = "pm25"
    PM10 = "pm10"
    CO = "co"
    AIR_QUALITY = "air_quality"


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement of one metric of one physical device.

    `device_key` is globally unique and stable across restarts, for example
    ``hue:<bridge id>:<device id>`` or ``amazon:<customer id>:<serial>``.
    `measured_at` is the time the device says the value was taken (timezone
    aware, UTC). `device_time` is False when the source had no device time
    and used the time it received the value instead (or the coordinator
    replaced a device time it could not trust). The coordinator decides which
    readings are new; the store keeps one row per (device, metric,
    measured_at) and stores a different value at a taken time a millisecond
    later.
    """

    device_key: str
    metric: Metric
    value: float
    unit: str | None
    measured_at: datetime
    device_time: bool = True


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A physical device as the store's device table knows it."""

    device_key: str
    source: str
    name: str
    model: str | None = None
    manufacturer: str | None = None
    location: str | None = None
