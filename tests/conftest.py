"""Fixtures shared by every test."""

import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# Every test, the integration's included, fails if SQLite is used on the event loop.
from tests.sqlite_guard import no_sqlite_on_event_loop  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from this repository."""


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give each test a config folder of its own, and so its own history file."""
    return hass_tmp_config_dir


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Return syrupy's fixture with Home Assistant's format, kept in `snapshots/`."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
