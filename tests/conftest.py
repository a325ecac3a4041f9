"""Fixtures shared by every test."""

import asyncio
from collections.abc import Generator
import threading
from unittest.mock import PropertyMock, patch

import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# Every test, the integration's included, fails if SQLite is used on the event loop.
from tests.sqlite_guard import no_sqlite_on_event_loop  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from this repository."""


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, as Home Assistant's own fixture of that name does."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def without_health_entities() -> Generator[None]:
    """Leave out the health model's diagnostic entities (tested in test_health_entities)."""
    with (
        patch("custom_components.home_monitor.sensor.ENTRY_HEALTH", ()),
        patch("custom_components.home_monitor.sensor.STORE_HEALTH", ()),
    ):
        yield


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give each test a config folder of its own, and so its own history file."""
    return hass_tmp_config_dir


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Return syrupy's fixture with Home Assistant's format, kept in `snapshots/`."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


# aioamazondevices reads its settings file through anyio, whose worker threads stop from a
# done-callback of the finished test's task. Home Assistant's clean-up check counts threads
# before that callback has run, so a test could fail on a thread that is about to end.
ANYIO_WORKER = "AnyIO worker thread"


@pytest_asyncio.fixture(autouse=True)
def stop_anyio_workers(verify_cleanup: None) -> Generator[None]:
    """Let the test's anyio worker threads end before the clean-up check looks."""
    before = set(threading.enumerate())
    yield
    workers = [
        thread
        for thread in threading.enumerate()
        if thread not in before and thread.name == ANYIO_WORKER
    ]
    if not workers:
        return
    asyncio.get_event_loop().run_until_complete(asyncio.sleep(0))
    for thread in workers:
        thread.join(timeout=5)
