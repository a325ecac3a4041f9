"""The simulator's request routing, and the Alexa web API on alexa.amazon.<tld>."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
from typing import Any

from aiohttp import web

from . import alexa_graphql as graphql
from .alexa_auth import AuthRoutes, Route, cookie_domain
from .alexa_replies import fault_response, json_reply
from .alexa_state import APP_DEVICE_TYPE, ECHO_DEVICE_TYPE, AlexaState, Fault, Target

# The Alexa app's web view: the only client the GraphQL endpoint answers.
APP_AGENT = "AmazonWebView/AmazonAlexa/"
GRAPHQL_PATH = "/nexus/v1/graphql"


class AlexaApi:
    """Routes requests by host and path."""

    def __init__(self, state: AlexaState, stall: Callable[[], Awaitable[None]]) -> None:
        """Serve `state`; `stall` waits out a simulated timeout."""
        self.state = state
        self._stall = stall
        self._routes: dict[tuple[str, str, str], Route] = {
            **AuthRoutes(state, self._injected).routes(),
            ("www", "POST", "/alexashoppinglists/api/v2/lists/fetch"): self._lists,
            ("alexa", "GET", "/api/welcome"): self._welcome,
            ("alexa", "GET", "/api/users/me"): self._users_me,
            ("alexa", "GET", "/api/devices-v2/device"): self._devices,
            ("alexa", "GET", "/api/notifications"): self._notifications,
            ("alexa", "GET", "/api/behaviors/entities"): self._music_providers,
            ("alexa", "GET", "/api/behaviors/v2/automations"): self._routines,
            ("alexa", "GET", "/api/dnd/device-status-list"): self._dnd,
            ("alexa", "POST", "/nexus/v1/graphql"): self._graphql,
        }

    async def dispatch(
        self, host: str, request: web.Request, raw: bytes
    ) -> web.Response:
        """Answer one request."""
        kind = _host_kind(host)
        path = request.path
        agent = request.headers.get("User-Agent", "")
        # Amazon turns away clients that do not say what they are (bots).
        if not agent or agent.startswith("Python/"):
            return web.Response(status=403, text="Forbidden")
        if path == GRAPHQL_PATH and not agent.startswith(APP_AGENT):
            return json_reply({"message": "Unsupported client"}, status=403)
        if kind == "comms":
            return await self._authorised(request, self._comms(path), raw)
        route = self._routes.get((kind, request.method, path))
        if route is None:
            return web.Response(status=404, text=f"no route for {host}{path}")
        try:
            return await route(request, raw)
        except web.HTTPFound as redirect:
            return web.Response(status=302, headers={"Location": redirect.location})

    async def _injected(self, target: Target, body: Any = None) -> web.Response | None:
        """Return the answer of a pending fault for `target`, if there is one."""
        if (fault := self.state.take_fault(target)) is None:
            return None
        if fault is Fault.TIMEOUT:
            await self._stall()
            return web.Response(status=504, text="Gateway Timeout")
        return fault_response(fault, body)

    async def _authorised(
        self, request: web.Request, answer: web.Response, raw: bytes = b""
    ) -> web.Response:
        """Return `answer` to a request with the session's cookies (and csrf), else refuse.

        Every website cookie of the host's Amazon site must be there, with the
        current tokens; once the client holds the Alexa web API's ``csrf``
        cookie, each request to it must repeat it in the ``csrf`` header, as the
        Alexa app does.
        """
        host = (request.host or "").split(":")[0].lower()
        cookies = dict(request.cookies)
        # Global services (comms) take the session of any of the account's sites.
        domains = (
            [_domain(host)]
            if host.startswith(("alexa.amazon.", "www.amazon."))
            else list(self.state.valid_cookies)
        )
        if not any(self.state.cookies_valid(d, cookies) for d in domains):
            body = [] if raw.startswith(b"[") else None
            return fault_response(self.state.expired_answer, body) or json_reply(
                {}, 401
            )
        if not host.startswith("alexa.amazon."):
            return answer
        if "csrf" not in cookies:
            # The Alexa web API's own, for its whole site.
            answer.set_cookie(
                "csrf",
                self.state.issue("csrf", 8),
                domain=cookie_domain(host),
                path="/",
                secure=True,
            )
        elif request.headers.get("csrf") != cookies["csrf"]:
            return json_reply({"message": "Invalid CSRF token"}, status=401)
        return answer

    # -- sign-in ---------------------------------------------------------------------

    # -- Alexa web API ------------------------------------------------------------------

    async def _welcome(self, request: web.Request, raw: bytes) -> web.Response:
        host = f"alexa.amazon.{self.state.account.domain}"
        return await self._authorised(request, json_reply({"alexaHostName": host}))

    async def _users_me(self, request: web.Request, raw: bytes) -> web.Response:
        account = self.state.account
        me = {
            "id": account.customer_id,
            "email": account.email,
            "fullName": "Sim User",
            "countryOfResidence": account.country if account.reports_country else None,
            "marketPlaceId": "ATVPDKIKX0DER",
        }
        return await self._authorised(request, json_reply(me))

    async def _devices(self, request: web.Request, raw: bytes) -> web.Response:
        account = self.state.account
        devices = [
            {
                "accountName": echo.name,
                "capabilities": [
                    "MICROPHONE",
                    "REMINDERS",
                    "TIMERS_AND_ALARMS",
                    "AUDIO_PLAYER",
                ],
                "clusterMembers": [],
                "parentClusters": [],
                "deviceFamily": "ECHO",
                "deviceOwnerCustomerId": account.customer_id,
                "deviceType": ECHO_DEVICE_TYPE,
                "deviceTypeFriendlyName": "Echo Dot",
                "online": True,
                "serialNumber": echo.serial,
                "softwareVersion": echo.software_version,
                "appDeviceList": [],
            }
            for echo in self.state.echos
        ] + [
            {
                "accountName": "Sim's AioAmazonDevices",
                "capabilities": [],
                "clusterMembers": [],
                "deviceFamily": "UNKNOWN",
                "deviceOwnerCustomerId": account.customer_id,
                "deviceType": APP_DEVICE_TYPE,
                "online": True,
                "serialNumber": f"app-{serial}",
                "softwareVersion": "0",
                "appDeviceList": [
                    {"serialNumber": serial, "deviceType": APP_DEVICE_TYPE}
                ],
            }
            for serial in self.state.app_serials
        ]
        return await self._authorised(request, json_reply({"devices": devices}))

    async def _notifications(self, request: web.Request, raw: bytes) -> web.Response:
        return await self._authorised(request, json_reply({"notifications": []}))

    async def _music_providers(self, request: web.Request, raw: bytes) -> web.Response:
        provider = {
            "id": "AMAZON_MUSIC",
            "displayName": "Amazon Music",
            "availability": "AVAILABLE",
            "supportedProperties": ["Alexa.Music.PlaySearchPhrase"],
            "providerData": {"isDefaultMusicProvider": True},
        }
        answer = json_reply([provider], content_type="application/octet-stream")
        return await self._authorised(request, answer)

    async def _routines(self, request: web.Request, raw: bytes) -> web.Response:
        answer = json_reply([], content_type="application/octet-stream")
        return await self._authorised(request, answer)

    async def _dnd(self, request: web.Request, raw: bytes) -> web.Response:
        return await self._authorised(
            request, json_reply({"doNotDisturbDeviceStatusList": []})
        )

    async def _lists(self, request: web.Request, raw: bytes) -> web.Response:
        return await self._authorised(request, json_reply({"listInfoList": []}))

    def _comms(self, path: str) -> web.Response:
        if path.startswith("/users/") and path.endswith("/identities"):
            return json_reply({"homeGroupId": "amzn1.comms.id.hg.sim"})
        if path.startswith("/homegroups/") and path.endswith("/devices"):
            status = {
                "announcementAvailability": "ON",
                "deviceCommsAvailability": "ON",
                "deviceDropInAvailability": "ON",
            }
            devices = [
                {
                    "deviceSerialNumber": echo.serial,
                    "deviceType": ECHO_DEVICE_TYPE,
                    "deviceName": echo.name,
                    "deviceStatus": status,
                }
                for echo in self.state.echos
            ]
            return json_reply({"devices": devices})
        if not path.startswith("/devicesTypes/"):
            return web.Response(status=404, text=f"no route for {path}")
        preferences = [
            {"devicePreference": name, "state": "ON", "allowed": True}
            for name in ("communications", "dropin", "announcements")
        ]
        return json_reply({"devicePermissionsPreferences": preferences})

    async def _graphql(self, request: web.Request, raw: bytes) -> web.Response:
        try:
            body = json.loads(raw)
        except ValueError:
            return json_reply({"errors": [{"message": "Invalid JSON"}]}, status=400)
        if (answer := await self._injected(graphql.target_of(body), body)) is not None:
            return answer
        operations = body if isinstance(body, list) else [body]
        replies = [graphql.answer(op, self.state) for op in operations]
        return await self._authorised(
            request, json_reply(replies if isinstance(body, list) else replies[0]), raw
        )


def _domain(host: str) -> str:
    """Return the Amazon domain of a host: ``de`` for alexa.amazon.de."""
    return host.split(":", maxsplit=1)[0].lower().partition(".amazon.")[2] or "com"


def _host_kind(host: str) -> str:
    if host == "api.amazon.com":
        return "api"
    if host.endswith("amazonalexa.com"):
        return "alexaapi"
    if host.startswith("alexa-comms-mobile-service."):
        return "comms"
    if host.startswith("alexa.amazon."):
        return "alexa"
    return "www"
