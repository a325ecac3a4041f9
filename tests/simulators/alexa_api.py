"""The simulator's request handlers, one per Amazon host and path."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlencode

from aiohttp import web

from . import alexa_graphql as graphql
from .alexa_pages import not_found_page, otp_page, robot_check_page, signin_page
from .alexa_state import (
    APP_DEVICE_TYPE,
    ECHO_DEVICE_TYPE,
    AlexaState,
    Fault,
    Target,
    token,
)

SIGNIN_REDIRECT = (
    "https://www.amazon.com/ap/signin?openid.return_to=https%3A%2F%2Falexa.amazon.com"
)
MAPLANDING = "https://www.amazon.com/ap/maplanding"
MALFORMED = b'[{"data": {"listEndpoints": {"endpoints": [{"endpointId": "amzn1.'

type Route = Callable[[web.Request, bytes], Awaitable[web.Response]]


def _json(
    data: Any, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    return web.Response(
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(),
        status=status,
        content_type=content_type,
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def fault_response(fault: Fault, body: Any) -> web.Response | None:
    """Return the answer for `fault`, or None for a timeout (handled by the caller)."""
    match fault:
        case (
            Fault.BAD_REQUEST | Fault.UNAUTHORIZED | Fault.FORBIDDEN | Fault.PROXY_AUTH
        ):
            return _json({"message": "Unauthorized"}, status=int(fault))
        case Fault.SIGNIN_REDIRECT:
            raise web.HTTPFound(SIGNIN_REDIRECT)
        case Fault.TOO_MANY_REQUESTS:
            return web.Response(status=429, text="Too Many Requests")
        case Fault.GRAPHQL_THROTTLED:
            return _json(graphql.throttled(body))
        case Fault.SERVER_ERROR | Fault.SERVICE_UNAVAILABLE:
            return web.Response(status=int(fault), text="Service Unavailable")
        case Fault.MALFORMED_JSON:
            return web.Response(body=MALFORMED, content_type="application/json")
        case Fault.WRONG_SHAPE:
            shape = {"data": {"listEndpoints": {"endpoints": "unexpected"}}}
            return _json([shape] if isinstance(body, list) else shape)
        case Fault.HTML_PAGE:
            return _html(robot_check_page())
        case Fault.SIGNIN_PAGE:
            return _html(signin_page("expired"))
        case Fault.OTHER_REDIRECT:
            raise web.HTTPFound("https://www.amazon.com/gp/help")
        case Fault.GRAPHQL_ERROR | Fault.GRAPHQL_PARTIAL:
            data = (
                {"listEndpoints": {"endpoints": []}}
                if fault is Fault.GRAPHQL_PARTIAL
                else None
            )
            error = {"message": "Internal", "extensions": {"errorCode": "INTERNAL"}}
            reply = {"errors": [error, "junk"], "data": data}
            return _json([reply] if isinstance(body, list) else reply)
        case Fault.EMPTY_REPLY:
            return _json(
                []
                if isinstance(body, list)
                else {"response": {"tokens": {"cookies": {}}}}
            )
    return None


class AlexaApi:
    """Routes requests by host and path."""

    def __init__(self, state: AlexaState, stall: Callable[[], Awaitable[None]]) -> None:
        """Serve `state`; `stall` waits out a simulated timeout."""
        self.state = state
        self._stall = stall
        self._routes: dict[tuple[str, str, str], Route] = {
            ("www", "GET", "/ap/signin"): self._signin_form,
            ("www", "POST", "/ap/signin"): self._signin_submit,
            ("www", "GET", "/ap/maplanding"): self._maplanding,
            ("www", "POST", "/alexashoppinglists/api/v2/lists/fetch"): self._lists,
            ("api", "POST", "/auth/register"): self._register,
            ("api", "POST", "/auth/token"): self._token,
            ("alexaapi", "PUT", "/v1/devices/@self/capabilities"): self._capabilities,
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
        if kind == "comms" and path.startswith("/devicesTypes/"):
            return await self._authorised(request, self._comms_preferences(), raw)
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
        if self.state.cookies_valid(dict(request.cookies)):
            if "csrf" not in request.cookies:
                answer.set_cookie("csrf", self.state.issue("csrf", 8), secure=True)
            return answer
        return fault_response(self.state.expired_answer, None) or _json({}, 401)

    # -- sign-in ---------------------------------------------------------------------

    async def _signin_form(self, request: web.Request, raw: bytes) -> web.Response:
        workflow = token("wf", 8)  # a form's state, not a credential
        challenge = request.query.get("openid.oa2.code_challenge", "")
        self.state.workflows[workflow] = f"password:{challenge}"
        return _html(signin_page(workflow))

    async def _signin_submit(self, request: web.Request, raw: bytes) -> web.Response:
        fields = _form(raw)
        workflow = fields.get("workflowState", "")
        stage, _, challenge = self.state.workflows.get(workflow, ":").partition(":")
        account = self.state.account
        if stage == "password":
            if (fields.get("email"), fields.get("password")) != (
                account.email,
                account.password,
            ):
                return _html(signin_page(workflow, "Your password is incorrect"))
            self.state.workflows[workflow] = f"otp:{challenge}"
            return _html(otp_page(workflow))
        if stage == "otp":
            if fields.get("otpCode") != account.otp:
                return _html(otp_page(workflow, "The code you entered is not valid."))
            del self.state.workflows[workflow]
            code = self.state.issue("ANsim", 16)
            self.state.auth_codes[code] = challenge
            query = urlencode(
                {
                    "openid.assoc_handle": "amzn_dp_project_dee_ios",
                    "openid.oa2.authorization_code": code,
                }
            )
            raise web.HTTPFound(f"{MAPLANDING}?{query}")
        return _html(signin_page(workflow, "Please sign in again"))

    async def _maplanding(self, request: web.Request, raw: bytes) -> web.Response:
        return _html(not_found_page(), status=404)

    async def _register(self, request: web.Request, raw: bytes) -> web.Response:
        if (answer := await self._injected(Target.REGISTER)) is not None:
            return answer
        body = json.loads(raw)
        auth = body.get("auth_data", {})
        challenge = self.state.auth_codes.pop(auth.get("authorization_code", ""), None)
        if challenge is None or _challenge(auth.get("code_verifier", "")) != challenge:
            error = {"code": "InvalidValue", "message": "Authorization code not valid"}
            return _json({"response": {"error": error}}, status=400)
        success = self.state.register(body["registration_data"]["device_serial"])
        return _json({"response": {"success": success}, "request_id": "sim"})

    async def _token(self, request: web.Request, raw: bytes) -> web.Response:
        if (answer := await self._injected(Target.TOKEN)) is not None:
            return answer
        fields = _form(raw)
        if (
            self.state.refresh_revoked
            or fields.get("source_token") != self.state.refresh_token
        ):
            error = {"error": "invalid_grant", "error_description": "Token not valid"}
            return _json(error, status=400)
        if fields.get("requested_token_type") == "access_token":
            access = self.state.issue("Atza|")
            self.state.access_tokens.add(access)
            return _json(
                {"access_token": access, "expires_in": 3600, "token_type": "bearer"}
            )
        cookies = self.state.issue_cookies()
        domain = f".amazon.{self.state.account.domain}"
        listed = [
            {"Name": n, "Value": v, "Path": "/", "Secure": "true"}
            for n, v in cookies.items()
        ]
        return _json(
            {"response": {"tokens": {"cookies": {domain: listed}}}, "request_id": "sim"}
        )

    async def _capabilities(self, request: web.Request, raw: bytes) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.state.access_tokens:
            return _json({"message": "Unauthorized"}, status=401)
        return web.Response(status=204)

    # -- Alexa web API ------------------------------------------------------------------

    async def _welcome(self, request: web.Request, raw: bytes) -> web.Response:
        host = f"alexa.amazon.{self.state.account.domain}"
        return await self._authorised(request, _json({"alexaHostName": host}))

    async def _users_me(self, request: web.Request, raw: bytes) -> web.Response:
        account = self.state.account
        me = {"id": account.customer_id, "email": account.email, "fullName": "Sim User"}
        return await self._authorised(request, _json(me))

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
        return await self._authorised(request, _json({"devices": devices}))

    async def _notifications(self, request: web.Request, raw: bytes) -> web.Response:
        return await self._authorised(request, _json({"notifications": []}))

    async def _music_providers(self, request: web.Request, raw: bytes) -> web.Response:
        provider = {
            "id": "AMAZON_MUSIC",
            "displayName": "Amazon Music",
            "availability": "AVAILABLE",
            "supportedProperties": ["Alexa.Music.PlaySearchPhrase"],
            "providerData": {"isDefaultMusicProvider": True},
        }
        answer = _json([provider], content_type="application/octet-stream")
        return await self._authorised(request, answer)

    async def _routines(self, request: web.Request, raw: bytes) -> web.Response:
        answer = _json([], content_type="application/octet-stream")
        return await self._authorised(request, answer)

    async def _dnd(self, request: web.Request, raw: bytes) -> web.Response:
        return await self._authorised(
            request, _json({"doNotDisturbDeviceStatusList": []})
        )

    async def _lists(self, request: web.Request, raw: bytes) -> web.Response:
        return await self._authorised(request, _json({"listInfoList": []}))

    def _comms_preferences(self) -> web.Response:
        preferences = [
            {"devicePreference": name, "state": "ON", "allowed": True}
            for name in ("communications", "dropin", "announcements")
        ]
        return _json({"devicePermissionsPreferences": preferences})

    async def _graphql(self, request: web.Request, raw: bytes) -> web.Response:
        try:
            body = json.loads(raw)
        except ValueError:
            return _json({"errors": [{"message": "Invalid JSON"}]}, status=400)
        if (answer := await self._injected(graphql.target_of(body), body)) is not None:
            return answer
        operations = body if isinstance(body, list) else [body]
        replies = [graphql.answer(op, self.state) for op in operations]
        return await self._authorised(
            request, _json(replies if isinstance(body, list) else replies[0]), raw
        )


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
