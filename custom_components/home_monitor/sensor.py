"""Sensor entities: one per measured metric of each device, and the health model's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    LIGHT_LUX,
    PERCENTAGE,
    EntityCategory,
    UnitOfInformation,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .const import MICROGRAMS_PER_CUBIC_METER, PARTS_PER_MILLION
from .coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator
from .entity import (
    STORE_DEVICE_INFO,
    HealthEntity,
    HomeMonitorEntity,
    async_add_entities_as_found,
    descriptions_by_metric,
    entry_device_info,
    takes_store_entities,
)
from .health import COMPONENT_STORE, ComponentHealth, HealthStatus
from .health_monitor import HealthMonitor, async_get_monitor
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


HEALTH_STATES = [str(status) for status in HealthStatus]


@dataclass(frozen=True, kw_only=True)
class EntryHealthDescription(SensorEntityDescription):
    """A health figure of one entry, read from its coordinator and the report."""

    value_fn: Callable[
        [HomeMonitorCoordinator, list[ComponentHealth]], StateType | datetime
    ]


@dataclass(frozen=True, kw_only=True)
class StoreHealthDescription(SensorEntityDescription):
    """A health figure of the history store, read from the report and the monitor."""

    value_fn: Callable[[HealthMonitor, ComponentHealth], StateType | datetime]


def _worst(components: list[ComponentHealth]) -> str | None:
    if not components:
        return None
    return str(HealthStatus.worst(component.status for component in components))


def _figure(name: str) -> Callable[[HealthMonitor, ComponentHealth], StateType]:
    def value(_: HealthMonitor, component: ComponentHealth) -> StateType:
        figure = component.figures.get(name)
        return figure if isinstance(figure, (int, float, str)) else None

    return value


ENTRY_HEALTH = (
    EntryHealthDescription(
        key="health",
        translation_key="health",
        device_class=SensorDeviceClass.ENUM,
        options=HEALTH_STATES,
        value_fn=lambda _, components: _worst(components),
    ),
    EntryHealthDescription(
        key="last_success",
        translation_key="last_success",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda coordinator, _: coordinator.last_success_at,
    ),
    EntryHealthDescription(
        key="consecutive_failures",
        translation_key="consecutive_failures",
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda coordinator, _: coordinator.consecutive_failures,
    ),
    EntryHealthDescription(
        key="retries_24h",
        translation_key="retries_24h",
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda coordinator, _: coordinator.recent_retries()[0],
    ),
)

STORE_HEALTH = (
    StoreHealthDescription(
        key="store_status",
        translation_key="store_status",
        device_class=SensorDeviceClass.ENUM,
        options=HEALTH_STATES,
        value_fn=lambda _, component: str(component.status),
    ),
    StoreHealthDescription(
        key="file_size",
        translation_key="file_size",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_figure("size_bytes"),
    ),
    StoreHealthDescription(
        key="free_space",
        translation_key="free_space",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_figure("free_bytes"),
    ),
    StoreHealthDescription(
        key="readings_stored",
        translation_key="readings_stored",
        state_class=SensorStateClass.TOTAL,
        entity_registry_enabled_default=False,
        value_fn=lambda monitor, _: monitor.readings_stored,
    ),
    StoreHealthDescription(
        key="readings_waiting",
        translation_key="readings_waiting",
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda _, component: (
            int(component.figures.get("readings_queued") or 0)
            + int(component.figures.get("readings_spooled") or 0)
        ),
    ),
    StoreHealthDescription(
        key="last_commit",
        translation_key="last_commit",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda _, component: _timestamp(
            component.figures.get("last_commit_at")
        ),
    ),
)


def _timestamp(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeMonitorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for every device of the entry, now and as they appear.

    The entry's health sensors go on its hub or account device; the history
    store's on the "Home Monitor history" device, by the store's owner only.
    """
    async_add_entities_as_found(entry, SENSORS, HomeMonitorSensor, async_add_entities)
    monitor = async_get_monitor(hass)
    coordinator = entry.runtime_data.coordinator
    health: list[SensorEntity] = [
        EntryHealthSensor(monitor, coordinator, description)
        for description in ENTRY_HEALTH
    ]
    if takes_store_entities(hass, entry):
        health += [
            StoreHealthSensor(monitor, description) for description in STORE_HEALTH
        ]
    async_add_entities(health)


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


class EntryHealthSensor(HealthEntity, SensorEntity):
    """A health figure of one entry (its health, failures, retries)."""

    entity_description: EntryHealthDescription

    def __init__(
        self,
        monitor: HealthMonitor,
        coordinator: HomeMonitorCoordinator,
        description: EntryHealthDescription,
    ) -> None:
        """Show `description`'s figure of the coordinator's entry."""
        super().__init__(monitor, description)
        self.coordinator = coordinator
        self._attr_unique_id = f"{coordinator.health_device_key}_{description.key}"
        self._attr_device_info = entry_device_info(coordinator)

    @property
    def _components(self) -> list[ComponentHealth]:
        report = self.monitor.report
        entry_id = self.coordinator.config_entry.entry_id
        return [] if report is None else report.for_entry(entry_id)

    @property
    @override
    def available(self) -> bool:
        """Return whether a health report covers the entry."""
        return bool(self._components)

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """Return the figure."""
        return self.entity_description.value_fn(self.coordinator, self._components)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the health sensor's reasons: the codes of what was found."""
        if self.entity_description.key != "health":
            return None
        return {
            "problems": [
                finding.code
                for component in self._components
                for finding in component.findings
            ]
        }


class StoreHealthSensor(HealthEntity, SensorEntity):
    """A health figure of the history store, on the "Home Monitor history" device."""

    entity_description: StoreHealthDescription
    _attr_device_info = STORE_DEVICE_INFO

    def __init__(
        self, monitor: HealthMonitor, description: StoreHealthDescription
    ) -> None:
        """Show `description`'s figure of the store."""
        super().__init__(monitor, description)
        self._attr_unique_id = f"history_store_{description.key}"

    @property
    def _component(self) -> ComponentHealth | None:
        report = self.monitor.report
        return None if report is None else report.component(COMPONENT_STORE)

    @property
    @override
    def available(self) -> bool:
        """Return whether a health report covers the store."""
        return self._component is not None

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """Return the figure."""
        if (component := self._component) is None:
            return None
        return self.entity_description.value_fn(self.monitor, component)
