"""One health model of Home Monitor: its components, their status, and the report.

Every surface is built from the same `HealthReport`: the diagnostic entities,
the repair issues, the `home_monitor.health_check` action and diagnostics.
`async_health_report` runs every component check concurrently under a hard
budget (`CHECK_BUDGET`); a check that overruns is reported `critical` with the
message "timed out" and never holds up the others. Each check returns
findings: a code (its translation key, `health_<code>` for the message and
`health_<code>_fix` for the remediation among the exception translations), a
status and placeholders, and the figures it judged by. Nothing in a report
holds a credential, a host or a personal identifier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import time
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER, vol

# The whole report is answered within this many seconds, whatever a check does.
CHECK_BUDGET: Final = 15.0
SERVICE_HEALTH_CHECK: Final = "health_check"
ATTR_ENTRY_ID: Final = "entry_id"
HEALTH_CHECK_SCHEMA = vol.Schema({vol.Optional(ATTR_ENTRY_ID): object})

# Components of a report.
COMPONENT_STORE: Final = "store"
COMPONENT_CONFIGURATION: Final = "configuration"


class HealthStatus(StrEnum):
    """How well a component (or all of Home Monitor) works."""

    OK = "ok"
    DEGRADED = "degraded"
    CRITICAL = "critical"

    @property
    def exit_code(self) -> int:
        """Return the collector's exit code: 0 ok, 1 degraded, 2 critical."""
        return _ORDER.index(self)

    @classmethod
    def worst(cls, statuses: Iterable[HealthStatus]) -> HealthStatus:
        """Return the worst of `statuses` (ok when there are none)."""
        return max(statuses, key=_ORDER.index, default=cls.OK)


_ORDER: Final = (HealthStatus.OK, HealthStatus.DEGRADED, HealthStatus.CRITICAL)


@dataclass(frozen=True, slots=True)
class Finding:
    """One condition a check found: `code` names its message and remediation.

    `since` is when the condition started, if the check knows (repairs wait a
    grace period from then).
    """

    code: str
    status: HealthStatus
    placeholders: Mapping[str, str] = field(default_factory=dict)
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What a check returns: its findings (none when all is well) and figures."""

    component: str
    entry: str | None
    findings: tuple[Finding, ...] = ()
    figures: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """The health of one component: the store, or a source or configuration of an entry."""

    component: str
    entry: str | None
    status: HealthStatus
    message: str
    remediation: str | None
    figures: dict[str, Any]
    findings: tuple[Finding, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the component as the action answers it."""
        return {
            "component": self.component,
            "entry": self.entry,
            "status": str(self.status),
            "message": self.message,
            "remediation": self.remediation,
            "figures": self.figures,
        }


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The result of one run of every check."""

    status: HealthStatus
    duration_s: float
    components: list[ComponentHealth]
    checked_at: datetime

    @property
    def exit_code(self) -> int:
        """Return 0 (ok), 1 (degraded) or 2 (critical)."""
        return self.status.exit_code

    def for_entry(self, entry_id: str) -> list[ComponentHealth]:
        """Return the components of one entry."""
        return [c for c in self.components if c.entry == entry_id]

    def component(self, name: str, entry: str | None = None) -> ComponentHealth | None:
        """Return one component, or None when the report has no such component."""
        for item in self.components:
            if item.component == name and item.entry == entry:
                return item
        return None

    def as_dict(self) -> dict[str, Any]:
        """Return the report as `home_monitor.health_check` answers it."""
        return {
            "status": str(self.status),
            "exit_code": self.exit_code,
            "duration_s": self.duration_s,
            "components": [component.as_dict() for component in self.components],
        }


type Check = Callable[[], Coroutine[Any, Any, CheckResult]]


class _Texts:
    """The translated messages and remediations of findings."""

    def __init__(self, translations: Mapping[str, str]) -> None:
        self._translations = translations

    def text(self, key: str, placeholders: Mapping[str, str]) -> str | None:
        template = self._translations.get(
            f"component.{DOMAIN}.exceptions.health_{key}.message"
        )
        if template is None:
            return None
        try:
            return template.format(**placeholders)
        except KeyError, IndexError, ValueError:
            return template

    def component(self, result: CheckResult) -> ComponentHealth:
        findings = tuple(
            sorted(result.findings, key=lambda f: _ORDER.index(f.status), reverse=True)
        )
        status = HealthStatus.worst(finding.status for finding in findings)
        if not findings:
            message = self.text(f"{result.component}_ok", {}) or "OK"
            remediation = None
        else:
            message = "; ".join(
                self.text(f.code, f.placeholders) or f.code for f in findings
            )
            fixes = [self.text(f"{f.code}_fix", f.placeholders) for f in findings]
            remediation = " ".join(dict.fromkeys(fix for fix in fixes if fix)) or None
        return ComponentHealth(
            result.component,
            result.entry,
            status,
            message,
            remediation,
            dict(result.figures),
            findings,
        )

    def timed_out(self, component: str, entry: str | None) -> ComponentHealth:
        finding = Finding(
            "timed_out", HealthStatus.CRITICAL, {"seconds": f"{CHECK_BUDGET:.0f}"}
        )
        return self.component(CheckResult(component, entry, (finding,)))

    def failed(
        self, component: str, entry: str | None, err: BaseException
    ) -> ComponentHealth:
        finding = Finding(
            "check_failed", HealthStatus.CRITICAL, {"error": type(err).__name__}
        )
        return self.component(CheckResult(component, entry, (finding,)))


async def async_run_checks(
    hass: HomeAssistant,
    checks: list[tuple[str, str | None, Check]],
    budget: float = CHECK_BUDGET,
) -> HealthReport:
    """Run `checks` concurrently; whatever is not done within `budget` is critical."""
    started = time.monotonic()
    checked_at = dt_util.utcnow()
    texts = _Texts(
        await async_get_translations(hass, hass.config.language, "exceptions", [DOMAIN])
    )
    tasks = [
        hass.async_create_task(
            check(), f"{DOMAIN} health {component}", eager_start=True
        )
        for component, _, check in checks
    ]
    remaining = max(0.0, budget - (time.monotonic() - started))
    if tasks:
        await asyncio.wait(tasks, timeout=remaining)
    components: list[ComponentHealth] = []
    for (component, entry, _), task in zip(checks, tasks, strict=True):
        if not task.done():
            task.cancel()
            components.append(texts.timed_out(component, entry))
        elif (err := task.exception()) is not None:
            LOGGER.debug("Health check of %s failed", component, exc_info=err)
            components.append(texts.failed(component, entry, err))
        else:
            components.append(texts.component(task.result()))
    return HealthReport(
        HealthStatus.worst(component.status for component in components),
        round(time.monotonic() - started, 3),
        components,
        checked_at,
    )


async def async_health_report(
    hass: HomeAssistant, entry_id: str | None = None
) -> HealthReport:
    """Check the store and every entry (or only the entry `entry_id`) now."""
    from .health_checks import async_checks  # noqa: PLC0415 - they import this module

    return await async_run_checks(hass, async_checks(hass, entry_id))


async def _async_health_check(call: ServiceCall) -> ServiceResponse:
    """Answer `home_monitor.health_check` with a fresh report."""
    hass = call.hass
    entry_id = call.data.get(ATTR_ENTRY_ID)
    if entry_id is not None:
        entry = (
            hass.config_entries.async_get_entry(entry_id)
            if isinstance(entry_id, str)
            else None
        )
        if entry is None or entry.domain != DOMAIN:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_entry",
                translation_placeholders={"entry_id": str(entry_id)[:100]},
            )
    report = await async_health_report(hass, entry_id)
    return report.as_dict()


def async_setup_health_service(hass: HomeAssistant) -> None:
    """Register `home_monitor.health_check` (response only)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_HEALTH_CHECK,
        _async_health_check,
        schema=HEALTH_CHECK_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


def entry_component(entry: ConfigEntry) -> str:
    """Return the component name of an entry's source ("hue", "amazon")."""
    return str(entry.data.get("source", "unknown"))
