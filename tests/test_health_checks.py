"""The checks' judgement on figures no test environment produces easily, and the model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import CONF_POLL_INTERVAL, DOMAIN
from custom_components.home_monitor.health import (
    CheckResult,
    Finding,
    HealthStatus,
    async_run_checks,
)
from custom_components.home_monitor.health_checks import (
    async_check_configuration,
    async_check_source,
    entry_data_problems,
    free_bytes,
    store_result,
)
from custom_components.home_monitor.store import StoreSettings
from custom_components.home_monitor.store.records import StoreStatus
from custom_components.home_monitor.store.schema import LATEST_VERSION

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GOOD_LOGIN = {
    "customer_info": {"user_id": "amzn1.account.X"},
    "website_cookies": {"session-id": "1"},
    "refresh_token": "Atnr|x",
}


class _Store:
    """The parts of a store the store check reads."""

    def __init__(self, status: StoreStatus, budget: int = 1_000_000_000) -> None:
        self._status = status
        self.settings = StoreSettings(size_budget_bytes=budget)

    def status(self) -> StoreStatus:
        return self._status


def _codes(status: StoreStatus, **kwargs: Any) -> list[str]:
    store: Any = _Store(status, kwargs.pop("budget", 1_000_000_000))
    result = store_result(store, kwargs.get("probe"), kwargs.get("free"), NOW)
    return [finding.code for finding in result.findings]


HEALTHY = StoreStatus(
    Path("history.db"),
    open=True,
    journal_mode="wal",
    wal=True,
    writable=True,
    schema_version=LATEST_VERSION,
    last_commit_at=NOW - timedelta(seconds=5),
    quick_check="ok",
)


def test_store_judgement() -> None:
    assert _codes(HEALTHY, free=10**10) == []
    assert _codes(replace(HEALTHY, open=False)) == ["store_not_open"]
    assert _codes(HEALTHY, probe="SQLITE_READONLY") == ["store_not_writable"]
    # The disk: below twice a big budget is low, below 100 MB full.
    assert _codes(HEALTHY, free=3_000_000_000, budget=2_000_000_000) == [
        "store_disk_low"
    ]
    assert _codes(HEALTHY, free=99_000_000) == ["store_disk_full"]
    over = replace(HEALTHY, db_size_bytes=1_050_000, wal_size_bytes=100_000)
    assert _codes(over, budget=1_000_000) == ["store_over_budget"]
    assert _codes(replace(HEALTHY, db_size_bytes=1_050_000), budget=1_000_000) == []
    assert _codes(replace(HEALTHY, spooled=5)) == ["store_spooled"]
    stalled = replace(HEALTHY, queued=10, last_commit_at=NOW - timedelta(minutes=2))
    assert _codes(stalled) == ["store_stalled"]
    assert _codes(replace(HEALTHY, queued=10)) == []
    assert _codes(replace(HEALTHY, schema_version=LATEST_VERSION + 1)) == [
        "store_schema"
    ]


def test_free_bytes_of_a_missing_folder_is_unknown(tmp_path: Path) -> None:
    assert (free_bytes(tmp_path) or 0) > 0
    assert free_bytes(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        ({"source": "hue", "host": "h", "api_key": "k"}, []),
        ({"source": "hue", "host": " ", "api_key": 5, "api_version": 3}, ["host", "api_key", "api_version"]),
        ({"source": "amazon", "login_data": GOOD_LOGIN}, []),
        ({"source": "amazon"}, ["login_data"]),
        (
            {"source": "amazon", "login_data": {"customer_info": {}, "site": 1, "refresh_token": ""}},
            [
                "login_data.customer_info",
                "login_data.website_cookies",
                "login_data.refresh_token",
                "login_data.site",
            ],
        ),
        ({"source": "zigbee"}, ["source"]),
        ({}, ["source"]),
    ],
)  # fmt: skip
def test_entry_data_problems(data: dict[str, Any], problems: list[str]) -> None:
    assert entry_data_problems(data) == problems


@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({}, HealthStatus.OK),
        ({CONF_POLL_INTERVAL: 300}, HealthStatus.OK),
        ({CONF_POLL_INTERVAL: 5}, HealthStatus.DEGRADED),
        ({CONF_POLL_INTERVAL: "300"}, HealthStatus.DEGRADED),
        ({CONF_POLL_INTERVAL: True}, HealthStatus.DEGRADED),
    ],
)
async def test_options_out_of_bounds(
    hass: HomeAssistant, options: dict[str, Any], status: HealthStatus
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={"source": "amazon", "login_data": GOOD_LOGIN},
        options=options,
    )
    result = await async_check_configuration(entry)
    assert HealthStatus.worst(f.status for f in result.findings) is status
    if status is not HealthStatus.OK:
        assert result.figures["option_problems"] == ["poll_interval"]


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (ConfigEntryState.SETUP_RETRY, "entry_not_ready"),
        (ConfigEntryState.NOT_LOADED, "entry_not_loaded"),
        (ConfigEntryState.MIGRATION_ERROR, "entry_failed"),
        (ConfigEntryState.SETUP_IN_PROGRESS, None),
    ],
)
async def test_an_entry_that_is_not_running(
    hass: HomeAssistant, state: ConfigEntryState, code: str | None
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={"source": "hue"}, state=state)
    entry.add_to_hass(hass)
    result = await async_check_source(hass, entry)
    assert [f.code for f in result.findings] == ([code] if code else [])
    assert result.figures == {"state": state.value}


async def test_a_failing_check_is_critical_and_the_others_are_kept(
    hass: HomeAssistant,
) -> None:
    async def broken() -> CheckResult:
        raise RuntimeError("boom")

    async def fine() -> CheckResult:
        finding = Finding("unknown_code", HealthStatus.DEGRADED, {"x": "1"})
        return CheckResult("thing", "e1", (finding,), {"n": 1})

    report = await async_run_checks(
        hass, [("store", None, broken), ("thing", "e1", fine)]
    )
    assert report.status is HealthStatus.CRITICAL
    store, thing = report.components
    assert store.message == "The check failed (RuntimeError)"
    assert store.remediation == "See the log for the error."
    # A code without a translation shows as itself, with no remediation.
    assert thing.message == "unknown_code"
    assert thing.remediation is None
    assert report.for_entry("e1") == [thing]
    assert report.component("nothing") is None
    empty = await async_run_checks(hass, [])
    assert empty.status is HealthStatus.OK
    assert empty.as_dict()["components"] == []
