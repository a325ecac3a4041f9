"""A real Home Assistant with Home Monitor and the simulators, for a real browser.

Everything runs on 127.0.0.1 in a temporary folder: the simulators from the state
files `tests.browser.seed` writes (with a history file to match, made before Home
Assistant starts), Home Assistant's newest release (.venv-smoke) with a minimal
configuration (frontend and the recorder it asks about, no default_config), a user onboarded and both sources
added through the REST API as script/smoke does. Only the standard library here:
this runs in the playwright environment, the simulators and the seeding in .venv.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import re
import secrets
import socket
import subprocess
import sys
import time
from typing import Any, Self
import urllib.error
import urllib.parse
import urllib.request

CONFIGURATION = """\
homeassistant:
  name: Home
  unit_system: metric
  time_zone: UTC
  latitude: 0
  longitude: 0
  elevation: 0
  country: GB
  language: en
frontend:
recorder:
api:
config:
onboarding:
logger:
  default: warning
"""
# Written with Home Assistant's own schema, so the file has the release's format.
HTTP_STORAGE = """
import json, sys
from homeassistant.components.http.config import (
    HTTP_STORAGE_SCHEMA, STORAGE_KEY, STORAGE_MINOR_VERSION, STORAGE_VERSION,
)
stable = HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": int(sys.argv[1])})
stable.update(created_at="2026-01-01T00:00:00+00:00", error=None, error_message=None)
data = {"stable": stable, "pending": None, "yaml_migration_done": True}
with open(sys.argv[2], "w") as file:
    json.dump({"version": STORAGE_VERSION, "minor_version": STORAGE_MINOR_VERSION,
               "key": STORAGE_KEY, "data": data}, file, default=str)
"""


def log(message: str) -> None:
    """Print a progress line."""
    print(f"browser: {message}", flush=True)  # noqa: T201


def free_ports(count: int) -> list[int]:
    """Return ports free on 127.0.0.1 right now."""
    socks = [socket.socket() for _ in range(count)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in socks]
    for sock in socks:
        sock.close()
    return ports


class LiveHass:
    """Start the simulators and Home Assistant; stop them on exit."""

    def __init__(self, repo: Path, work: Path, seed_days: int, budget: float) -> None:
        """Prepare a run in `work` with `seed_days` of history, within `budget` s."""
        self.repo = repo
        self.work = work
        self.config = work / "config"
        self.seed_days = seed_days
        self.deadline = time.monotonic() + budget
        self.started = time.monotonic()
        self.port, self.hue_port, self.amazon_port = free_ports(3)
        self.base = f"http://127.0.0.1:{self.port}"
        self.client_id = f"{self.base}/"
        self.token = ""
        self.tokens: dict[str, Any] = {}
        self.account: re.Match[str] | None = None
        self._processes: list[subprocess.Popen[bytes]] = []

    def elapsed(self) -> float:
        """Return the seconds since the start."""
        return time.monotonic() - self.started

    # -- processes ---------------------------------------------------------------

    def __enter__(self) -> Self:
        """Seed, then start the simulators and Home Assistant, onboard, add the sources."""
        try:
            self._prepare()
            self._start()
            self._onboard()
            self._add_sources()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop every process started, Home Assistant the normal way first."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self._processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        if exc and exc[0] is not None:
            for name in ("hass.out", "config/home-assistant.log"):
                path = self.work / name
                if path.exists():
                    lines = path.read_text(errors="replace").splitlines()[-30:]
                    sys.stderr.write(
                        "\n".join([f"browser: last lines of {name}:", *lines, ""])
                    )

    def _spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        out = (self.work / f"{name}.out").open("wb")
        self._processes.append(
            subprocess.Popen(  # noqa: S603 - our own interpreters and modules
                args, cwd=self.repo, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        )  # fmt: skip

    def _prepare(self) -> None:
        storage = self.config / ".storage"
        storage.mkdir(parents=True)
        (self.config / "custom_components").mkdir()
        (self.config / "custom_components" / "home_monitor").symlink_to(
            self.repo / "custom_components" / "home_monitor"
        )
        (self.config / "configuration.yaml").write_text(CONFIGURATION)
        # Home Assistant keeps its HTTP settings in storage: 127.0.0.1 only, as if confirmed.
        subprocess.run(  # noqa: S603 - our own interpreter
            [".venv-smoke/bin/python", "-c", HTTP_STORAGE, str(self.port), str(storage / "http")],
            cwd=self.repo, check=True, timeout=60,
        )  # fmt: skip
        # The location and analytics steps count as done; the user is added below.
        onboarding = {"done": ["core_config", "analytics"]}
        (storage / "onboarding").write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": onboarding,
                }
            )
        )
        subprocess.run(  # noqa: S603 - our own interpreter and module
            [".venv/bin/python", "-m", "tests.browser.seed", str(self.config),
             str(self.work / "hue.json"), str(self.work / "amazon.json"), str(self.seed_days)],
            cwd=self.repo, check=True, timeout=self._left(),
        )  # fmt: skip
        log(f"seeded {self.seed_days} days of history ({self.elapsed():.0f} s)")

    def _start(self) -> None:
        python = ".venv/bin/python"
        self._spawn(
            "hue", python, "-m", "tests.simulators.hue_bridge", "--port", str(self.hue_port),
            "--state", str(self.work / "hue.json"),
        )  # fmt: skip
        self._spawn(
            "amazon", python, "-m", "tests.simulators.alexa", "--port", str(self.amazon_port),
            "--state", str(self.work / "amazon.json"), "--sample-seconds", "5",
        )  # fmt: skip
        self.wait_for(
            "the simulators",
            lambda: (
                "on 127.0.0.1" in self._read("hue.out")
                and "code" in self._read("amazon.out")
            ),
            30,
        )
        self.account = re.search(
            r"e-mail (\S+)  password (.+)  code (\S+)$",
            self._read("amazon.out"),
            re.MULTILINE,
        )
        self._spawn(
            "hass", ".venv-smoke/bin/python", "-m", "homeassistant", "--config", str(self.config),
            env={"HOME_MONITOR_AMAZON_SIMULATOR": f"127.0.0.1:{self.amazon_port}"},
        )  # fmt: skip

    def _read(self, name: str) -> str:
        path = self.work / name
        return path.read_text(errors="replace") if path.exists() else ""

    def _left(self) -> float:
        return max(1.0, self.deadline - time.monotonic())

    # -- REST ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        form: dict[str, str] | None = None,
    ) -> Any:
        """Call Home Assistant's REST API with the user's token."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data, headers, method=method)  # noqa: S310
        with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def wait_for(self, what: str, check: Any, seconds: float) -> Any:
        """Poll `check` each half second until it is true; fail past `seconds`."""
        end = min(time.monotonic() + seconds, self.deadline)
        while True:
            try:
                if result := check():
                    return result
            except OSError, urllib.error.URLError:
                pass
            if time.monotonic() > end:
                raise TimeoutError(f"gave up waiting for {what}")
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{process.args[:4]} exited while waiting for {what}"
                    )
            time.sleep(0.5)

    def _onboard(self) -> None:
        self.wait_for(
            "Home Assistant's HTTP server",
            lambda: self.request("GET", "/api/onboarding"),
            120,
        )
        code = self.request("POST", "/api/onboarding/users", {
            "client_id": self.client_id, "name": "Alex", "username": "alex",
            "password": secrets.token_urlsafe(16), "language": "en",
        })["auth_code"]  # fmt: skip
        self.tokens = self.request("POST", "/auth/token", form={
            "grant_type": "authorization_code", "code": code, "client_id": self.client_id,
        })  # fmt: skip
        self.token = self.tokens["access_token"]
        self.request("POST", "/api/onboarding/integration", {
            "client_id": self.client_id, "redirect_uri": f"{self.base}/?auth_callback=1",
        })  # fmt: skip
        log(f"Home Assistant is up, a user onboarded ({self.elapsed():.0f} s)")

    def _flow(self, answers: dict[str, Any]) -> None:
        result = self.request(
            "POST", "/api/config/config_entries/flow", {"handler": "home_monitor"}
        )
        flow_id = result["flow_id"]
        for _ in range(12):
            kind, step = result.get("type"), result.get("step_id")
            if kind == "create_entry":
                return
            if kind == "abort" or result.get("errors") or step not in answers:
                raise RuntimeError(f"unexpected flow result {result}")
            if kind == "progress":
                time.sleep(0.5)
                result = self.request(
                    "GET", f"/api/config/config_entries/flow/{flow_id}"
                )
                continue
            body = {"next_step_id": answers[step]} if kind == "menu" else answers[step]
            result = self.request(
                "POST", f"/api/config/config_entries/flow/{flow_id}", body
            )
        raise RuntimeError("the flow did not end")

    def _add_sources(self) -> None:
        assert self.account is not None, self._read("amazon.out")
        self._flow({
            "user": "hue", "hue": "hue_manual",
            "hue_manual": {"host": f"127.0.0.1:{self.hue_port}"}, "hue_link": {},
        })  # fmt: skip
        self._flow({
            "user": "amazon",
            "amazon": {"username": self.account[1], "password": self.account[2], "code": self.account[3]},
        })  # fmt: skip

        def ready() -> bool:
            classes = {
                s["attributes"].get("device_class")
                for s in self.request("GET", "/api/states")
                if s["state"] not in {"unknown", "unavailable"}
            }
            return {"temperature", "pm25"} <= classes

        self.wait_for("values of both sources", ready, 90)
        log(
            f"a Hue bridge and an Amazon account added, values shown ({self.elapsed():.0f} s)"
        )

    def browser_tokens(self) -> dict[str, Any]:
        """Return what the frontend keeps in localStorage as `hassTokens`."""
        return {
            "hassUrl": self.base, "clientId": self.client_id,
            "access_token": self.tokens["access_token"], "refresh_token": self.tokens["refresh_token"],
            "token_type": "Bearer", "expires_in": self.tokens["expires_in"],
            "expires": int(time.time() * 1000) + self.tokens["expires_in"] * 1000,
        }  # fmt: skip
