"""JSON shapes of a Hue bridge (v1 datastore objects and CLIP v2 resources).

Shapes follow real bridges (BSB002, firmware 1.6x): field names, nesting and typical
sizes, so byte counts measured against the simulator are representative.
"""

# fmt: off
# Data tables: kept compact, one object per line where it fits.
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .hue_home import MotionSensor

SENSOR_MODEL = {"modelid": "SML001", "manufacturername": "Signify Netherlands B.V."}
SW_UPDATE = {"state": "noupdates", "lastinstall": "2026-05-01T08:12:40"}
V2_FEATURE = {"temperature": "temperature", "light_level": "light", "motion": "motion", "battery": "power_state"}
XY_GAMUT = {"red": {"x": 0.6915, "y": 0.3083}, "green": {"x": 0.17, "y": 0.7}, "blue": {"x": 0.1532, "y": 0.0475}}


def v1_time(moment: datetime) -> str:
    """Format a v1 `lastupdated` (UTC, no zone, whole seconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def v2_time(moment: datetime) -> str:
    """Format a v2 `changed` (UTC, milliseconds, Z)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _fmt(moment: datetime, v2: bool = False) -> str:
    return v2_time(moment) if v2 else v1_time(moment)


def _rid(rid: str, rtype: str) -> dict[str, str]:
    return {"rid": rid, "rtype": rtype}


# -- v1 ---------------------------------------------------------------------------------
def v1_public_config(bridge_id: str) -> dict[str, Any]:
    """Return the unauthenticated `/api/config`."""
    return {
        "name": "Philips hue", "datastoreversion": "172", "swversion": "1967054020",
        "apiversion": "1.67.0", "mac": "00:17:88:" + ":".join(bridge_id[-6:][i : i + 2] for i in (0, 2, 4)),
        "bridgeid": bridge_id.upper(), "factorynew": False, "replacesbridgeid": None,
        "modelid": "BSB002", "starterkitid": "",
    }


def v1_config(bridge_id: str, keys: dict[str, str], now: datetime) -> dict[str, Any]:
    """Return the authenticated `/api/<key>/config`, whitelist included."""
    config = v1_public_config(bridge_id)
    config.update({
        "zigbeechannel": 25, "dhcp": True, "ipaddress": "192.168.1.20", "netmask": "255.255.255.0",
        "gateway": "192.168.1.1", "proxyaddress": "none", "proxyport": 0, "UTC": _fmt(now),
        "localtime": _fmt(now), "timezone": "Europe/Amsterdam", "modelid": "BSB002",
        "swupdate2": {"checkforupdate": False, "lastchange": "2026-05-01T08:12:40", "bridge": {"state": "noupdates", "lastinstall": "2026-05-01T08:12:40"}, "state": "noupdates", "autoinstall": {"updatetime": "T14:00:00", "on": True}},
        "linkbutton": False, "portalservices": True, "portalconnection": "connected",
        "portalstate": {"signedon": True, "incoming": False, "outgoing": True, "communication": "disconnected"},
        "internetservices": {"internet": "connected", "remoteaccess": "connected", "time": "connected", "swupdate": "connected"},
        "backup": {"status": "idle", "errorcode": 0},
        "whitelist": {key: {"last use date": _fmt(now), "create date": "2026-01-02T10:00:00", "name": name} for key, name in keys.items()},
    })
    return config


def v1_light(number: int, unique: str) -> dict[str, Any]:
    """Return one v1 colour light."""
    return {
        "state": {"on": number % 3 == 0, "bri": 144, "hue": 7688, "sat": 199, "effect": "none", "xy": [0.5018, 0.4152], "ct": 443, "alert": "select", "colormode": "xy", "mode": "homeautomation", "reachable": True},
        "swupdate": SW_UPDATE, "type": "Extended color light", "name": f"Light {number}",
        "modelid": "LCA001", "manufacturername": "Signify Netherlands B.V.", "productname": "Hue color lamp",
        "capabilities": {"certified": True, "control": {"mindimlevel": 200, "maxlumen": 800, "colorgamuttype": "C", "colorgamut": [[0.6915, 0.3083], [0.17, 0.7], [0.1532, 0.0475]], "ct": {"min": 153, "max": 500}}, "streaming": {"renderer": True, "proxy": True}},
        "config": {"archetype": "sultanbulb", "function": "mixed", "direction": "omnidirectional", "startup": {"mode": "safety", "configured": True}},
        "uniqueid": f"00:17:88:01:0a:{number:02x}:{unique[:2]}:{unique[2:4]}-0b", "swversion": "1.104.2", "swconfigid": "8D6DC7A5", "productid": "Philips-LCA001-1-A19ECLv6",
    }


def v1_groups(rooms: list[tuple[str, str, str]], light_ids: list[str]) -> dict[str, Any]:
    """Return v1 groups: one Room per room, lights spread over them."""
    groups = {}
    for n, (_, _, name) in enumerate(rooms):
        members = light_ids[n :: len(rooms)]
        groups[str(n + 1)] = {
            "name": name, "lights": members, "sensors": [], "type": "Room", "state": {"all_on": False, "any_on": True},
            "recycle": False, "class": "Living room", "action": {"on": True, "bri": 144, "hue": 7688, "sat": 199, "effect": "none", "xy": [0.5018, 0.4152], "ct": 443, "alert": "select", "colormode": "xy"},
        }
    return groups


def v1_scenes(count: int, light_ids: list[str], now: datetime) -> dict[str, Any]:
    """Return v1 scenes (metadata as the full datastore lists them)."""
    return {
        f"scene{n:011d}": {
            "name": f"Scene {n + 1}", "type": "GroupScene", "group": str(n % 8 + 1), "lights": light_ids[n % 5 :: 5][:8],
            "owner": "f5b2fc4d2b3b4a6a9f0a1d2c3b4a5f6e7d8c9b0a", "recycle": False, "locked": n % 4 == 0,
            "appdata": {"version": 1, "data": f"k{n:04d}_r{n % 8 + 1:02d}_d{n % 20:02d}"}, "picture": "",
            "lastupdated": _fmt(now), "version": 2, "image": "732ff1d9-76a7-4630-aad0-c8acc499bb0b",
        }
        for n in range(count)
    }


def v1_rules(count: int, sensors: list[MotionSensor], now: datetime) -> dict[str, Any]:
    """Return v1 rules driven by motion sensors, as the Hue app creates them."""
    rules = {}
    for n in range(count):
        sid = sensors[n % len(sensors)].v1_ids[0] if sensors else "1"
        rules[str(n + 1)] = {
            "name": f"MotionSensor {sid}.{n}", "owner": "f5b2fc4d2b3b4a6a9f0a1d2c3b4a5f6e7d8c9b0a", "created": "2026-01-02T10:00:00",
            "lasttriggered": _fmt(now), "timestriggered": 17 + n, "status": "enabled", "recycle": True,
            "conditions": [
                {"address": f"/sensors/{sid}/state/presence", "operator": "eq", "value": "true"},
                {"address": f"/sensors/{sid}/state/presence", "operator": "dx"},
                {"address": f"/sensors/{int(sid) + 1}/state/dark", "operator": "eq", "value": "true"},
                {"address": "/config/localtime", "operator": "in", "value": "T07:00:00/T23:00:00"},
            ],
            "actions": [
                {"address": f"/groups/{n % 8 + 1}/action", "method": "PUT", "body": {"scene": f"scene{n:011d}"}},
                {"address": f"/sensors/{int(sid) + 3}/state", "method": "PUT", "body": {"status": 1}},
            ],
        }
    return rules


def v1_schedules(count: int) -> dict[str, Any]:
    """Return a few v1 schedules (wake-up style)."""
    return {
        str(n + 1): {"name": f"Wake up {n + 1}", "description": "MyRoutine", "command": {"address": f"/api/0/groups/{n + 1}/action", "body": {"scene": f"scene{n:011d}"}, "method": "PUT"},
                     "localtime": "W124/T06:45:00", "time": "W124/T05:45:00", "created": "2026-01-02T10:00:00", "status": "enabled", "recycle": False}
        for n in range(max(1, count // 5))
    }


def v1_resourcelinks(count: int) -> dict[str, Any]:
    """Return v1 resourcelinks tying app features together."""
    return {
        str(n + 1): {"name": f"Routine {n + 1}", "description": "", "type": "Link", "classid": 10020, "owner": "f5b2fc4d2b3b4a6a9f0a1d2c3b4a5f6e7d8c9b0a", "recycle": False, "links": [f"/scenes/scene{n:011d}", f"/rules/{n + 1}", f"/groups/{n % 8 + 1}"]}
        for n in range(max(1, count // 3))
    }


def v1_daylight(now: datetime) -> dict[str, Any]:
    """Return the built-in Daylight sensor, `/sensors/1`."""
    return {"state": {"daylight": True, "lastupdated": _fmt(now)}, "config": {"on": True, "configured": True, "sunriseoffset": 30, "sunsetoffset": -30},
            "name": "Daylight", "type": "Daylight", "modelid": "PHDL00", "manufacturername": "Signify Netherlands B.V.", "swversion": "1.0"}


def v1_motion_sensor(sensor: MotionSensor) -> dict[str, Any]:
    """Return the three v1 sensors of one motion sensor."""
    presence_id, light_id, temperature_id = sensor.v1_ids
    config = {"on": True, "battery": sensor.raw("battery"), "reachable": sensor.connected, "alert": "none", "ledindication": False, "usertest": False, "pending": []}
    common = {"swupdate": SW_UPDATE, **SENSOR_MODEL, "swversion": "6.1.1.27575", "capabilities": {"certified": True, "primary": False}}
    temperature = sensor.raw("temperature")
    if isinstance(temperature, float):
        temperature = round(temperature * 100)
    states = {
        "motion": {"presence": sensor.raw("motion"), "lastupdated": _fmt(sensor.changed["motion"])},
        "light_level": {"lightlevel": sensor.raw("light_level"), "dark": (sensor.light_level or 0) < 12467, "daylight": (sensor.light_level or 0) > 19467, "lastupdated": _fmt(sensor.changed["light_level"])},
        "temperature": {"temperature": temperature, "lastupdated": _fmt(sensor.changed["temperature"])},
    }
    for name in sensor.omit:
        states.get(name, {}).pop({"motion": "presence", "light_level": "lightlevel"}.get(name, name), None)
    return {
        presence_id: {"state": states["motion"], **common, "config": {**config, "sensitivity": 2, "sensitivitymax": 2}, "name": sensor.name, "type": "ZLLPresence", "productname": "Hue motion sensor", "uniqueid": f"{sensor.uniqueid_prefix}-0406"},
        light_id: {"state": states["light_level"], **common, "config": {**config, "tholddark": 12467, "tholdoffset": 7000}, "name": f"Hue ambient light sensor {sensor.index + 1}", "type": "ZLLLightLevel", "productname": "Hue ambient light sensor", "uniqueid": f"{sensor.uniqueid_prefix}-0400"},
        temperature_id: {"state": states["temperature"], **common, "config": config, "name": f"Hue temperature sensor {sensor.index + 1}", "type": "ZLLTemperature", "productname": "Hue temperature sensor", "uniqueid": f"{sensor.uniqueid_prefix}-0402"},
    }


# -- v2 ---------------------------------------------------------------------------------
def v2_sensor_device(sensor: MotionSensor) -> dict[str, Any]:
    """Return the v2 device of a motion sensor."""
    ids = sensor.ids
    services = [_rid(ids[k], k) for k in ("zigbee_connectivity", "motion", "device_power", "light_level", "temperature")]
    return {
        "id": ids["device"], "id_v1": f"/sensors/{sensor.v1_ids[0]}",
        "product_data": {"model_id": "SML001", "manufacturer_name": "Signify Netherlands B.V.", "product_name": "Hue motion sensor", "product_archetype": "unknown_archetype", "certified": True, "software_version": "1.1.27575", "hardware_platform_type": "100b-109"},
        "metadata": {"name": sensor.name, "archetype": "unknown_archetype"}, "identify": {}, "usertest": {"status": "set", "usertest": False},
        "services": [*services, _rid(ids["software"], "device_software_update")], "type": "device",
    }


def v2_service(sensor: MotionSensor, kind: str) -> dict[str, Any]:
    """Return one v2 sensor service resource of a motion sensor."""
    ids, presence, light, temp = sensor.ids, *sensor.v1_ids
    owner = _rid(ids["device"], "device")
    if kind == "zigbee_connectivity":
        return {"id": ids[kind], "id_v1": f"/sensors/{presence}", "owner": owner, "status": "connected" if sensor.connected else "connectivity_issue", "mac_address": sensor.mac, "type": kind}
    if kind == "device_power":
        battery = sensor.raw("battery")
        state = "normal" if not isinstance(battery, int) or battery > 25 else "low"
        return {"id": ids[kind], "id_v1": f"/sensors/{presence}", "owner": owner, "power_state": {"battery_state": state, "battery_level": battery}, "type": kind}
    feature, value_key, v1_id = {"motion": ("motion", "motion", presence), "light_level": ("light", "light_level", light), "temperature": ("temperature", "temperature", temp)}[kind]
    value = sensor.raw(kind)
    body: dict[str, Any] = {value_key: value, f"{value_key}_valid": sensor.valid[kind]}
    if sensor.valid[kind]:
        body[f"{value_key}_report"] = {"changed": _fmt(sensor.changed[kind], v2=True), value_key: value}
    resource = {"id": ids[kind], "id_v1": f"/sensors/{v1_id}", "owner": owner, "enabled": True, feature: body, "type": kind}
    if kind == "motion":
        resource["sensitivity"] = {"status": "set", "sensitivity": 2, "sensitivity_max": 4}
    return resource


def v2_software_update(rid: str, device: str) -> dict[str, Any]:
    """Return a device_software_update resource."""
    return {"id": rid, "owner": _rid(device, "device"), "state": "no_update", "problems": [], "type": "device_software_update"}


def v2_bridge(bridge_id: str, ids: dict[str, str], home_id: str, rooms: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Return the bridge device, its bridge/zigbee services and bridge_home."""
    device = {
        "id": ids["device"], "id_v1": "",
        "product_data": {"model_id": "BSB002", "manufacturer_name": "Signify Netherlands B.V.", "product_name": "Hue Bridge", "product_archetype": "bridge_v2", "certified": True, "software_version": "1.67.1967054020"},
        "metadata": {"name": "Hue Bridge", "archetype": "bridge_v2"}, "identify": {},
        "services": [_rid(ids["bridge"], "bridge"), _rid(ids["zigbee"], "zigbee_connectivity")], "type": "device",
    }
    bridge = {"id": ids["bridge"], "owner": _rid(ids["device"], "device"), "bridge_id": bridge_id, "time_zone": {"time_zone": "Europe/Amsterdam"}, "type": "bridge"}
    zigbee = {"id": ids["zigbee"], "owner": _rid(ids["device"], "device"), "status": "connected", "mac_address": "00:17:88:01:00:00:00:01", "channel": {"value": "channel_25", "status": "set"}, "type": "zigbee_connectivity"}
    home = {"id": home_id, "id_v1": "/groups/0", "children": [_rid(r[0], "room") for r in rooms], "services": [], "type": "bridge_home"}
    return [device, bridge, zigbee, home]


def v2_lights(lights: list[tuple[str, str, str]], rooms: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Return light devices with their light and zigbee_connectivity services."""
    items: list[dict[str, Any]] = []
    for n, (device, light, zigbee) in enumerate(lights):
        owner = _rid(device, "device")
        items.append({
            "id": device, "id_v1": f"/lights/{n + 1}",
            "product_data": {"model_id": "LCA001", "manufacturer_name": "Signify Netherlands B.V.", "product_name": "Hue color lamp", "product_archetype": "sultan_bulb", "certified": True, "software_version": "1.104.2", "hardware_platform_type": "100b-112"},
            "metadata": {"name": f"Light {n + 1}", "archetype": "sultan_bulb"}, "identify": {},
            "services": [_rid(zigbee, "zigbee_connectivity"), _rid(light, "light"), _rid(device[:30] + "eeeeee", "entertainment")], "type": "device",
        })
        items.append({
            "id": light, "id_v1": f"/lights/{n + 1}", "owner": owner, "metadata": {"name": f"Light {n + 1}", "archetype": "sultan_bulb", "function": "mixed"},
            "product_data": {"function": "mixed"}, "identify": {}, "service_id": 0, "on": {"on": n % 3 == 0},
            "dimming": {"brightness": 56.69, "min_dim_level": 0.2}, "dimming_delta": {},
            "color_temperature": {"mirek": None, "mirek_valid": False, "mirek_schema": {"mirek_minimum": 153, "mirek_maximum": 500}}, "color_temperature_delta": {},
            "color": {"xy": {"x": 0.5018, "y": 0.4152}, "gamut": XY_GAMUT, "gamut_type": "C"},
            "dynamics": {"status": "none", "status_values": ["none", "dynamic_palette"], "speed": 0.0, "speed_valid": False},
            "alert": {"action_values": ["breathe"]}, "signaling": {"signal_values": ["no_signal", "on_off", "on_off_color", "alternating"]},
            "mode": "normal", "effects": {"status_values": ["no_effect", "candle", "fire", "prism", "sparkle", "opal", "glisten"], "status": "no_effect", "effect_values": ["no_effect", "candle", "fire", "prism", "sparkle", "opal", "glisten"]},
            "powerup": {"preset": "safety", "configured": True, "on": {"mode": "on", "on": {"on": True}}, "dimming": {"mode": "dimming", "dimming": {"brightness": 100.0}}, "color": {"mode": "color_temperature", "color_temperature": {"mirek": 366}}},
            "type": "light",
        })
        items.append({"id": zigbee, "id_v1": f"/lights/{n + 1}", "owner": owner, "status": "connected", "mac_address": f"00:17:88:01:0a:{n:02x}:00:0b", "type": "zigbee_connectivity"})
    return items


def v2_rooms(rooms: list[tuple[str, str, str]], lights: list[tuple[str, str, str]], sensors: list[MotionSensor]) -> list[dict[str, Any]]:
    """Return rooms and their grouped_light services."""
    items: list[dict[str, Any]] = []
    for n, (room, grouped, name) in enumerate(rooms):
        children = [_rid(d, "device") for d, _, _ in lights[n :: len(rooms)]]
        children += [_rid(s.ids["device"], "device") for s in sensors[n :: len(rooms)]]
        items.append({"id": room, "id_v1": f"/groups/{n + 1}", "children": children, "services": [_rid(grouped, "grouped_light")], "metadata": {"name": name, "archetype": "living_room"}, "type": "room"})
        items.append({"id": grouped, "id_v1": f"/groups/{n + 1}", "owner": _rid(room, "room"), "on": {"on": True}, "dimming": {"brightness": 56.69}, "dimming_delta": {}, "alert": {"action_values": ["breathe"]}, "signaling": {"signal_values": ["no_signal", "on_off"]}, "type": "grouped_light"})
    return items


def v2_scenes(scene_ids: list[str], rooms: list[tuple[str, str, str]], lights: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Return scenes with one action per light of their room."""
    items = []
    for n, scene in enumerate(scene_ids):
        room = rooms[n % len(rooms)] if rooms else ("", "", "")
        members = lights[n % max(1, len(rooms)) :: max(1, len(rooms))]
        actions = [{"target": _rid(light, "light"), "action": {"on": {"on": True}, "dimming": {"brightness": 80.0}, "color": {"xy": {"x": 0.4573, "y": 0.41}}}} for _, light, _ in members]
        items.append({
            "id": scene, "id_v1": f"/scenes/scene{n:011d}", "actions": actions, "palette": {"color": [], "dimming": [], "color_temperature": [], "effects": []},
            "recall": {}, "metadata": {"name": f"Scene {n + 1}", "image": _rid("732ff1d9-76a7-4630-aad0-c8acc499bb0b", "public_image")},
            "group": _rid(room[0], "room"), "speed": 0.6, "auto_dynamic": False, "status": {"active": "inactive"}, "type": "scene",
        })
    return items


def v2_behaviors(count: int, seed: int) -> list[dict[str, Any]]:
    """Return behavior_instance resources (v1 rules appear as these on v2)."""
    return [
        {"id": f"{seed:08x}-{n:04x}-4000-8000-{n:012x}", "script_id": "67d9395b-4403-42cc-b5f0-740b699d67c6", "enabled": True, "state": {}, "configuration": {"where": [{"group": {"rid": f"{seed:08x}-0000-4000-8000-{n:012x}", "rtype": "room"}}], "when": {"timeslots": [{"start_time": {"kind": "time", "time": {"hour": 7, "minute": 0, "second": 0}}, "on_motion": {"recall_single": [{"action": {"recall": {"rid": "1", "rtype": "scene"}}}]}}]}},
         "dependees": [], "status": "running", "last_error": "", "metadata": {"name": f"Motion routine {n + 1}"}, "migrated_from": f"/resourcelinks/{n + 1}", "type": "behavior_instance"}
        for n in range(count)
    ]
