"""Keeping a simulator's state in a JSON file, and the control port of `script/develop`.

Only the simulators started by `script/develop` use these: with ``--state PATH`` a simulator
loads its state from PATH at start, writes it whenever it changes (checked every second) and at
exit, so a restart looks like a real bridge or a real account that kept its app keys, sessions
and devices. With ``--control-port N`` it answers ``POST /<command>`` on 127.0.0.1:N
(``script/fault``), to trigger a fault while Home Assistant runs. Tests build simulators in
process and use neither.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
import json
import os
from pathlib import Path
import signal
from typing import Any

from aiohttp import web

STATE_VERSION = 1
SAVE_INTERVAL = 1.0

type Snapshot = Callable[[], dict[str, Any]]
type Command = Callable[[], Awaitable[str]]


class StateFile:
    """One simulator's state file: read once at start, rewritten when the state changes."""

    def __init__(self, path: Path) -> None:
        """Keep a state in `path` (its folder is created when needed)."""
        self.path = path
        self._saved = ""

    def load(self) -> dict[str, Any] | None:
        """Return the saved state, or None when there is none (a factory-fresh start)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"{self.path}: not a simulator state of version 1")
        self._saved = text
        return data

    def save(self, snapshot: Snapshot) -> bool:
        """Write `snapshot()` if it changed since the last write; return whether it did."""
        text = json.dumps(
            {"version": STATE_VERSION, **snapshot()}, indent=1, sort_keys=True
        )
        if text == self._saved:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.partial")
        # App keys, tokens and cookies: readable by the owner only.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        partial.replace(self.path)
        self._saved = text
        return True

    async def keep_saved(
        self, snapshot: Snapshot, interval: float = SAVE_INTERVAL
    ) -> None:
        """Write `snapshot()` whenever it changed, until cancelled; once more then."""
        try:
            while True:
                await asyncio.sleep(interval)
                self.save(snapshot)
        finally:
            self.save(snapshot)


class ControlServer:
    """``POST /<command>`` on 127.0.0.1 runs one of a simulator's fault controls."""

    def __init__(self, commands: Mapping[str, Command]) -> None:
        """Offer `commands` (name -> coroutine returning what changed)."""
        self.commands = dict(commands)
        app = web.Application()
        app.router.add_get("/", self._list)
        app.router.add_post("/{command}", self._run)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self.port = 0

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:`port` (loopback only; 0: an ephemeral port)."""
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening."""
        await self._runner.cleanup()

    async def _list(self, request: web.Request) -> web.Response:
        return web.Response(text="\n".join(sorted(self.commands)) + "\n")

    async def _run(self, request: web.Request) -> web.Response:
        command = self.commands.get(request.match_info["command"])
        if command is None:
            known = ", ".join(sorted(self.commands))
            return web.Response(status=404, text=f"unknown command; known: {known}\n")
        return web.Response(text=await command() + "\n")


async def run_until_stopped(
    tick: Callable[[], None] | None,
    seconds_per_tick: float,
    *,
    state_file: StateFile | None = None,
    snapshot: Snapshot | None = None,
    control: ControlServer | None = None,
) -> None:
    """Call `tick` every `seconds_per_tick` until SIGTERM or SIGINT.

    Meanwhile `state_file` is kept saved from `snapshot`; at the end the saver (which
    saves once more) and the `control` server are stopped.
    """
    saver = None
    if state_file is not None and snapshot is not None:
        saver = asyncio.get_running_loop().create_task(state_file.keep_saved(snapshot))
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        while not stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), seconds_per_tick)
            if tick is not None and not stopped.is_set():
                tick()
    finally:
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
        if control is not None:
            await control.stop()
