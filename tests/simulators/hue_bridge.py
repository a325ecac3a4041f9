"""A Philips Hue bridge on 127.0.0.1 for tests, benchmarks and script/develop.

v1 over plain HTTP (``/api``, ``/api/<key>``, ``/api/<key>/sensors``, ``/api/config``), CLIP v2
over TLS with a self-signed certificate (``/clip/v2/resource[/<type>[/<id>]]``,
``/eventstream/clip/v2``), both on one port. It has a link button, app keys that can be
revoked, a home whose values change on a simulated clock, fault injection (status codes,
delays, malformed bodies, dropped streams, the bridge going down) and request/byte counters.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
import json
import secrets
from typing import Any

from aiohttp import web

from .hue_home import Clock, HomeSpec, HueHome, MotionSensor, v2_time
from .hue_stream import EventHub
from .hue_transport import ByteCounters, DualListener, server_ssl_context

V1_UNAUTHORIZED = [
    {"error": {"type": 1, "address": "/", "description": "unauthorized user"}}
]
V1_LINK_BUTTON = [
    {"error": {"type": 101, "address": "", "description": "link button not pressed"}}
]
V1_RESOURCES = ("lights", "groups", "scenes", "rules", "schedules", "resourcelinks")
SENSOR_FIELDS = ("motion", "light_level", "temperature")


@dataclass(slots=True)
class RequestRecord:
    """One request the bridge answered (app keys replaced by `<key>`)."""

    method: str
    path: str
    status: int
    tls: bool


@dataclass(slots=True)
class Fault:
    """A planned misbehaviour for the next `count` requests whose path starts with `path`."""

    kind: str  # "status", "delay" or "malformed"
    count: int
    path: str = "/"
    status: int = 503
    seconds: float = 0.0


class HueBridgeSimulator:
    """The simulated bridge. `await start()`, use `host`, `await stop()`."""

    def __init__(
        self,
        spec: HomeSpec | None = None,
        *,
        supports_v2: bool = True,
        clock: Clock | None = None,
    ) -> None:
        """Build the home; nothing listens until `start()`."""
        self.home = HueHome(spec, clock)
        self.supports_v2 = supports_v2
        self.app_keys: dict[str, str] = {}
        self.link_button = False
        self.requests: deque[RequestRecord] = deque(maxlen=10_000)
        self.request_count = 0
        self.faults: list[Fault] = []
        self.events = EventHub(self.home.clock)
        self.temperature_period: float | None = None
        self.temperature_step = 0.1
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(
            [
                web.post("/api", self._create_user),
                web.get("/api/config", self._v1_public_config),
                web.get("/api/{key}", self._v1_full),
                web.get("/api/{key}/", self._v1_full),
                web.get("/api/{key}/{resource}", self._v1_resource),
                web.get("/api/{key}/{resource}/{id}", self._v1_item),
                web.get("/clip/v2/resource", self._v2_get),
                web.get("/clip/v2/resource/{type}", self._v2_get),
                web.get("/clip/v2/resource/{type}/{id}", self._v2_get),
                web.post("/clip/v2/resource/{type}", self._v2_post),
                web.put("/clip/v2/resource/{type}/{id}", self._v2_put),
                web.get("/eventstream/clip/v2", self._eventstream),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self._listener: DualListener | None = None
        self._schedule_anchor = self.home.clock.now

    # -- life cycle -----------------------------------------------------------------
    @property
    def host(self) -> str:
        """Return the HOST string aiohue needs (`127.0.0.1:<port>`)."""
        assert self._listener is not None
        return f"127.0.0.1:{self._listener.port}"

    @property
    def bridge_id(self) -> str:
        """Return the normalised bridge id (12 hex digits, as aiohue reports it)."""
        raw = self.home.bridge_id
        return raw[:6] + raw[-6:]

    @property
    def counters(self) -> ByteCounters:
        """Return the byte counters."""
        assert self._listener is not None
        return self._listener.counters

    async def start(self) -> None:
        """Listen on an ephemeral 127.0.0.1 port."""
        await self._runner.setup()
        assert self._runner.server is not None
        self._listener = DualListener(
            self._runner.server, server_ssl_context(self.home.bridge_id)
        )
        await self._listener.start()

    async def stop(self) -> None:
        """Close streams and connections and stop listening."""
        self.events.close_all()
        if self._listener is not None:
            await self._listener.stop()
        await self._runner.cleanup()

    async def go_down(self) -> None:
        """Stop answering: open connections reset, new ones are refused."""
        self.events.close_all()
        assert self._listener is not None
        await self._listener.stop()

    async def come_up(self) -> None:
        """Answer again on the same port."""
        assert self._listener is not None
        await self._listener.start(self._listener.port)

    # -- keys and faults --------------------------------------------------------------
    def add_app_key(self, name: str = "test#sim") -> str:
        """Whitelist a new app key, as after a link-button press."""
        key = secrets.token_hex(20)
        self.app_keys[key] = name
        return key

    def revoke_app_key(self, key: str) -> None:
        """Delete an app key (as the Hue app does); its event streams are closed."""
        self.app_keys.pop(key, None)
        self.events.close_all()

    def fail(self, status: int, count: int = 1, path: str = "/") -> None:
        """Answer the next `count` requests under `path` with `status` (503, 429, ...)."""
        self.faults.append(Fault("status", count, path, status=status))

    def delay(self, seconds: float, count: int = 1, path: str = "/") -> None:
        """Delay the next `count` requests under `path`."""
        self.faults.append(Fault("delay", count, path, seconds=seconds))

    def malformed(self, count: int = 1, path: str = "/") -> None:
        """Truncate the JSON body of the next `count` responses under `path`."""
        self.faults.append(Fault("malformed", count, path))

    def drop_streams(self) -> None:
        """Close every open event stream (clients reconnect)."""
        self.events.close_all()

    def paths(self, method: str | None = None) -> list[str]:
        """Return the paths requested so far (optionally of one method)."""
        return [r.path for r in self.requests if method is None or r.method == method]

    # -- changing the home --------------------------------------------------------------
    def sensor(self, index: int) -> MotionSensor:
        """Return motion sensor `index`."""
        return self.home.sensors[index]

    def set_value(
        self, index: int, kind: str, value: Any, *, valid: bool = True
    ) -> None:
        """Change a sensor value now and push the change to event streams.

        `kind` is "temperature", "light_level", "motion", "battery" or "connected".
        """
        sensor = self.sensor(index)
        if self.home.clock.now <= max(sensor.changed.values()):
            self.home.clock.advance(
                1
            )  # a new sample never shares its time with the last
        sensor.corrupt.pop(kind, None)
        setattr(sensor, kind, value)
        if kind in SENSOR_FIELDS:
            sensor.valid[kind] = valid
            sensor.changed[kind] = self.home.clock.now
        self._push_change(sensor, kind)

    def corrupt_value(self, index: int, kind: str, raw: Any) -> None:
        """Send `raw` (a wrong type) instead of the sensor's real value, on both APIs."""
        sensor = self.sensor(index)
        sensor.corrupt[kind] = raw
        if kind in SENSOR_FIELDS:
            sensor.changed[kind] = self.home.clock.now
        self._push_change(sensor, kind)

    def omit_field(self, index: int, kind: str) -> None:
        """Leave a sensor's field out of every answer (a missing field)."""
        self.sensor(index).omit.add(kind)

    def add_sensor(self, name: str) -> MotionSensor:
        """Pair a new motion sensor and announce it on the event streams."""
        sensor = self.home.add_sensor(name)
        self.events.publish("add", self.home.v2_sensor_resources(sensor))
        return sensor

    def remove_sensor(self, index: int) -> None:
        """Delete a motion sensor and announce it on the event streams."""
        sensor = self.home.sensors.pop(index)
        items = [
            {"id": rid, "type": kind}
            for kind, rid in sensor.ids.items()
            if kind != "software"
        ]
        self.events.publish("delete", items)

    def advance(self, seconds: float) -> None:
        """Move the clock, applying scheduled changes on the way.

        With `temperature_period` set, each sensor's temperature changes once per period
        (sensors staggered) and each change is pushed.
        """
        clock = self.home.clock
        end = clock.now.timestamp() + seconds
        period = self.temperature_period
        if period:
            sensors = len(self.home.sensors) or 1
            anchor = self._schedule_anchor.timestamp()
            changes = []
            for n in range(len(self.home.sensors)):
                offset = anchor + period * (n + 1) / sensors
                k = max(0, int((clock.now.timestamp() - offset) // period) + 1)
                while (when := offset + k * period) <= end:
                    if when > clock.now.timestamp():
                        changes.append((when, n, k))
                    k += 1
            for when, n, k in sorted(changes):
                clock.advance(when - clock.now.timestamp())
                sensor = self.home.sensors[n]
                step = self.temperature_step if k % 2 == 0 else -self.temperature_step
                self.set_value(
                    n, "temperature", round((sensor.temperature or 20.0) + step, 2)
                )
        clock.advance(end - clock.now.timestamp())

    def _push_change(self, sensor: MotionSensor, kind: str) -> None:
        resource_kind = {
            "battery": "device_power",
            "connected": "zigbee_connectivity",
        }.get(kind, kind)
        resource = self.home.v2_service(sensor, resource_kind)
        resource.pop("enabled", None)
        resource.pop("sensitivity", None)
        self.events.publish("update", [resource])

    # -- HTTP ---------------------------------------------------------------------------
    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Any
    ) -> web.StreamResponse:
        self.request_count += 1
        path = request.path
        for key in self.app_keys:
            path = path.replace(key, "<key>")
        fault = next(
            (f for f in self.faults if f.count > 0 and request.path.startswith(f.path)),
            None,
        )
        response: web.StreamResponse
        if fault is not None:
            fault.count -= 1
            self.faults = [f for f in self.faults if f.count > 0]
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            response = web.Response(status=fault.status, text="")
        else:
            response = await handler(request)
            if (
                fault is not None
                and fault.kind == "malformed"
                and isinstance(response, web.Response)
            ):
                body = response.body if isinstance(response.body, bytes) else b"{}"
                response = web.Response(
                    body=body[: max(1, len(body) // 2)], content_type="application/json"
                )
        self.requests.append(
            RequestRecord(request.method, path, response.status, request.secure)
        )
        return response

    def _v1_authorized(self, request: web.Request) -> bool:
        return request.match_info["key"] in self.app_keys

    def _v2_denied(self, request: web.Request) -> web.Response | None:
        if not self.supports_v2 or not request.secure:
            return web.json_response(
                {"errors": [{"description": "Not Found"}], "data": []}, status=404
            )
        if request.headers.get("hue-application-key") not in self.app_keys:
            return web.json_response(
                {"errors": [{"description": "unauthorized user"}], "data": []},
                status=403,
            )
        return None

    async def _create_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not self.link_button:
            return _json(V1_LINK_BUTTON)
        self.link_button = False
        return _json(
            [{"success": {"username": self.add_app_key(str(body.get("devicetype")))}}]
        )

    async def _v1_public_config(self, request: web.Request) -> web.Response:
        return _json(self.home.v1_public_config())

    async def _v1_full(self, request: web.Request) -> web.Response:
        if not self._v1_authorized(request):
            return _json(V1_UNAUTHORIZED)
        return _json(self.home.v1_full(self.app_keys))

    async def _v1_resource(self, request: web.Request) -> web.Response:
        if not self._v1_authorized(request):
            return _json(V1_UNAUTHORIZED)
        resource = request.match_info["resource"]
        if resource == "sensors":
            return _json(self.home.v1_sensors())
        if resource == "config":
            return _json(self.home.v1_config(self.app_keys))
        if resource in V1_RESOURCES:
            return _json(self.home.v1_full(self.app_keys)[resource])
        return _json(
            [
                {
                    "error": {
                        "type": 3,
                        "address": f"/{resource}",
                        "description": "resource not available",
                    }
                }
            ]
        )

    async def _v1_item(self, request: web.Request) -> web.Response:
        if (
            self._v1_authorized(request)
            and request.match_info["resource"] == "groups"
            and request.match_info["id"] == "0"
        ):
            return _json(
                {
                    "name": "Group 0",
                    "lights": [],
                    "type": "LightGroup",
                    "state": {"all_on": False, "any_on": False},
                }
            )
        response = await self._v1_resource(request)
        data = json.loads(response.body) if isinstance(response.body, bytes) else {}
        item = data.get(request.match_info["id"]) if isinstance(data, dict) else None
        if item is None:
            return _json(
                [
                    {
                        "error": {
                            "type": 3,
                            "address": request.path,
                            "description": "resource not available",
                        }
                    }
                ]
            )
        return _json(item)

    async def _v2_get(self, request: web.Request) -> web.Response:
        if (denied := self._v2_denied(request)) is not None:
            return denied
        items = self.home.v2_resources(request.match_info.get("type"))
        if (rid := request.match_info.get("id")) is not None:
            items = [item for item in items if item["id"] == rid]
            if not items:
                return web.json_response(
                    {"errors": [{"description": "Not Found"}], "data": []}, status=404
                )
        return _json({"errors": [], "data": items})

    async def _v2_post(self, request: web.Request) -> web.Response:
        if (denied := self._v2_denied(request)) is not None:
            return denied
        body = await request.json()
        if request.match_info["type"] != "geofence_client":
            return web.json_response(
                {"errors": [{"description": "method not available"}], "data": []},
                status=405,
            )
        rid = self.home.uuid()
        self.home.geofence_clients[rid] = str(body.get("name", ""))
        self.events.publish(
            "add",
            [
                {
                    "id": rid,
                    "name": self.home.geofence_clients[rid],
                    "type": "geofence_client",
                }
            ],
        )
        return _json({"errors": [], "data": [{"rid": rid, "rtype": "geofence_client"}]})

    async def _v2_put(self, request: web.Request) -> web.Response:
        if (denied := self._v2_denied(request)) is not None:
            return denied
        body = await request.json()
        rtype, rid = request.match_info["type"], request.match_info["id"]
        if rtype == "geofence_client" and rid in self.home.geofence_clients:
            self.home.geofence_clients[rid] = str(body.get("name", ""))
            self.events.publish(
                "update",
                [{"id": rid, "name": self.home.geofence_clients[rid], "type": rtype}],
            )
        return _json({"errors": [], "data": [{"rid": rid, "rtype": rtype}]})

    async def _eventstream(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._v2_denied(request)) is not None:
            return denied
        return await self.events.serve(request)


def _json(data: Any) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":")), content_type="application/json"
    )


__all__ = ["Clock", "HomeSpec", "HueBridgeSimulator", "v2_time"]
