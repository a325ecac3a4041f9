"""The checks of the health model: the history store, each entry's source and settings.

Source checks read the coordinators' state (no request is sent: a check must
not cost a rate-limited account a poll); the store check asks the writer
thread for a real write, rolled back, and the operating system for the free
space of the store's folder, both in the executor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
import shutil
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.util import dt as dt_util

from .const import CONF_POLL_INTERVAL, CONF_SOURCE, DOMAIN, SOURCE_AMAZON, SOURCE_HUE
from .health import (
    COMPONENT_CONFIGURATION,
    COMPONENT_STORE,
    Check,
    CheckResult,
    Finding,
    HealthStatus,
    entry_component,
)
from .history import get_store
from .sources import amazon, hue
from .sources.amazon.coordinator import AmazonCoordinator
from .sources.hue.coordinator import HueCoordinator
from .store.schema import LATEST_VERSION

if TYPE_CHECKING:
    from .coordinator import HomeMonitorCoordinator
    from .store import HistoryStore

OK, DEGRADED, CRITICAL = HealthStatus.OK, HealthStatus.DEGRADED, HealthStatus.CRITICAL
MEGABYTE: Final = 1_000_000
# Free space at the store's folder: degraded below the larger of these two ...
DISK_LOW_BYTES: Final = 1_000_000_000
DISK_LOW_BUDGET_FACTOR: Final = 2
# ... critical below this.
DISK_CRITICAL_BYTES: Final = 100_000_000
# The file may pass its budget until the next maintenance pass (every 5 minutes).
BUDGET_SLACK: Final = 1.1
# Readings waiting this long with no commit mean the writer is stuck.
STALL_SECONDS: Final = 60.0
# How long the write probe may wait for the writer thread.
PROBE_TIMEOUT: Final = 10.0

_POLL_LIMITS: Final = {
    SOURCE_HUE: (hue.MIN_POLL_INTERVAL, hue.MAX_POLL_INTERVAL),
    SOURCE_AMAZON: (amazon.MIN_POLL_INTERVAL, amazon.MAX_POLL_INTERVAL),
}


def async_checks(
    hass: HomeAssistant, entry_id: str | None = None
) -> list[tuple[str, str | None, Check]]:
    """Return the checks to run: the store, then each enabled entry's two."""
    checks: list[tuple[str, str | None, Check]] = []
    if entry_id is None:
        checks.append((COMPONENT_STORE, None, partial(async_check_store, hass)))
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry_id not in (None, entry.entry_id) or entry.disabled_by is not None:
            continue
        checks.append(
            (
                COMPONENT_CONFIGURATION,
                entry.entry_id,
                partial(async_check_configuration, entry),
            )
        )
        checks.append(
            (
                entry_component(entry),
                entry.entry_id,
                partial(async_check_source, hass, entry),
            )
        )
    return checks


# -- the history store ---------------------------------------------------------------


def free_bytes(folder: Path) -> int | None:
    """Return the free space of the disk holding `folder` (blocking), None if unknown."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _mb(size: int) -> str:
    return f"{size / MEGABYTE:,.0f}"


async def async_check_store(hass: HomeAssistant) -> CheckResult:
    """Check the shared history store."""
    store = get_store(hass)
    if store is None:
        finding = Finding("store_not_open", CRITICAL)
        return CheckResult(COMPONENT_STORE, None, (finding,), {"open": False})
    probe_error = await hass.async_add_executor_job(store.probe_write, PROBE_TIMEOUT)
    free = await hass.async_add_executor_job(free_bytes, store.path.parent)
    return store_result(store, probe_error, free, dt_util.utcnow())


def store_result(
    store: HistoryStore, probe_error: str | None, free: int | None, now: datetime
) -> CheckResult:
    """Judge the store by its status, the write probe and the free space."""
    status = store.status()
    budget = store.settings.size_budget_bytes
    size = status.db_size_bytes + status.wal_size_bytes
    commit_age = (
        (now - status.last_commit_at).total_seconds()
        if status.last_commit_at is not None
        else None
    )
    moved = [path.name for path in status.moved_aside]
    findings: list[Finding] = []
    if not status.open:
        findings.append(Finding("store_not_open", CRITICAL))
    elif probe_error is not None:
        findings.append(Finding("store_not_writable", CRITICAL, {"error": probe_error}))
    if status.open and not status.wal:
        mode = str(status.journal_mode)
        findings.append(Finding("store_wal_unavailable", DEGRADED, {"mode": mode}))
    if free is not None:
        low = max(DISK_LOW_BYTES, DISK_LOW_BUDGET_FACTOR * budget)
        space = {"free_mb": _mb(free), "low_mb": _mb(low)}
        if free < DISK_CRITICAL_BYTES:
            findings.append(Finding("store_disk_full", CRITICAL, space))
        elif free < low:
            findings.append(Finding("store_disk_low", DEGRADED, space))
    if size > budget * BUDGET_SLACK:
        sizes = {"size_mb": _mb(size), "budget_mb": _mb(budget)}
        findings.append(Finding("store_over_budget", DEGRADED, sizes))
    if status.spooled:
        count = {"count": f"{status.spooled:,}"}
        findings.append(Finding("store_spooled", DEGRADED, count))
    if status.queued and commit_age is not None and commit_age > STALL_SECONDS:
        stalled = {"count": f"{status.queued:,}", "seconds": f"{commit_age:.0f}"}
        findings.append(Finding("store_stalled", DEGRADED, stalled))
    if moved:
        findings.append(Finding("store_moved_aside", DEGRADED, {"file": moved[-1]}))
    if status.schema_version not in (None, LATEST_VERSION):
        versions = {
            "found": str(status.schema_version),
            "supported": str(LATEST_VERSION),
        }
        findings.append(Finding("store_schema", CRITICAL, versions))
    figures: dict[str, Any] = {
        "open": status.open,
        "writable": status.open and probe_error is None,
        "write_error": probe_error,
        "journal_mode": status.journal_mode,
        "wal": status.wal,
        "quick_check": status.quick_check,
        "schema_version": status.schema_version,
        "free_bytes": free,
        "size_bytes": size,
        "size_budget_bytes": budget,
        "readings_queued": status.queued,
        "readings_spooled": status.spooled,
        "readings_at_risk": status.readings_at_risk,
        "readings_written": status.readings_written,
        "last_commit_at": _iso(status.last_commit_at),
        "last_commit_age_s": None if commit_age is None else round(commit_age, 1),
        "moved_aside": moved,
    }
    return CheckResult(COMPONENT_STORE, None, tuple(findings), figures)


# -- an entry's source ---------------------------------------------------------------


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


def _age(when: datetime | None, now: datetime) -> float | None:
    return None if when is None else round((now - when).total_seconds(), 1)


def _credentials_refused(
    hass: HomeAssistant, entry: ConfigEntry, coordinator: HomeMonitorCoordinator | None
) -> bool:
    if any(entry.async_get_active_flows(hass, {SOURCE_REAUTH})):
        return True
    return (
        coordinator is not None
        and not coordinator.last_update_success
        and isinstance(coordinator.last_exception, ConfigEntryAuthFailed)
    )


def _coordinator(entry: ConfigEntry) -> HomeMonitorCoordinator | None:
    """Return the entry's coordinator while it is loaded (or finishing its set-up)."""
    if entry.state is ConfigEntryState.LOADED or (
        entry.state is ConfigEntryState.SETUP_IN_PROGRESS
        and hasattr(entry, "runtime_data")
    ):
        coordinator: HomeMonitorCoordinator = entry.runtime_data.coordinator
        return coordinator
    return None


def _not_loaded(entry: ConfigEntry) -> Finding | None:
    """Return the finding of an entry that is not running, None while it starts."""
    reason = {"state": entry.state.value, "reason": str(entry.reason or "")}
    match entry.state:
        case ConfigEntryState.SETUP_IN_PROGRESS | ConfigEntryState.UNLOAD_IN_PROGRESS:
            return None
        case ConfigEntryState.SETUP_RETRY:
            return Finding("entry_not_ready", DEGRADED, reason)
        case ConfigEntryState.NOT_LOADED:
            return Finding("entry_not_loaded", DEGRADED, reason)
    return Finding("entry_failed", CRITICAL, reason)


async def async_check_source(hass: HomeAssistant, entry: ConfigEntry) -> CheckResult:
    """Check one entry's source: is it answering, and does it accept the credentials."""
    component = entry_component(entry)
    coordinator = _coordinator(entry)
    findings: list[Finding] = []
    figures: dict[str, Any] = {"state": entry.state.value}
    refused = _credentials_refused(hass, entry, coordinator)
    if refused:
        code = "hue_key_rejected" if component == SOURCE_HUE else "amazon_login_expired"
        findings.append(Finding(code, CRITICAL))
    if coordinator is None:
        if not refused and (finding := _not_loaded(entry)) is not None:
            findings.append(finding)
        return CheckResult(component, entry.entry_id, tuple(findings), figures)
    now = dt_util.utcnow()
    retries, failures = coordinator.recent_retries()
    devices = coordinator.data or {}
    figures |= {
        "last_update_success": coordinator.last_update_success,
        "last_success_at": _iso(coordinator.last_success_at),
        "last_success_age_s": _age(coordinator.last_success_at, now),
        "failing_since": _iso(coordinator.failing_since),
        "consecutive_failures": coordinator.consecutive_failures,
        "retries_24h": retries,
        "failures_24h": failures,
        "devices": len(devices),
        "devices_online": sum(1 for device in devices.values() if device.online),
    }
    failing = not coordinator.last_update_success and not refused
    reason = {"reason": coordinator.retry_stats.last_failure or "no answer"}
    if isinstance(coordinator, HueCoordinator):
        figures |= {
            "api_version": coordinator.api_version,
            "stream_connected": coordinator.stream_connected,
            "polling": coordinator.polling and coordinator.api_version == 2,
        }
        if failing:
            since = coordinator.failing_since
            findings.append(Finding("hue_unreachable", DEGRADED, reason, since))
        elif (
            coordinator.api_version == 2
            and not coordinator.stream_connected
            and not refused
        ):
            interval = {"seconds": f"{coordinator.poll_interval.total_seconds():.0f}"}
            findings.append(Finding("hue_stream_down", DEGRADED, interval))
    elif isinstance(coordinator, AmazonCoordinator):
        amazon_findings = _amazon_findings(coordinator, failing, reason, now, figures)
        # An expired login is the one thing to fix; a throttle before it is moot.
        findings += [] if refused else amazon_findings
    return CheckResult(component, entry.entry_id, tuple(findings), figures)


def _amazon_findings(
    coordinator: AmazonCoordinator,
    failing: bool,
    reason: Mapping[str, str],
    now: datetime,
    figures: dict[str, Any],
) -> list[Finding]:
    known = len(coordinator.monitors)
    reporting = sum(1 for device in (coordinator.data or {}).values() if device.online)
    until = coordinator.rate_limited_until
    wait = 0.0 if until is None else max(0.0, (until - now).total_seconds())
    figures |= {
        "monitors_known": known,
        "monitors_reporting": reporting,
        "rate_limited": wait > 0,
        "rate_limited_for_s": round(wait, 1),
    }
    findings: list[Finding] = []
    if wait > 0:
        seconds = {"seconds": f"{wait:.0f}"}
        findings.append(Finding("amazon_rate_limited", DEGRADED, seconds))
    elif failing:
        since = coordinator.failing_since
        findings.append(Finding("amazon_unreachable", DEGRADED, reason, since))
    elif reporting < known:
        counts = {"reporting": str(reporting), "known": str(known)}
        findings.append(Finding("amazon_monitors_missing", DEGRADED, counts))
    return findings


# -- an entry's configuration ----------------------------------------------------------


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def entry_data_problems(data: Mapping[str, Any]) -> list[str]:
    """Return the fields of an entry's data that are missing or of the wrong type."""
    source = data.get(CONF_SOURCE)
    if source == SOURCE_HUE:
        problems = [
            key for key in (CONF_HOST, CONF_API_KEY) if not _text(data.get(key))
        ]
        if data.get(hue.CONF_API_VERSION, 2) not in (1, 2):
            problems.append(hue.CONF_API_VERSION)
        return problems
    if source == SOURCE_AMAZON:
        login = data.get(amazon.CONF_LOGIN_DATA)
        if not isinstance(login, Mapping):
            return [amazon.CONF_LOGIN_DATA]
        customer = login.get("customer_info")
        problems = []
        if not isinstance(customer, Mapping) or not _text(customer.get("user_id")):
            problems.append(f"{amazon.CONF_LOGIN_DATA}.customer_info")
        if not isinstance(login.get("website_cookies"), Mapping):
            problems.append(f"{amazon.CONF_LOGIN_DATA}.website_cookies")
        for key in ("refresh_token", "site"):
            if key in login and not _text(login[key]):
                problems.append(f"{amazon.CONF_LOGIN_DATA}.{key}")
        return problems
    return [CONF_SOURCE]


def option_problems(entry: ConfigEntry) -> list[str]:
    """Return the options that are outside their bounds."""
    limits = _POLL_LIMITS.get(entry.data.get(CONF_SOURCE, ""))
    interval = entry.options.get(CONF_POLL_INTERVAL)
    if limits is None or interval is None:
        return []
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        return [CONF_POLL_INTERVAL]
    low, high = limits
    return [] if low <= interval <= high else [CONF_POLL_INTERVAL]


def check_entry_data(entry: ConfigEntry) -> None:
    """Refuse to set up an entry whose data is incomplete (translated error)."""
    if problems := entry_data_problems(entry.data):
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="entry_data_invalid",
            translation_placeholders={"fields": ", ".join(problems)},
        )


async def async_check_configuration(entry: ConfigEntry) -> CheckResult:
    """Check that an entry's data is complete and its options within bounds."""
    findings: list[Finding] = []
    data = entry_data_problems(entry.data)
    options = option_problems(entry)
    if data:
        fields = {"fields": ", ".join(data)}
        findings.append(Finding("config_invalid", CRITICAL, fields))
    if options:
        fields = {"fields": ", ".join(options)}
        findings.append(Finding("options_out_of_range", DEGRADED, fields))
    figures = {"data_problems": data, "option_problems": options}
    return CheckResult(
        COMPONENT_CONFIGURATION, entry.entry_id, tuple(findings), figures
    )
