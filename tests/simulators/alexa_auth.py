"""The simulator's sign-in: pages, device registration, token exchange, capabilities."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
import hashlib
import json
from urllib.parse import parse_qs, urlencode

from aiohttp import web

from .alexa_pages import not_found_page, otp_page, signin_page
from .alexa_replies import MAPLANDING, html_reply, json_reply
from .alexa_state import AlexaState, Target, token

type Route = Callable[[web.Request, bytes], Awaitable[web.Response]]
type Injected = Callable[[Target], Awaitable[web.Response | None]]


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class AuthRoutes:
    """Sign-in pages on www.amazon.com and token endpoints on api.amazon(alexa).com."""

    def __init__(self, state: AlexaState, injected: Injected) -> None:
        """Serve `state`; `injected` answers pending faults."""
        self.state = state
        self._injected = injected

    def routes(self) -> dict[tuple[str, str, str], Route]:
        """Return the handlers by (host kind, method, path)."""
        return {
            ("www", "GET", "/ap/signin"): self._signin_form,
            ("www", "POST", "/ap/signin"): self._signin_submit,
            ("www", "GET", "/ap/maplanding"): self._maplanding,
            ("api", "POST", "/auth/register"): self._register,
            ("api", "POST", "/auth/token"): self._token,
            ("alexaapi", "PUT", "/v1/devices/@self/capabilities"): self._capabilities,
        }

    async def _signin_form(self, request: web.Request, raw: bytes) -> web.Response:
        workflow = token("wf", 8)  # a form's state, not a credential
        challenge = request.query.get("openid.oa2.code_challenge", "")
        self.state.workflows[workflow] = f"password:{challenge}"
        return html_reply(signin_page(workflow))

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
                return html_reply(signin_page(workflow, "Your password is incorrect"))
            self.state.workflows[workflow] = f"otp:{challenge}"
            return html_reply(otp_page(workflow))
        if stage == "otp":
            if fields.get("otpCode") != account.otp:
                return html_reply(
                    otp_page(workflow, "The code you entered is not valid.")
                )
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
        return html_reply(signin_page(workflow, "Please sign in again"))

    async def _maplanding(self, request: web.Request, raw: bytes) -> web.Response:
        return html_reply(not_found_page(), status=404)

    async def _register(self, request: web.Request, raw: bytes) -> web.Response:
        if (answer := await self._injected(Target.REGISTER)) is not None:
            return answer
        body = json.loads(raw)
        auth = body.get("auth_data", {})
        challenge = self.state.auth_codes.pop(auth.get("authorization_code", ""), None)
        if challenge is None or _challenge(auth.get("code_verifier", "")) != challenge:
            error = {"code": "InvalidValue", "message": "Authorization code not valid"}
            return json_reply({"response": {"error": error}}, status=400)
        success = self.state.register(body["registration_data"]["device_serial"])
        return json_reply({"response": {"success": success}, "request_id": "sim"})

    async def _token(self, request: web.Request, raw: bytes) -> web.Response:
        if (answer := await self._injected(Target.TOKEN)) is not None:
            return answer
        fields = _form(raw)
        if (
            self.state.refresh_revoked
            or fields.get("source_token") != self.state.refresh_token
        ):
            error = {"error": "invalid_grant", "error_description": "Token not valid"}
            return json_reply(error, status=400)
        if fields.get("requested_token_type") == "access_token":
            access = self.state.issue("Atza|")
            self.state.access_tokens.add(access)
            return json_reply(
                {"access_token": access, "expires_in": 3600, "token_type": "bearer"}
            )
        cookies = self.state.issue_cookies()
        domain = f".amazon.{self.state.account.domain}"
        listed = [
            {"Name": n, "Value": v, "Path": "/", "Secure": "true"}
            for n, v in cookies.items()
        ]
        return json_reply(
            {"response": {"tokens": {"cookies": {domain: listed}}}, "request_id": "sim"}
        )

    async def _capabilities(self, request: web.Request, raw: bytes) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.state.access_tokens:
            return json_reply({"message": "Unauthorized"}, status=401)
        return web.Response(status=204)
