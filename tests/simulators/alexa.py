"""A simulated Amazon cloud for the Alexa endpoints aioamazondevices and Home Monitor call.

One TLS server on 127.0.0.1 (ephemeral port) answers for every Amazon host
name; the client keeps the real https URLs and resolves the host names to the
simulator (see `sources.amazon.transport`). It serves:

- the sign-in pages on www.amazon.com as Amazon serves them today (e-mail,
  password and authenticator-app code on three pages, or the older combined
  form, by what the client posts), device registration and token exchange on
  api.amazon.com (website cookies named per Amazon site), capability
  registration on api.amazonalexa.com;
- the Alexa web API on alexa.amazon.<tld>: welcome, users/me, devices-v2,
  notifications, routines, music providers, lists, communications, and the
  GraphQL endpoint, parsed and validated with graphql-core (`alexa_schema`);
- Amazon's checks on every request: a user agent (the Alexa app's for
  GraphQL), the site's session cookies, and the ``csrf`` header once issued;
- air-quality monitors whose values change with `advance()`, and faults on
  demand: `inject(Fault..., target=...)`, `expire_session()`,
  `revoke_refresh_token()`, per-property errors.

Run it on its own for `script/develop`:
``python -m tests.simulators.alexa --port 8443`` (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import asdict
from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from .alexa_api import AlexaApi
from .alexa_replies import chunked_reply
from .alexa_state import (
    Account,
    AlexaState,
    Fault,
    PendingFault,
    RequestRecord,
    SimulatedEcho,
    SimulatedMonitor,
    Target,
)
from .alexa_tls import server_ssl_context
from .persist import Command, ControlServer, StateFile, run_until_stopped

__all__ = ["AlexaSimulator", "Fault", "Target"]


class AlexaSimulator:
    """The simulated Amazon cloud; `await start()` before use, `await close()` after."""

    def __init__(self, state: AlexaState | None = None, stall: float = 30.0) -> None:
        """Prepare the simulator; `stall` is how long a TIMEOUT fault holds a request."""
        self.state = state or AlexaState()
        self.stall = stall
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._api = AlexaApi(self.state, self._stall)
        self.port = 0
        # Called with every request's record and the body answered (a served log).
        self.on_response: Callable[[RequestRecord, bytes], None] | None = None

    # -- life cycle ---------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen with TLS on `host`:`port` (0: an ephemeral port)."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=server_ssl_context())
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Release stalled requests and stop serving."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def target(self) -> str:
        """Return where clients reach the simulator, as `host:port`."""
        return f"127.0.0.1:{self.port}"

    # -- a state file (script/develop) ----------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Return the account, its devices and what was issued, as JSON data.

        Pending faults, the request log and sign-ins in progress are not kept.
        """
        state = self.state
        return {
            "account": asdict(state.account),
            "monitors": [asdict(monitor) for monitor in state.monitors],
            "echos": [asdict(echo) for echo in state.echos],
            "sample": state.sample,
            "sample_period": state.sample_period.total_seconds(),
            "clock_offset": state.clock_offset.total_seconds(),
            "secrets": sorted(state.secrets),
            "access_tokens": sorted(state.access_tokens),
            "refresh_token": state.refresh_token,
            "valid_cookies": state.valid_cookies,
            "app_serials": state.app_serials,
            "refresh_revoked": state.refresh_revoked,
            "expired_answer": state.expired_answer.value,
            "logins": state.logins,
            "chunked_replies": state.chunked_replies,
        }

    @classmethod
    def restore(cls, data: dict[str, Any], stall: float = 30.0) -> AlexaSimulator:
        """Return a simulator with the account and sessions `snapshot()` described."""
        monitors = []
        for raw in data["monitors"]:
            monitor = SimulatedMonitor(**raw)
            monitor.ranges = {k: (v[0], v[1]) for k, v in monitor.ranges.items()}
            monitors.append(monitor)
        state = AlexaState(
            account=Account(**data["account"]),
            monitors=monitors,
            echos=[SimulatedEcho(**echo) for echo in data["echos"]],
            sample=int(data["sample"]),
            sample_period=timedelta(seconds=data["sample_period"]),
            clock_offset=timedelta(seconds=data["clock_offset"]),
            secrets=set(data["secrets"]),
            access_tokens=set(data["access_tokens"]),
            refresh_token=data["refresh_token"],
            valid_cookies={d: dict(c) for d, c in data["valid_cookies"].items()},
            app_serials=list(data["app_serials"]),
            refresh_revoked=bool(data["refresh_revoked"]),
            expired_answer=Fault(data["expired_answer"]),
            logins=int(data["logins"]),
            chunked_replies=bool(data["chunked_replies"]),
        )
        return cls(state, stall)

    # -- scenario controls ----------------------------------------------------------

    def add_monitor(
        self,
        name: str | None = None,
        *,
        fahrenheit: bool = False,
        ranges: dict[str, tuple[str, str]] | None = None,
    ) -> SimulatedMonitor:
        """Add an air-quality monitor to the account."""
        index = len(self.state.monitors)
        monitor = SimulatedMonitor(
            index=index,
            serial=f"GAJ23SIM{index:06d}",
            name=name or f"Air Quality Monitor {index + 1}",
            endpoint_id=f"amzn1.alexa.endpoint.sim-aqm-{index:04d}",
            fahrenheit=fahrenheit,
        )
        if ranges is not None:
            monitor.ranges = ranges
        self.state.monitors.append(monitor)
        return monitor

    def add_echo(self, name: str | None = None) -> SimulatedEcho:
        """Add an Echo speaker to the account."""
        index = len(self.state.echos)
        echo = SimulatedEcho(
            serial=f"G090SIMECHO{index:05d}",
            name=name or f"Echo Dot {index + 1}",
            endpoint_id=f"amzn1.alexa.endpoint.sim-echo-{index:04d}",
        )
        self.state.echos.append(echo)
        return echo

    def remove_monitor(self, serial: str) -> None:
        """Take a monitor off the account."""
        self.state.monitors = [m for m in self.state.monitors if m.serial != serial]

    def monitor(self, serial: str) -> SimulatedMonitor:
        """Return a monitor by serial number."""
        return next(m for m in self.state.monitors if m.serial == serial)

    def advance(self, samples: int = 1) -> None:
        """Let the monitors take new samples (new values, new sample time)."""
        self.state.sample += samples

    def inject(
        self, fault: Fault, target: Target = Target.STATE, times: int = 1
    ) -> None:
        """Answer the next `times` matching requests with `fault`."""
        self.state.faults.append(PendingFault(fault, target, times))

    def expire_session(self, answer: Fault = Fault.UNAUTHORIZED) -> None:
        """Make the current cookies stop working; requests get `answer`."""
        self.state.expire_cookies()
        self.state.expired_answer = answer

    def revoke_refresh_token(self) -> None:
        """Refuse the refresh token from now on (a new sign-in is needed)."""
        self.state.refresh_revoked = True

    def set_property_error(
        self, serial: str, key: str, error_type: str = "INTERNAL_ERROR"
    ) -> None:
        """Report an error for one feature (a range instance, temperature, ...)."""
        self.monitor(serial).property_errors[key] = {
            "type": error_type,
            "message": f"Simulated {error_type.lower()}",
        }

    def clear_property_errors(self, serial: str) -> None:
        """Report every feature of a monitor normally again."""
        self.monitor(serial).property_errors.clear()

    def login_data(self) -> dict[str, Any]:
        """Return login data as aioamazondevices builds it, without the sign-in pages.

        For tests about polling; tests about signing in go through the library.
        """
        success = self.state.register(f"SIMAPP{len(self.state.app_serials):04d}")
        tokens = success["tokens"]
        domain = self.state.account.domain
        cookies = {
            cookie["Name"]: cookie["Value"] for cookie in tokens["website_cookies"]
        }
        session_token = tokens["store_authentication_cookie"]["cookie"]
        if domain != "com":
            # The library exchanges the refresh token for the account's own site.
            cookies = self.state.issue_cookies(domain)
            session_token = cookies["session-token"]
        # As the library keeps them: with the session token and its language cookie.
        cookies["session-token"] = session_token
        cookies["lc-acbit"] = "en-US"
        return {
            "access_token": tokens["bearer"]["access_token"],
            "refresh_token": tokens["bearer"]["refresh_token"],
            "adp_token": tokens["mac_dms"]["adp_token"],
            "device_private_key": tokens["mac_dms"]["device_private_key"],
            "website_cookies": cookies,
            "store_authentication_cookie": {"cookie": session_token},
            "device_info": success["extensions"]["device_info"],
            "customer_info": success["extensions"]["customer_info"],
            "site": f"https://www.amazon.{self.state.account.domain}",
            "account_customer_id": self.state.account.customer_id,
        }

    @property
    def requests(self) -> list[RequestRecord]:
        """Return every request answered so far."""
        return self.state.requests

    @property
    def secrets(self) -> set[str]:
        """Return every secret issued or configured (password, code, tokens, cookies)."""
        return self.state.secrets

    def count(self, operation: str) -> int:
        """Return how many requests an operation (or path) got."""
        return self.state.operations()[operation]

    def reset_counts(self) -> None:
        """Forget the request log."""
        self.state.requests.clear()

    # -- HTTP -------------------------------------------------------------------------

    async def _stall(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self.stall)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        host = (request.host or "").split(":")[0].lower()
        operation = None
        if request.path.endswith("/graphql"):
            try:
                operation = _operation(json.loads(raw))
            except ValueError:
                operation = None
        # Recorded on arrival: a request held by a TIMEOUT fault counts too.
        record = RequestRecord(
            host,
            request.method,
            request.path,
            operation,
            0,
            len(raw),
            0,
            headers={name.lower(): value for name, value in request.headers.items()},
            cookies=frozenset(request.cookies),
            query=request.query_string,
            form=raw.decode() if request.path == "/auth/token" else "",
        )
        self.state.requests.append(record)
        response = await self._api.dispatch(host, request, raw)
        record.status = response.status
        body = response.body if isinstance(response.body, bytes) else b""
        record.response_bytes = len(body)
        if self.on_response is not None:
            self.on_response(record, body)
        if self.state.chunked_replies and body:
            return await chunked_reply(request, response, body)
        return response


def _operation(body: Any) -> str | None:
    first = body[0] if isinstance(body, list) and body else body
    return first.get("operationName") if isinstance(first, dict) else None


def control_commands(simulator: AlexaSimulator) -> dict[str, Command]:
    """Return the faults `script/fault amazon-...` triggers on a running simulator."""

    async def expire_login() -> str:
        simulator.expire_session()
        simulator.revoke_refresh_token()
        return "the session and the refresh token are refused: sign in again"

    async def rate_limit() -> str:
        simulator.state.faults = [
            f for f in simulator.state.faults if f.fault is not Fault.TOO_MANY_REQUESTS
        ]
        simulator.inject(Fault.TOO_MANY_REQUESTS, Target.ANY, times=1_000_000_000)
        return "every request is answered 429 Too Many Requests"

    async def clear() -> str:
        cleared = len(simulator.state.faults)
        simulator.state.faults.clear()
        return f"cleared {cleared} pending fault(s): requests are answered again"

    return {"expire-login": expire_login, "rate-limit": rate_limit, "clear": clear}


async def _main() -> None:  # pragma: no cover - development entry point
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--monitors", type=int, default=2)
    parser.add_argument("--fahrenheit", action="store_true")
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument(
        "--state", type=Path, help="keep the account and its sessions in this JSON file"
    )
    parser.add_argument(
        "--control-port", type=int, help="answer script/fault on 127.0.0.1:PORT"
    )
    args = parser.parse_args()
    simulator = None
    state_file = None
    if args.state is not None:
        state_file = StateFile(args.state)
        if (saved := state_file.load()) is not None:
            simulator = AlexaSimulator.restore(saved)
    if simulator is None:
        simulator = AlexaSimulator()
        for _ in range(args.monitors):
            simulator.add_monitor(fahrenheit=args.fahrenheit)
        simulator.add_echo()
    await simulator.start(port=args.port)
    control = None
    if args.control_port is not None:
        control = ControlServer(control_commands(simulator))
        await control.start(args.control_port)
    account = simulator.state.account
    print(  # noqa: T201
        f"Amazon simulator on {simulator.target}, "
        f"{len(simulator.state.app_serials)} registered app device(s)"
        + (f", state in {args.state}" if args.state else "")
        + (f", control on 127.0.0.1:{args.control_port}" if control else "")
        + f"\n  export HOME_MONITOR_AMAZON_SIMULATOR={simulator.target}\n"
        f"  e-mail {account.email}  password {account.password}  code {account.otp}",
        flush=True,
    )
    try:
        await run_until_stopped(
            simulator.advance,
            args.sample_seconds,
            state_file=state_file,
            snapshot=simulator.snapshot,
            control=control,
        )
    finally:
        await simulator.close()


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
