"""Repair issues raised from the health model, and the flows that fix them.

Each repair stands for a finding of the health report (`REPAIRS`): it is
raised once the condition has lasted its grace period, so a blip raises none,
and deleted by the first report without it. Repairs of an entry carry the
entry id in their issue id; the store's are one per Home Assistant. Fixing an
expired Amazon login or a rejected Hue app key continues into the entry's
reauth flow (signing in, or re-linking with the link button).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.components.repairs.const import FlowType
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .sources.amazon import ISSUE_LOGIN_EXPIRED

if TYPE_CHECKING:
    from .health import ComponentHealth, Finding, HealthReport

ISSUE_HUE_KEY_REJECTED: Final = "hue_key_rejected"


@dataclass(frozen=True, slots=True)
class RepairSpec:
    """How a finding becomes a repair issue."""

    issue: str
    severity: ir.IssueSeverity
    grace: timedelta = timedelta(0)
    fixable: bool = False
    # The placeholder that names the entry in an entry's issue.
    title: str = "name"


_WARNING, _ERROR = ir.IssueSeverity.WARNING, ir.IssueSeverity.ERROR
# Finding code -> repair. Several findings may share one issue (disk low or full).
REPAIRS: Final[dict[str, RepairSpec]] = {
    "store_not_writable": RepairSpec(
        "store_not_writable", _ERROR, timedelta(minutes=2)
    ),
    "store_disk_low": RepairSpec("store_disk_full", _WARNING, timedelta(minutes=5)),
    "store_disk_full": RepairSpec("store_disk_full", _ERROR, timedelta(minutes=5)),
    "store_wal_unavailable": RepairSpec("store_wal_unavailable", _WARNING),
    "store_moved_aside": RepairSpec("store_moved_aside", _WARNING),
    "store_spooled": RepairSpec("store_spooled", _WARNING, timedelta(minutes=5)),
    "hue_unreachable": RepairSpec("hue_unreachable", _WARNING, timedelta(minutes=30)),
    "hue_key_rejected": RepairSpec(ISSUE_HUE_KEY_REJECTED, _ERROR, fixable=True),
    "amazon_login_expired": RepairSpec(
        ISSUE_LOGIN_EXPIRED, _ERROR, fixable=True, title="account"
    ),
}
_ISSUES: Final = frozenset(spec.issue for spec in REPAIRS.values())


def issue_id(issue: str, entry_id: str | None) -> str:
    """Return the issue id of a repair: `issue`, or `<issue>_<entry id>` for an entry."""
    return issue if entry_id is None else f"{issue}_{entry_id}"


def _is_ours(issue_id_: str) -> bool:
    return any(issue_id_ == key or issue_id_.startswith(f"{key}_") for key in _ISSUES)


class RepairTracker:
    """Raises and clears the health model's repair issues, with their grace periods."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Track the issues of `hass`."""
        self.hass = hass
        self._first_seen: dict[str, datetime] = {}

    @callback
    def async_sync(self, report: HealthReport, extra: Mapping[str, str]) -> None:
        """Raise the repairs the report calls for, delete those it no longer does.

        `extra` holds placeholders every issue may use (the history file's path).
        """
        now = report.checked_at
        wanted: dict[str, tuple[RepairSpec, ComponentHealth, Finding]] = {}
        seen: set[str] = set()
        for component in report.components:
            for finding in component.findings:
                if (spec := REPAIRS.get(finding.code)) is None:
                    continue
                key = issue_id(spec.issue, component.entry)
                if key in wanted:
                    continue  # the worse finding of a shared issue came first
                seen.add(key)
                start = finding.since or self._first_seen.setdefault(key, now)
                if now - start >= spec.grace:
                    wanted[key] = (spec, component, finding)
        self._first_seen = {k: v for k, v in self._first_seen.items() if k in seen}
        registry = ir.async_get(self.hass)
        for key, (spec, component, finding) in wanted.items():
            self._async_raise(
                registry,
                key,
                spec=spec,
                component=component,
                finding=finding,
                extra=extra,
            )
        for (domain, key), _ in list(registry.issues.items()):
            if domain == DOMAIN and _is_ours(key) and key not in wanted:
                ir.async_delete_issue(self.hass, DOMAIN, key)

    def _async_raise(
        self,
        registry: ir.IssueRegistry,
        key: str,
        *,
        spec: RepairSpec,
        component: ComponentHealth,
        finding: Finding,
        extra: Mapping[str, str],
    ) -> None:
        placeholders = dict(finding.placeholders)
        data: dict[str, str | int | float | None] | None = None
        if component.entry is None:
            placeholders |= extra
        else:
            entry = self.hass.config_entries.async_get_entry(component.entry)
            placeholders[spec.title] = entry.title if entry is not None else ""
            data = {"entry_id": component.entry}
        existing = registry.async_get_issue(DOMAIN, key)
        if (
            existing is not None
            and existing.severity == spec.severity
            and existing.translation_placeholders == placeholders
        ):
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            key,
            data=data,
            is_fixable=spec.fixable,
            is_persistent=False,
            severity=spec.severity,
            translation_key=spec.issue,
            translation_placeholders=placeholders,
        )

    @callback
    def async_clear(self, entry_id: str | None = None) -> None:
        """Delete the repairs of one entry, or all of them."""
        registry = ir.async_get(self.hass)
        for domain, key in list(registry.issues):
            if domain != DOMAIN or not _is_ours(key):
                continue
            if entry_id is None or key.endswith(f"_{entry_id}"):
                ir.async_delete_issue(self.hass, DOMAIN, key)
                self._first_seen.pop(key, None)


async def _async_reauth_flow_id(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return the entry's reauth flow, starting one if none is in progress."""
    for flow in entry.async_get_active_flows(hass, {SOURCE_REAUTH}):
        return flow["flow_id"]
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={
            "source": SOURCE_REAUTH,
            "entry_id": entry.entry_id,
            "title_placeholders": {"name": entry.title},
            "unique_id": entry.unique_id,
        },
        data=dict(entry.data),
    )
    return result["flow_id"]


class ReauthRepairFlow(RepairsFlow):
    """Confirm, then go on to the entry's reauth flow (sign in, or re-link)."""

    def __init__(self, entry_id: str, title: str) -> None:
        """Fix the credentials of the entry `entry_id`, named by placeholder `title`."""
        self._entry_id = entry_id
        self._title = title

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> Any:
        """Show the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> Any:
        """Start (or continue) the reauth once the user confirms."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        if user_input is None:
            return self.async_show_form(
                step_id="confirm",
                description_placeholders={self._title: entry.title},
            )
        flow_id = await _async_reauth_flow_id(self.hass, entry)
        return self.async_create_entry(
            data={}, next_flow=(FlowType.CONFIG_FLOW, flow_id)
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Return the flow that fixes `issue_id`."""
    for key in (ISSUE_LOGIN_EXPIRED, ISSUE_HUE_KEY_REJECTED):
        spec = next(spec for spec in REPAIRS.values() if spec.issue == key)
        if issue_id.startswith(key) and data and "entry_id" in data:
            return ReauthRepairFlow(str(data["entry_id"]), spec.title)
    return ConfirmRepairFlow()
