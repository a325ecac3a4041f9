"""The home a simulated Hue bridge serves.

Motion sensors with changing values, plus lights, rooms, scenes and rules so the full
configuration has a realistic size.

Motion sensors are the one source of truth for both APIs: v1 sees each as three sensors
(presence, light level, temperature) sharing a uniqueid prefix, v2 as a device with motion,
light_level, temperature, device_power and zigbee_connectivity services.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
import random
from typing import Any
import uuid

from . import hue_catalog as catalog
from .hue_catalog import v1_time, v2_time

__all__ = ["Clock", "HomeSpec", "HueHome", "MotionSensor", "v1_time", "v2_time"]

START_TIME = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@dataclass(slots=True)
class HomeSpec:
    """How big the simulated home is."""

    lights: int = 6
    motion_sensors: int = 2
    rooms: int = 3
    scenes: int = 4
    rules: int = 2
    seed: int = 1
    sensors_in_rooms: bool = True  # False: rooms hold lights only


@dataclass(slots=True)
class Clock:
    """Simulated wall clock; tests and benchmarks move it forward."""

    now: datetime = START_TIME

    def advance(self, seconds: float) -> datetime:
        """Move forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass(slots=True)
class MotionSensor:
    """One physical Hue motion sensor and its current values."""

    index: int
    name: str
    mac: str
    v1_ids: tuple[str, str, str]  # presence, light level, temperature
    ids: dict[str, str]  # v2 resource type -> id ("device", "motion", ...)
    changed: dict[str, datetime]
    temperature: float | None = 20.5
    light_level: int | None = 12000
    motion: bool | None = False
    battery: int | None = 100
    connected: bool = True
    valid: dict[str, bool] = field(
        default_factory=lambda: {
            "temperature": True,
            "light_level": True,
            "motion": True,
        }
    )
    # Fault injection: value to send instead of the real one, or fields to leave out.
    corrupt: dict[str, Any] = field(default_factory=dict)
    omit: set[str] = field(default_factory=set)

    def raw(self, name: str) -> Any:
        """Return the value to put on the wire for `name` (corrupted if asked)."""
        return self.corrupt.get(name, getattr(self, name))

    @property
    def uniqueid_prefix(self) -> str:
        """Return the v1 uniqueid prefix shared by the three v1 sensors."""
        return f"{self.mac}-02"


class HueHome:
    """A whole home: state plus v1/v2 JSON rendering."""

    def __init__(
        self, spec: HomeSpec | None = None, clock: Clock | None = None
    ) -> None:
        """Generate a home; the same spec always gives the same ids."""
        self.spec = spec or HomeSpec()
        self.clock = clock or Clock()
        self._rand = random.Random(self.spec.seed)
        self.bridge_id = f"001788fffe{self._rand.getrandbits(24):06x}"
        self.bridge_ids = {
            "device": self.uuid(),
            "bridge": self.uuid(),
            "zigbee": self.uuid(),
        }
        self.bridge_home_id = self.uuid()
        self.rooms = [
            (self.uuid(), self.uuid(), f"Room {n + 1}") for n in range(self.spec.rooms)
        ]
        self.lights = [
            (self.uuid(), self.uuid(), self.uuid()) for _ in range(self.spec.lights)
        ]
        self.scene_ids = [self.uuid() for _ in range(self.spec.scenes)]
        self.geofence_clients: dict[str, str] = {}
        self.sensors: list[MotionSensor] = []
        self._next_v1 = 2  # v1 sensor "1" is the built-in Daylight sensor
        for n in range(self.spec.motion_sensors):
            self.add_sensor(f"Motion sensor {n + 1}")

    # -- a state file (script/develop) ----------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Return what changes over the home's life, as JSON data.

        The bridge's own ids, lights, rooms and scenes follow from the spec's seed; the
        motion sensors, the clock, the random state and the geofence clients are kept.
        """
        version, internal, gauss = self._rand.getstate()
        return {
            "spec": asdict(self.spec),
            "clock": self.clock.now.isoformat(),
            "random": [version, list(internal), gauss],
            "next_v1": self._next_v1,
            "geofence_clients": self.geofence_clients,
            "sensors": [
                {
                    "index": s.index,
                    "name": s.name,
                    "mac": s.mac,
                    "v1_ids": list(s.v1_ids),
                    "ids": s.ids,
                    "changed": {k: t.isoformat() for k, t in s.changed.items()},
                    "temperature": s.temperature,
                    "light_level": s.light_level,
                    "motion": s.motion,
                    "battery": s.battery,
                    "connected": s.connected,
                    "valid": s.valid,
                }
                for s in self.sensors
            ],
        }

    @classmethod
    def restore(cls, data: dict[str, Any]) -> HueHome:
        """Return the home `snapshot()` described."""
        home = cls(
            HomeSpec(**data["spec"]), Clock(datetime.fromisoformat(data["clock"]))
        )
        version, internal, gauss = data["random"]
        home._rand.setstate((version, tuple(internal), gauss))
        home._next_v1 = int(data["next_v1"])
        home.geofence_clients = dict(data["geofence_clients"])
        home.sensors = [
            MotionSensor(
                s["index"],
                s["name"],
                s["mac"],
                tuple(s["v1_ids"]),
                dict(s["ids"]),
                {k: datetime.fromisoformat(t) for k, t in s["changed"].items()},
                temperature=s["temperature"],
                light_level=s["light_level"],
                motion=s["motion"],
                battery=s["battery"],
                connected=s["connected"],
                valid=dict(s["valid"]),
            )
            for s in data["sensors"]
        ]
        return home

    def uuid(self) -> str:
        """Return a fresh, reproducible resource id."""
        return str(uuid.UUID(int=self._rand.getrandbits(128), version=4))

    # -- motion sensors -------------------------------------------------------------
    def add_sensor(self, name: str) -> MotionSensor:
        """Pair a new motion sensor."""
        index = len(self.sensors)
        mac = ":".join(
            ["00", "17", "88", "01"]
            + [f"{self._rand.getrandbits(8):02x}" for _ in range(4)]
        )
        v1 = (str(self._next_v1), str(self._next_v1 + 1), str(self._next_v1 + 2))
        self._next_v1 += 3
        kinds = ("device", "motion", "light_level", "temperature", "device_power")
        ids = {
            kind: self.uuid() for kind in (*kinds, "zigbee_connectivity", "software")
        }
        now = self.clock.now
        sensor = MotionSensor(
            index,
            name,
            mac,
            v1,
            ids,
            dict.fromkeys(("temperature", "light_level", "motion"), now),
            temperature=round(19.0 + 0.5 * index, 2),
        )
        self.sensors.append(sensor)
        return sensor

    def sensor_by_resource(self, resource_id: str) -> MotionSensor | None:
        """Find the sensor that owns a v2 resource id."""
        return next((s for s in self.sensors if resource_id in s.ids.values()), None)

    # -- v1 ---------------------------------------------------------------------------
    def v1_sensors(self) -> dict[str, Any]:
        """Return `/api/<key>/sensors`."""
        result: dict[str, Any] = {"1": catalog.v1_daylight(self.clock.now)}
        for sensor in self.sensors:
            result.update(catalog.v1_motion_sensor(sensor))
        return result

    def v1_public_config(self) -> dict[str, Any]:
        """Return the unauthenticated `/api/config`."""
        return catalog.v1_public_config(self.bridge_id)

    def v1_config(self, keys: dict[str, str]) -> dict[str, Any]:
        """Return `/api/<key>/config` (whitelist included)."""
        return catalog.v1_config(self.bridge_id, keys, self.clock.now)

    def v1_full(self, keys: dict[str, str]) -> dict[str, Any]:
        """Return the whole v1 datastore, `/api/<key>`."""
        light_ids = [str(n + 1) for n in range(len(self.lights))]
        return {
            "lights": {
                lid: catalog.v1_light(int(lid), self.lights[int(lid) - 1][0])
                for lid in light_ids
            },
            "groups": catalog.v1_groups(self.rooms, light_ids),
            "config": self.v1_config(keys),
            "schedules": catalog.v1_schedules(self.spec.rules),
            "scenes": catalog.v1_scenes(self.spec.scenes, light_ids, self.clock.now),
            "rules": catalog.v1_rules(self.spec.rules, self.sensors, self.clock.now),
            "sensors": self.v1_sensors(),
            "resourcelinks": catalog.v1_resourcelinks(self.spec.scenes),
        }

    # -- v2 ---------------------------------------------------------------------------
    def v2_sensor_resources(self, sensor: MotionSensor) -> list[dict[str, Any]]:
        """Return a sensor's device and service resources (full objects)."""
        resources = [catalog.v2_sensor_device(sensor)]
        resources += [
            self.v2_service(sensor, kind)
            for kind in (
                "motion",
                "light_level",
                "temperature",
                "device_power",
                "zigbee_connectivity",
            )
        ]
        resources.append(
            catalog.v2_software_update(sensor.ids["software"], sensor.ids["device"])
        )
        return resources

    def v2_service(self, sensor: MotionSensor, kind: str) -> dict[str, Any]:
        """Return one v2 sensor service resource as the bridge shows it now."""
        resource = catalog.v2_service(sensor, kind)
        for name in sensor.omit:
            resource.pop(catalog.V2_FEATURE.get(name, name), None)
        return resource

    def v2_resources(self, resource_type: str | None = None) -> list[dict[str, Any]]:
        """Return `/clip/v2/resource` or `/clip/v2/resource/<type>`."""
        items: list[dict[str, Any]] = []
        items += catalog.v2_bridge(
            self.bridge_id, self.bridge_ids, self.bridge_home_id, self.rooms
        )
        for sensor in self.sensors:
            items += self.v2_sensor_resources(sensor)
        items += catalog.v2_lights(self.lights, self.rooms)
        sensors = self.sensors if self.spec.sensors_in_rooms else []
        items += catalog.v2_rooms(self.rooms, self.lights, sensors)
        items += catalog.v2_scenes(self.scene_ids, self.rooms, self.lights)
        items += catalog.v2_behaviors(self.spec.rules, self.spec.seed)
        items += [
            {"id": gid, "name": name, "type": "geofence_client"}
            for gid, name in self.geofence_clients.items()
        ]
        if resource_type is None:
            return items
        return [item for item in items if item["type"] == resource_type]
