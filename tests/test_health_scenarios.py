"""The collector's failure scenarios, each created for real, judged by the health check.

The tests run as root, which ignores permission bits: a read-only file or folder is made
with the file system's immutable flag (which binds root too); WAL is refused by SQLite's
unix-none VFS (no shared memory), as on a network share; only the free-space probe is
patched, at the OS boundary (`shutil.disk_usage`).
"""

from __future__ import annotations

import array
from collections.abc import Callable, Generator
import fcntl
import os
from pathlib import Path
import shutil
from typing import Any, NamedTuple

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import DOMAIN
from custom_components.home_monitor.health_monitor import async_get_monitor
from custom_components.home_monitor.history import store_path
from tests.hue.fixtures import make_entry, poll, wait_for
from tests.simulators.alexa import AlexaSimulator, Fault
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.store.environment import without_shared_memory

from . import test_health
from .test_health import amazon, component, health_check

# The Amazon simulator's fixtures.
_tls_context = test_health._tls_context
simulator = test_health.simulator
credentials = test_health.credentials
amazon_env = test_health.amazon_env
amazon_entry = test_health.amazon_entry

_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
_FS_IMMUTABLE_FL = 0x10


def _set_immutable(path: Path, on: bool) -> None:
    """Set or clear the file system's immutable flag (binds root too)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        flags[0] = flags[0] | _FS_IMMUTABLE_FL if on else flags[0] & ~_FS_IMMUTABLE_FL
        fcntl.ioctl(fd, _FS_IOC_SETFLAGS, flags, True)
    finally:
        os.close(fd)


@pytest.fixture
def immutable() -> Generator[Callable[[Path], None]]:
    """Make paths unwritable for everyone; undone after the test."""
    made: list[Path] = []

    def make(path: Path) -> None:
        try:
            _set_immutable(path, True)
        except OSError as err:  # pragma: no cover - file systems without the flag
            pytest.skip(f"the immutable flag is not available here: {err}")
        made.append(path)

    yield make
    for path in made:
        _set_immutable(path, False)


class _Usage(NamedTuple):
    total: int
    used: int
    free: int


def free_space(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    """Have the OS report `free` bytes free at the store's folder."""
    monkeypatch.setattr(
        shutil, "disk_usage", lambda path: _Usage(10 * free + 1, 9 * free, free)
    )


async def set_up_v2(
    hass: HomeAssistant, bridge: HueBridgeSimulator, entry: MockConfigEntry
) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)
    await wait_for(hass, lambda: entry.runtime_data.coordinator.stream_connected)


async def set_up_again(
    hass: HomeAssistant, bridge: HueBridgeSimulator, entry: MockConfigEntry
) -> None:
    """Set the unloaded entry up again and wait for its new event stream."""
    connections = bridge.events.connections
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: bridge.events.connections > connections)
    await wait_for(hass, lambda: entry.runtime_data.coordinator.stream_connected)


def issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    return {
        key: issue
        for (domain, key), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


def assert_report(  # noqa: PLR0917 - the expectations, in the order they read
    response: dict[str, Any],
    name: str,
    entry: str | None,
    status: str,
    exit_code: int,
    remediation: str,
) -> dict[str, Any]:
    assert response["exit_code"] == exit_code, response
    assert response["status"] == status
    found = component(response, name, entry)
    assert found["status"] == status, found
    assert remediation in (found["remediation"] or ""), found
    return found


async def test_read_only_store_file(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    app_key: str,
    immutable: Callable[[Path], None],
) -> None:
    entry = make_entry(bridge, app_key, 2)
    await set_up_v2(hass, bridge, entry)
    assert (await health_check(hass))["status"] == "ok"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()  # the store is closed
    immutable(store_path(hass))
    await set_up_again(hass, bridge, entry)

    response = await health_check(hass)
    store = assert_report(
        response, "store", None, "critical", 2, "may write the history file"
    )
    assert store["message"].startswith("The history file cannot be written (")
    assert "readonly" in store["figures"]["write_error"]
    assert store["figures"]["writable"] is False
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_store_folder_unwritable(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    app_key: str,
    immutable: Callable[[Path], None],
) -> None:
    """The store's folder takes no new file: the history file cannot be created."""
    folder = store_path(hass).parent
    await hass.async_add_executor_job(folder.mkdir)
    immutable(folder)
    entry = make_entry(bridge, app_key, 2)
    await set_up_v2(hass, bridge, entry)

    response = await health_check(hass)
    store = assert_report(
        response, "store", None, "critical", 2, "may write the history file"
    )
    assert store["figures"]["writable"] is False
    assert "unable to open database file" in store["figures"]["write_error"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_wal_unavailable(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    app_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_shared_memory(monkeypatch)
    entry = make_entry(bridge, app_key, 2)
    await set_up_v2(hass, bridge, entry)

    response = await health_check(hass)
    store = assert_report(response, "store", None, "degraded", 1, "local disk")
    assert store["figures"]["wal"] is False
    assert store["figures"]["journal_mode"] == "delete"
    assert store["figures"]["writable"] is True
    # No grace: the repair is raised at once, with the journal mode.
    issue = issues(hass)["store_wal_unavailable"]
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["mode"] == "delete"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("free", "status", "exit_code", "code"),
    [
        (50_000_000, "critical", 2, "store_disk_full"),
        (500_000_000, "degraded", 1, "store_disk_low"),
    ],
)
async def test_disk_nearly_full(
    hass: HomeAssistant,
    *,
    loaded_v2: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    free: int,
    status: str,
    exit_code: int,
    code: str,
) -> None:
    free_space(monkeypatch, free)
    response = await health_check(hass)
    store = assert_report(response, "store", None, status, exit_code, "Free space")
    assert store["figures"]["free_bytes"] == free
    report = await async_get_monitor(hass).async_refresh()
    found = report.component("store")
    assert found is not None
    assert [finding.code for finding in found.findings] == [code]


async def test_corrupt_file_moved_aside(
    hass: HomeAssistant, bridge: HueBridgeSimulator, app_key: str
) -> None:
    path = store_path(hass)
    await hass.async_add_executor_job(_write_garbage, path)
    entry = make_entry(bridge, app_key, 2)
    await set_up_v2(hass, bridge, entry)

    response = await health_check(hass)
    store = assert_report(response, "store", None, "degraded", 1, "Nothing is needed")
    [moved] = store["figures"]["moved_aside"]
    assert moved.startswith("history.db.corrupt-")
    assert moved in store["message"]
    assert store["figures"]["quick_check"] != "ok"
    issue = issues(hass)["store_moved_aside"]
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["file"] == moved
    assert await hass.config_entries.async_unload(entry.entry_id)


def _write_garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not SQLite" * 500)


async def test_unreachable_hue_bridge(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
    fast_retries: object,
) -> None:
    coordinator = loaded_v2.runtime_data.coordinator
    await bridge.go_down()
    await wait_for(hass, lambda: coordinator.polling)
    await poll(hass, 30)

    response = await health_check(hass)
    hue = assert_report(
        response, "hue", loaded_v2.entry_id, "degraded", 1, "powered and on the network"
    )
    assert hue["message"].startswith("The Hue bridge does not answer (")
    assert hue["figures"]["consecutive_failures"] >= 1
    assert hue["figures"]["failing_since"] is not None


async def test_revoked_hue_key(
    hass: HomeAssistant,
    bridge: HueBridgeSimulator,
    app_key: str,
    loaded_v2: MockConfigEntry,
) -> None:
    bridge.revoke_app_key(app_key)
    await wait_for(
        hass, lambda: bool(hass.config_entries.flow.async_progress()), within=10
    )
    response = await health_check(hass)
    hue = assert_report(
        response, "hue", loaded_v2.entry_id, "critical", 2, "Re-link the bridge"
    )
    assert hue["message"] == "The Hue bridge rejected the app key"


async def test_expired_amazon_login(
    hass: HomeAssistant, simulator: AlexaSimulator, amazon_entry: MockConfigEntry
) -> None:
    coordinator = await amazon.setup_entry(hass, amazon_entry)
    simulator.expire_session()
    simulator.revoke_refresh_token()
    await coordinator.async_refresh()
    await hass.async_block_till_done()

    response = await health_check(hass)
    found = assert_report(
        response, "amazon", amazon_entry.entry_id, "critical", 2, "Sign in again"
    )
    assert found["message"] == "Amazon no longer accepts the login"


async def test_amazon_rate_limited(
    hass: HomeAssistant, simulator: AlexaSimulator, amazon_entry: MockConfigEntry
) -> None:
    coordinator = await amazon.setup_entry(hass, amazon_entry)
    simulator.inject(Fault.TOO_MANY_REQUESTS, times=5)
    await coordinator.async_refresh()

    response = await health_check(hass)
    found = assert_report(
        response,
        "amazon",
        amazon_entry.entry_id,
        "degraded",
        1,
        "Raise the poll interval",
    )
    assert found["figures"]["rate_limited"] is True
    assert 590 <= found["figures"]["rate_limited_for_s"] <= 600


async def test_incomplete_entry_data(
    hass: HomeAssistant, bridge: HueBridgeSimulator, app_key: str
) -> None:
    entry = make_entry(bridge, app_key, 2)
    data = dict(entry.data)
    del data[CONF_API_KEY]
    broken = MockConfigEntry(
        domain=DOMAIN, unique_id=entry.unique_id, title=entry.title, data=data
    )
    broken.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(broken.entry_id)
    assert broken.state is ConfigEntryState.SETUP_ERROR

    response = await health_check(hass)
    config = assert_report(
        response,
        "configuration",
        broken.entry_id,
        "critical",
        2,
        "Remove the entry and add it again",
    )
    assert config["message"].endswith(": api_key")
    assert config["figures"]["data_problems"] == ["api_key"]
    source = component(response, "hue", broken.entry_id)
    assert source["status"] == "critical"
    assert source["message"].startswith("The entry could not be set up (setup_error)")
    # The store is not open: no entry is loaded.
    assert component(response, "store")["status"] == "critical"


async def test_several_at_once(
    hass: HomeAssistant,
    *,
    bridge: HueBridgeSimulator,
    app_key: str,
    simulator: AlexaSimulator,
    amazon_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    fast_retries: object,
) -> None:
    """WAL refused, disk low, bridge down and Amazon throttling: one report names all."""
    without_shared_memory(monkeypatch)
    coordinator = await amazon.setup_entry(hass, amazon_entry)
    hue_entry = make_entry(bridge, app_key, 2)
    await set_up_v2(hass, bridge, hue_entry)
    free_space(monkeypatch, 500_000_000)
    await bridge.go_down()
    await wait_for(hass, lambda: hue_entry.runtime_data.coordinator.polling)
    await poll(hass, 30)
    simulator.inject(Fault.TOO_MANY_REQUESTS, times=5)
    await coordinator.async_refresh()

    response = await health_check(hass)
    assert response["status"] == "degraded"
    assert response["exit_code"] == 1
    report = await async_get_monitor(hass).async_refresh()
    found = {
        (c.component, finding.code) for c in report.components for finding in c.findings
    }
    assert found == {
        ("store", "store_wal_unavailable"),
        ("store", "store_disk_low"),
        ("hue", "hue_unreachable"),
        ("amazon", "amazon_rate_limited"),
    }
    store = component(response, "store")
    assert "write-ahead logging" in store["message"]
    assert "MB are free" in store["message"]
    assert "local disk" in store["remediation"]
    assert "Free space" in store["remediation"]
    assert await hass.config_entries.async_unload(hue_entry.entry_id)
