"""HTTP handlers of the simulated Hue bridge (v1 and CLIP v2 routes, faults applied)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .hue_bridge import HueBridgeSimulator

V1_UNAUTHORIZED = [
    {"error": {"type": 1, "address": "/", "description": "unauthorized user"}}
]
V1_LINK_BUTTON = [
    {"error": {"type": 101, "address": "", "description": "link button not pressed"}}
]
V1_RESOURCES = ("lights", "groups", "scenes", "rules", "schedules", "resourcelinks")


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

    kind: str  # "status", "delay", "malformed" or "body"
    count: int
    path: str = "/"
    status: int = 503
    seconds: float = 0.0
    body: str = ""


class BridgeApi:
    """The routes a bridge answers, over the simulator's state."""

    def __init__(self, sim: HueBridgeSimulator) -> None:
        """Serve `sim`."""
        self.sim = sim

    def application(self) -> web.Application:
        """Return the aiohttp application with every route."""
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
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Any
    ) -> web.StreamResponse:
        self.sim.request_count += 1
        path = request.path
        for key in self.sim.app_keys:
            path = path.replace(key, "<key>")
        fault = next(
            (
                f
                for f in self.sim.faults
                if f.count > 0 and request.path.startswith(f.path)
            ),
            None,
        )
        response: web.StreamResponse
        if fault is not None:
            fault.count -= 1
            self.sim.faults = [f for f in self.sim.faults if f.count > 0]
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            response = web.Response(status=fault.status, text="")
        elif fault is not None and fault.kind == "body":
            response = web.Response(text=fault.body, content_type="application/json")
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
        self.sim.requests.append(
            RequestRecord(request.method, path, response.status, request.secure)
        )
        if (
            self.sim.on_response is not None
            and (fault is None or fault.kind == "delay")
            and response.status == 200
            and isinstance(response, web.Response)
            and isinstance(response.body, bytes)
        ):
            self.sim.on_response(request.path, response.body)
        return response

    def _v1_authorized(self, request: web.Request) -> bool:
        return request.match_info["key"] in self.sim.app_keys

    def _v2_denied(self, request: web.Request) -> web.Response | None:
        if not self.sim.supports_v2 or not request.secure:
            return web.json_response(
                {"errors": [{"description": "Not Found"}], "data": []}, status=404
            )
        if request.headers.get("hue-application-key") not in self.sim.app_keys:
            return web.json_response(
                {"errors": [{"description": "unauthorized user"}], "data": []},
                status=403,
            )
        return None

    async def _create_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not self.sim.link_button:
            return _json(V1_LINK_BUTTON)
        self.sim.link_button = False
        return _json(
            [
                {
                    "success": {
                        "username": self.sim.add_app_key(str(body.get("devicetype")))
                    }
                }
            ]
        )

    async def _v1_public_config(self, request: web.Request) -> web.Response:
        return _json(self.sim.home.v1_public_config())

    async def _v1_full(self, request: web.Request) -> web.Response:
        if not self._v1_authorized(request):
            return _json(V1_UNAUTHORIZED)
        return _json(self.sim.home.v1_full(self.sim.app_keys))

    async def _v1_resource(self, request: web.Request) -> web.Response:
        if not self._v1_authorized(request):
            return _json(V1_UNAUTHORIZED)
        resource = request.match_info["resource"]
        if resource == "sensors":
            return _json(self.sim.home.v1_sensors())
        if resource == "config":
            return _json(self.sim.home.v1_config(self.sim.app_keys))
        if resource in V1_RESOURCES:
            return _json(self.sim.home.v1_full(self.sim.app_keys)[resource])
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
        items = self.sim.home.v2_resources(request.match_info.get("type"))
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
        rid = self.sim.home.uuid()
        self.sim.home.geofence_clients[rid] = str(body.get("name", ""))
        self.sim.events.publish(
            "add",
            [
                {
                    "id": rid,
                    "name": self.sim.home.geofence_clients[rid],
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
        if rtype == "geofence_client" and rid in self.sim.home.geofence_clients:
            self.sim.home.geofence_clients[rid] = str(body.get("name", ""))
            self.sim.events.publish(
                "update",
                [
                    {
                        "id": rid,
                        "name": self.sim.home.geofence_clients[rid],
                        "type": rtype,
                    }
                ],
            )
        return _json({"errors": [], "data": [{"rid": rid, "rtype": rtype}]})

    async def _eventstream(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._v2_denied(request)) is not None:
            return denied
        return await self.sim.events.serve(request)


def _json(data: Any) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":")), content_type="application/json"
    )
