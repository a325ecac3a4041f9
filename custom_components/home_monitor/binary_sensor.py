"""Binary sensor entities: motion and connectivity."""

from __future__ import annotations

from typing import override

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import HomeMonitorConfigEntry
from .entity import (
    HomeMonitorEntity,
    async_add_entities_as_found,
    descriptions_by_metric,
)
from .models import Metric

# Entities only read the coordinator's snapshot.
PARALLEL_UPDATES = 0

BINARY_SENSORS = descriptions_by_metric(
    BinarySensorEntityDescription(
        key=Metric.MOTION,
        device_class=BinarySensorDeviceClass.MOTION,
    ),
    BinarySensorEntityDescription(
        key=Metric.CONNECTIVITY,
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeMonitorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add binary sensors for every device of the entry, now and as they appear."""
    async_add_entities_as_found(
        entry, BINARY_SENSORS, HomeMonitorBinarySensor, async_add_entities
    )


class HomeMonitorBinarySensor(HomeMonitorEntity, BinarySensorEntity):
    """Motion or connectivity of a device."""

    @property
    @override
    def is_on(self) -> bool | None:
        """Return the state, or None when it is missing or invalid."""
        value = self.value
        return None if value is None else value > 0
