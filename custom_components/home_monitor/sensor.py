"""Sensor entities: one per measured metric of each device."""

from __future__ import annotations

from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import LIGHT_LUX, PERCENTAGE, EntityCategory, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import MICROGRAMS_PER_CUBIC_METER, PARTS_PER_MILLION
from .coordinator import HomeMonitorConfigEntry
from .entity import (
    HomeMonitorEntity,
    async_add_entities_as_found,
    descriptions_by_metric,
)
from .models import Metric

# Entities only read the coordinator's snapshot.
PARALLEL_UPDATES = 0

# Metrics that devices only report in whole numbers.
WHOLE_NUMBERS = frozenset({Metric.BATTERY})

SENSORS = descriptions_by_metric(
    SensorEntityDescription(
        key=Metric.TEMPERATURE,
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
    ),
    SensorEntityDescription(
        key=Metric.ILLUMINANCE,
        device_class=SensorDeviceClass.ILLUMINANCE,
        native_unit_of_measurement=LIGHT_LUX,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
    ),
    SensorEntityDescription(
        key=Metric.BATTERY,
        device_class=SensorDeviceClass.BATTERY,
        suggested_display_precision=0,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    SensorEntityDescription(
        key=Metric.HUMIDITY,
        device_class=SensorDeviceClass.HUMIDITY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
    ),
    SensorEntityDescription(
        key=Metric.VOC_INDEX,
        translation_key="voc_index",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
    ),
    SensorEntityDescription(
        key=Metric.PM25,
        device_class=SensorDeviceClass.PM25,
        native_unit_of_measurement=MICROGRAMS_PER_CUBIC_METER,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
    ),
    SensorEntityDescription(
        key=Metric.PM10,
        device_class=SensorDeviceClass.PM10,
        native_unit_of_measurement=MICROGRAMS_PER_CUBIC_METER,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
    ),
    SensorEntityDescription(
        key=Metric.CO,
        device_class=SensorDeviceClass.CO,
        native_unit_of_measurement=PARTS_PER_MILLION,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
    ),
    SensorEntityDescription(
        key=Metric.AIR_QUALITY,
        translation_key="air_quality",
        device_class=SensorDeviceClass.AQI,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeMonitorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for every device of the entry, now and as they appear."""
    async_add_entities_as_found(entry, SENSORS, HomeMonitorSensor, async_add_entities)


class HomeMonitorSensor(HomeMonitorEntity, SensorEntity):
    """A measured value of a device."""

    @property
    @override
    def native_value(self) -> float | int | None:
        """Return the latest value, or None when it is missing or invalid."""
        value = self.value
        if value is not None and self.metric in WHOLE_NUMBERS:
            return round(value)
        return value
