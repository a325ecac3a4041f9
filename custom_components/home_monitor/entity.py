"""Base entities and dynamic entity adding, shared by the sensor platforms.

Besides one entity per measured metric, the health model has diagnostic
entities: an entry's on the entry's hub (the Hue bridge) or account device,
the history store's on one "Home Monitor history" device. Those belong to the
store's owner: the Home Monitor entry created first (`store_owner`), so they
are created once whatever the number of entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, SOURCE_AMAZON
from .coordinator import (
    STORE_DEVICE_KEY,
    HomeMonitorConfigEntry,
    HomeMonitorCoordinator,
    SourceDevice,
)
from .health_monitor import HealthMonitor
from .models import Metric

STORE_DEVICE_NAME: Final = "Home Monitor history"
# Who runs the service behind an account device (Hue entries use their bridge).
ACCOUNT_MANUFACTURERS: Final = {SOURCE_AMAZON: "Amazon"}


def _via(coordinator: HomeMonitorCoordinator, parent_key: str) -> DeviceInfo:
    """Link a device to its parent, which can only be the coordinator's hub."""
    hub = coordinator.hub_device
    if hub is None or hub.device_key != parent_key or not coordinator.hub_device_id:
        return DeviceInfo()
    return DeviceInfo(via_device_id=coordinator.hub_device_id)


class HomeMonitorEntity(CoordinatorEntity[HomeMonitorCoordinator]):
    """One metric of one physical device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: HomeMonitorCoordinator,
        device_key: str,
        description: EntityDescription,
    ) -> None:
        """Bind the entity to a device of the coordinator's snapshot."""
        super().__init__(coordinator)
        self.entity_description = description
        self.device_key = device_key
        self.metric = Metric(description.key)
        self._attr_unique_id = f"{device_key}_{description.key}"
        device = coordinator.data[device_key]
        record = device.record
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_key)},
            name=record.name,
            manufacturer=record.manufacturer,
            model=record.model,
            serial_number=device.serial_number,
            sw_version=device.sw_version,
            suggested_area=record.location,
        )
        if device.via_device is not None:
            self._attr_device_info.update(_via(coordinator, device.via_device))

    @property
    def device(self) -> SourceDevice | None:
        """Return the device's latest state, or None once it left the source."""
        return self.coordinator.data.get(self.device_key)

    @property
    def value(self) -> float | None:
        """Return the latest value of this entity's metric."""
        if (device := self.device) is None:
            return None
        return device.values.get(self.metric)

    @property
    @override
    def available(self) -> bool:
        """Return whether the source answered and this metric has a usable value."""
        device = self.device
        return (
            super().available
            and device is not None
            and device.is_available(self.metric)
        )


def descriptions_by_metric[DescriptionT: EntityDescription](
    *descriptions: DescriptionT,
) -> dict[Metric, DescriptionT]:
    """Return the descriptions of a platform by the metric each shows."""
    return {Metric(description.key): description for description in descriptions}


@callback
def async_add_entities_as_found[DescriptionT: EntityDescription](
    entry: HomeMonitorConfigEntry,
    descriptions: Mapping[Metric, DescriptionT],
    entity_factory: Callable[[HomeMonitorCoordinator, str, DescriptionT], Entity],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an entity per (device, metric) now and whenever new ones appear."""
    coordinator = entry.runtime_data.coordinator
    added: set[tuple[str, Metric]] = set()

    @callback
    def _async_add_new() -> None:
        data = coordinator.data or {}
        if coordinator.remove_stale_devices:
            # A device removed from the registry took its entities with it; if it
            # comes back, it gets them again.
            added.intersection_update(
                (key, metric) for key, metric in added if key in data
            )
        new: list[Entity] = []
        for device_key, device in data.items():
            for metric in device.metrics:
                if metric in descriptions and (device_key, metric) not in added:
                    added.add((device_key, metric))
                    new.append(
                        entity_factory(coordinator, device_key, descriptions[metric])
                    )
        if new:
            async_add_entities(new)

    _async_add_new()
    entry.async_on_unload(coordinator.async_add_listener(_async_add_new))


def store_owner(hass: HomeAssistant) -> ConfigEntry | None:
    """Return the entry whose platforms create the history store's entities.

    The entry created first, enabled or not, so the choice only changes when
    that entry is deleted (`async_hand_over_store_entities`).
    """
    entries = hass.config_entries.async_entries(DOMAIN, include_ignore=False)
    return min(entries, key=lambda e: (e.created_at, e.entry_id), default=None)


def takes_store_entities(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Return whether `entry`'s platforms create the history store's entities now.

    The owner does, unless another entry already runs them: one added later that
    sorts first (made at the same moment) leaves them where they are until then.
    """
    owner = store_owner(hass)
    if owner is None or owner.entry_id != entry.entry_id:
        return False
    entities = er.async_get(hass)
    return not any(
        held.config_entry_id != entry.entry_id and hass.states.get(held.entity_id)
        for device in dr.async_get(hass).async_get_devices(
            identifiers={(DOMAIN, STORE_DEVICE_KEY)}
        )
        for held in er.async_entries_for_device(entities, device.id)
    )


@callback
def async_hand_over_store_entities(hass: HomeAssistant, removed: ConfigEntry) -> None:
    """After the owner is deleted, reload the next owner so it creates them."""
    owner = store_owner(hass)
    if owner is not None and owner.entry_id != removed.entry_id:
        hass.config_entries.async_schedule_reload(owner.entry_id)


class HealthEntity(Entity):
    """A diagnostic entity of the health model, updated after every health run."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, monitor: HealthMonitor, description: EntityDescription) -> None:
        """Show one figure of the monitor's latest report."""
        self.monitor = monitor
        self.entity_description = description

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the monitor's runs."""
        await super().async_added_to_hass()
        self.async_on_remove(self.monitor.async_add_listener(self.async_write_ha_state))


def entry_device_info(coordinator: HomeMonitorCoordinator) -> DeviceInfo:
    """Return the device carrying an entry's health entities (hub or account)."""
    key = coordinator.health_device_key
    if coordinator.hub_device is not None:
        return DeviceInfo(identifiers={(DOMAIN, key)})
    return DeviceInfo(
        identifiers={(DOMAIN, key)},
        name=coordinator.config_entry.title,
        manufacturer=ACCOUNT_MANUFACTURERS.get(coordinator.source),
        entry_type=DeviceEntryType.SERVICE,
    )


STORE_DEVICE_INFO: Final = DeviceInfo(
    identifiers={(DOMAIN, STORE_DEVICE_KEY)},
    name=STORE_DEVICE_NAME,
    manufacturer="Home Monitor",
    model="History store",
    entry_type=DeviceEntryType.SERVICE,
)
