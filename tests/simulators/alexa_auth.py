"""The simulator's sign-in: pages, device registration, token exchange, capabilities.

The sign-in is strict the way Amazon's is: each page's hidden fields and the
cookie set with the first page must come back, steps must come in order, and
what the client posts decides between today's three pages (e-mail, password,
code) and the older combined e-mail-and-password form.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import hashlib
import json
from urllib.parse import parse_qs, urlencode

from aiohttp import web

from .alexa_pages import email_page, not_found_page, otp_page, password_page
from .alexa_replies import MAPLANDING, html_reply, json_reply
from .alexa_state import AlexaState, Target, token

type Route = Callable[[web.Request, bytes], Awaitable[web.Response]]
type Injected = Callable[[Target], Awaitable[web.Response | None]]

SIGNIN_COOKIE = "session-id"
# The OAuth parameters every sign-in starts with (the library's and Amazon's app's).
REQUIRED_OAUTH = (
    "openid.return_to",
    "openid.oa2.client_id",
    "openid.oa2.code_challenge",
    "openid.oa2.code_challenge_method",
    "openid.oa2.response_type",
    "openid.oa2.scope",
)
BAD_PASSWORD = "Your password is incorrect"  # noqa: S105 - a message
BAD_EMAIL = "We cannot find an account with that email address"
NO_EMAIL = "Enter your email or mobile phone number"
BAD_CODE = "The code you entered is not valid. Please check the code and try again."
NO_COOKIES = "Please enable cookies to continue"
EXPIRED = "Your session has expired. Please sign in again."


@dataclass(slots=True)
class SignIn:
    """One sign-in in progress."""

    challenge: str
    cookie: str
    action_token: str
    site: str
    stage: str = "email"
    # True when the client posted e-mail and password together (the older form).
    combined: bool = False


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def cookie_domain(host: str) -> str:
    """Return the cookie domain of an Amazon host (``.amazon.de`` for www.amazon.de)."""
    return "." + host.split(".", 1)[1] if host.count(".") >= 2 else host


class AuthRoutes:
    """Sign-in pages on www.amazon.<tld> and token endpoints on api.amazon(alexa).com."""

    def __init__(self, state: AlexaState, injected: Injected) -> None:
        """Serve `state`; `injected` answers pending faults."""
        self.state = state
        self._injected = injected
        self._signins: dict[str, SignIn] = {}

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

    # -- sign-in pages -------------------------------------------------------------

    async def _signin_form(self, request: web.Request, raw: bytes) -> web.Response:
        query = request.query
        if any(not query.get(name) for name in REQUIRED_OAUTH):
            return html_reply(not_found_page(), status=400)
        workflow = token("wf", 8)  # a form's state, not a credential
        signin = SignIn(
            challenge=query["openid.oa2.code_challenge"],
            cookie=token("262-", 8),
            action_token=token("at", 12),
            site=f"https://{request.host.split(':')[0]}",
        )
        self._signins[workflow] = signin
        response = html_reply(
            email_page(f"{signin.site}/ap/signin", self._hidden(workflow, signin))
        )
        response.set_cookie(
            SIGNIN_COOKIE,
            signin.cookie,
            domain=cookie_domain(request.host.split(":")[0]),
            path="/",
            secure=True,
        )
        return response

    @staticmethod
    def _hidden(workflow: str, signin: SignIn) -> dict[str, str]:
        return {"appActionToken": signin.action_token, "workflowState": workflow}

    async def _signin_submit(self, request: web.Request, raw: bytes) -> web.Response:
        fields = _form(raw)
        workflow = fields.get("workflowState", "")
        signin = self._signins.get(workflow)
        if signin is None or fields.get("appActionToken") != signin.action_token:
            return self._restart(request, EXPIRED)
        if request.cookies.get(SIGNIN_COOKIE) != signin.cookie:
            return self._restart(request, NO_COOKIES)
        hidden = self._hidden(workflow, signin)
        absolute = f"{signin.site}/ap/signin"
        account = self.state.account
        match signin.stage:
            case "email" if "otpCode" not in fields:
                email = fields.get("email", "").strip()
                if "password" in fields:
                    signin.combined = True
                    if (email, fields["password"]) != (account.email, account.password):
                        return html_reply(email_page(absolute, hidden, BAD_PASSWORD))
                    signin.stage = "otp"
                    return html_reply(otp_page(absolute, hidden))
                if not email:
                    return html_reply(email_page(absolute, hidden, NO_EMAIL, "warning"))
                if email != account.email:
                    return html_reply(email_page(absolute, hidden, BAD_EMAIL))
                signin.stage = "password"
                # Today's pages: actions relative to the page they are on.
                return html_reply(password_page("signin", hidden))
            case "password" if "password" in fields and "otpCode" not in fields:
                if fields["password"] != account.password:
                    return html_reply(password_page("signin", hidden, BAD_PASSWORD))
                signin.stage = "otp"
                return html_reply(otp_page("/ap/signin", hidden))
            case "otp" if "otpCode" in fields and "password" not in fields:
                action = absolute if signin.combined else "/ap/signin"
                if fields["otpCode"] != account.otp:
                    return html_reply(otp_page(action, hidden, BAD_CODE))
                del self._signins[workflow]
                code = self.state.issue("ANsim", 16)
                self.state.auth_codes[code] = signin.challenge
                query = urlencode(
                    {
                        "openid.assoc_handle": "amzn_dp_project_dee_ios",
                        "openid.oa2.authorization_code": code,
                    }
                )
                raise web.HTTPFound(f"{MAPLANDING}?{query}")
        # A step out of order: Amazon starts over.
        del self._signins[workflow]
        return self._restart(request, EXPIRED)

    @staticmethod
    def _restart(request: web.Request, message: str) -> web.Response:
        site = f"https://{request.host.split(':')[0]}"
        hidden = {"appActionToken": "restart", "workflowState": "restart"}
        return html_reply(email_page(f"{site}/ap/signin", hidden, message, "warning"))

    async def _maplanding(self, request: web.Request, raw: bytes) -> web.Response:
        return html_reply(not_found_page(), status=404)

    # -- device registration and tokens ------------------------------------------

    async def _register(self, request: web.Request, raw: bytes) -> web.Response:
        if (answer := await self._injected(Target.REGISTER)) is not None:
            return answer
        body = json.loads(raw)
        auth = body.get("auth_data", {})
        challenge = self.state.auth_codes.pop(auth.get("authorization_code", ""), None)
        frc = (body.get("user_context_map") or {}).get("frc")
        if (
            challenge is None
            or _challenge(auth.get("code_verifier", "")) != challenge
            or not frc
            or request.cookies.get("frc") != frc
        ):
            error = {"code": "InvalidValue", "message": "Authorization code not valid"}
            return json_reply({"response": {"error": error}}, status=400)
        domain = str((body.get("cookies") or {}).get("domain", ".amazon.com"))
        success = self.state.register(
            body["registration_data"]["device_serial"],
            domain.removeprefix(".").removeprefix("amazon."),
        )
        return json_reply({"response": {"success": success}, "request_id": "sim"})

    async def _token(self, request: web.Request, raw: bytes) -> web.Response:
        if (answer := await self._injected(Target.TOKEN)) is not None:
            return answer
        fields = _form(raw)
        if (
            self.state.refresh_revoked
            or fields.get("source_token") != self.state.refresh_token
            or fields.get("source_token_type") != "refresh_token"
        ):
            error = {"error": "invalid_grant", "error_description": "Token not valid"}
            return json_reply(error, status=400)
        if fields.get("requested_token_type") == "access_token":
            access = self.state.issue("Atza|")
            self.state.access_tokens.add(access)
            return json_reply(
                {"access_token": access, "expires_in": 3600, "token_type": "bearer"}
            )
        if fields.get("requested_token_type") != "auth_cookies":
            error = {"error": "invalid_request", "error_description": "Unknown type"}
            return json_reply(error, status=400)
        site = fields.get("domain", "").removeprefix("www.").removeprefix(".")
        if not site.startswith("amazon."):
            error = {"error": "invalid_request", "error_description": "Bad domain"}
            return json_reply(error, status=400)
        domain = site.removeprefix("amazon.")
        cookies = self.state.issue_cookies(domain)
        listed = [
            {
                "Name": n,
                "Value": f'"{v}"' if n.startswith("sess-at-") else v,
                "Path": "/",
            }
            | {"Secure": "true", "HttpOnly": "true"}
            for n, v in cookies.items()
        ]
        return json_reply(
            {
                "response": {"tokens": {"cookies": {f".amazon.{domain}": listed}}},
                "request_id": "sim",
            }
        )

    async def _capabilities(self, request: web.Request, raw: bytes) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.state.access_tokens:
            return json_reply({"message": "Unauthorized"}, status=401)
        return web.Response(status=204)
