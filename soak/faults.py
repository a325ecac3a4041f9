"""Starting and ending each fault of the plan, for real where a real one can be had.

- Hue: the bridge goes down (connections refused, streams cut) and comes back; 503 and 429
  storms answer every request with that status after the streams are cut; malformed event
  lines are sent on the open streams.
- Amazon: GraphQL throttling (HTTP 200 with `UNOFFICIAL_CLIENT_TOO_MANY_REQUESTS`), 503s,
  an expired login (session and refresh token refused) that ends with a reauth through
  Home Assistant's own reauth flow with the account's password and code.
- Store: another process takes SQLite's write lock on the history file for 10 s; a full
  disk is `SQLITE_FULL` (the error SQLite raises, code 13) answered to every write statement
  at the store's connection boundary, the only place touched: `sqlite3.connect` hands out
  `FullableConnection`s, which also refuse to run on the event loop (tests/sqlite_guard.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import sqlite3
import sys
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.home_monitor.sources.amazon import CONF_CODE
from tests.simulators.alexa import Fault, Target
from tests.sqlite_guard import GuardedConnection, guarded_connect

from .home import SimulatedHome

MALFORMED = (
    "data: [{not json\n\n",
    'data: {"type": "update", "data": []}\n\n',
    'data: [{"type": "update", "data": [{"id": 5, "type": "motion"}]}]\n\n',
    "data: \xff\xfe\n\n",
)
LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""
SQLITE_FULL = 13
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class DiskState:
    """Whether the disk is full now, for every connection to the history file."""

    full = False


class FullableConnection(GuardedConnection):
    """A guarded connection that answers SQLITE_FULL to writes while `DiskState.full`."""

    def _follow_disk(self, sql: object) -> None:
        if DiskState.full and str(sql).lstrip()[:7].upper().startswith(WRITES):
            err = sqlite3.OperationalError("database or disk is full")
            err.sqlite_errorcode = SQLITE_FULL  # type: ignore[attr-defined]
            err.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
            raise err

    def execute(self, *args: Any) -> sqlite3.Cursor:
        """Run a statement under the disk's current condition."""
        self._follow_disk(args[0] if args else "")
        return super().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        """Run a statement under the disk's current condition."""
        self._follow_disk(args[0] if args else "")
        return super().executemany(*args)


def install_connection_guard() -> None:
    """Hand out guarded, fullable connections (before the store opens)."""
    original = sqlite3.connect
    guarded = guarded_connect(original)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", FullableConnection)
        return guarded(*args, **kwargs)

    sqlite3.connect = connect  # type: ignore[assignment]


class FaultRunner:
    """Starts and ends faults on the home, the store file and Home Assistant."""

    def __init__(self, hass: HomeAssistant, home: SimulatedHome, db: Path) -> None:
        """Act on `home`, and on `hass`'s entries (the reauth)."""
        self.hass = hass
        self.home = home
        self.db = db
        self._lock: asyncio.subprocess.Process | None = None
        self.notes: list[str] = []

    async def start(self, kind: str) -> None:
        """Begin a fault."""
        bridge, amazon = self.home.bridge, self.home.amazon
        if kind in ("hue_restart", "hue_unreachable", "hue_long_outage"):
            await bridge.go_down()
        elif kind in ("hue_503_storm", "hue_429_storm"):
            bridge.fail(503 if "503" in kind else 429, count=10**9)
            bridge.drop_streams()
        elif kind == "malformed_events":
            for text in MALFORMED:
                bridge.events.push_raw(text)
        elif kind == "amazon_rate_limit":
            amazon.inject(Fault.GRAPHQL_THROTTLED, Target.STATE, times=10**9)
        elif kind == "amazon_503_storm":
            amazon.inject(Fault.SERVICE_UNAVAILABLE, Target.ANY, times=10**9)
        elif kind == "amazon_login_expiry":
            amazon.expire_session()
            amazon.revoke_refresh_token()
        elif kind == "store_locked":
            await self._take_lock(10.0)
        elif kind == "disk_full":
            DiskState.full = True

    async def end(self, kind: str) -> None:
        """End a fault."""
        bridge, amazon = self.home.bridge, self.home.amazon
        if kind in ("hue_restart", "hue_unreachable", "hue_long_outage"):
            await bridge.come_up()
        elif kind in ("hue_503_storm", "hue_429_storm"):
            bridge.clear_faults()
        elif kind == "malformed_events":
            for text in MALFORMED[:2]:
                bridge.events.push_raw(text)
        elif kind in ("amazon_rate_limit", "amazon_503_storm"):
            amazon.state.faults.clear()
        elif kind == "amazon_login_expiry":
            await self._reauth()
        elif kind == "store_locked" and self._lock is not None:
            await self._lock.wait()
            self._lock = None
        elif kind == "disk_full":
            DiskState.full = False

    async def _take_lock(self, seconds: float) -> None:
        self._lock = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            LOCK_HOLDER,
            str(self.db),
            str(seconds),
            stdout=asyncio.subprocess.PIPE,
        )
        line = await self._lock.stdout.readline() if self._lock.stdout else b""
        if line.strip() != b"locked":
            self.notes.append("the lock holder could not take the lock")

    async def _reauth(self) -> None:
        """Sign in again through Home Assistant's reauth flow (as a user would)."""
        entry = next(
            e
            for e in self.hass.config_entries.async_entries("home_monitor")
            if e.data.get("source") == "amazon"
        )
        flows = list(entry.async_get_active_flows(self.hass, {SOURCE_REAUTH}))
        if flows:
            flow_id = flows[0]["flow_id"]
        else:
            self.notes.append("no reauth flow was waiting; one was started")
            flow_id = (await entry.start_reauth_flow(self.hass))["flow_id"]
        account = self.home.amazon.state.account
        result = await self.hass.config_entries.flow.async_configure(
            flow_id, {CONF_PASSWORD: account.password, CONF_CODE: account.otp}
        )
        if (
            result["type"] is not FlowResultType.ABORT
            or result["reason"] != "reauth_successful"
        ):
            self.notes.append(
                f"reauth ended with {result['type']}: {result.get('reason')}"
            )
        await self.hass.async_block_till_done()
