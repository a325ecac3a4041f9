"""Samples of the integration's condition: health, repair issues, the store's file sizes.

Taken each simulated hour, before each fault starts and before it ends. Health comes from
the integration's own health model (`health.async_health_report`) when it has one; repair
issues from Home Assistant's issue registry; sizes from the files themselves.
"""

from __future__ import annotations

from datetime import datetime
import importlib
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.home_monitor.history import get_store

from .observe import LogTally

DOMAIN = "home_monitor"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def health_module() -> Any | None:
    """Return the integration's health module, if it has one."""
    try:
        return importlib.import_module("custom_components.home_monitor.health")
    except ImportError:
        return None


class Sampler:
    """Collects samples for the checks."""

    def __init__(self, hass: HomeAssistant, db: Path, tally: LogTally) -> None:
        """Sample `hass` and the history file `db`."""
        self.hass = hass
        self.db = db
        self.tally = tally
        self.health = health_module()
        self.samples: list[dict[str, Any]] = []
        self.memory: list[dict[str, Any]] = []

    async def sample(self, label: str, when: datetime) -> dict[str, Any]:
        """Take one sample."""
        store = get_store(self.hass)
        status = store.status() if store is not None else None
        sample: dict[str, Any] = {
            "at": when.isoformat(),
            "label": label,
            "db": _size(self.db),
            "wal": _size(Path(f"{self.db}-wal")),
            "repairs": sorted(
                issue_id
                for (domain, issue_id), issue in ir.async_get(self.hass).issues.items()
                if domain == DOMAIN and issue.active
            ),
            "log_lines": sum(self.tally.lines.values()),
        }
        if status is not None:
            sample.update(
                queued=status.queued,
                spooled=status.spooled,
                written=status.readings_written,
                lock_retries=status.lock_retries,
                budget=store.settings.size_budget_bytes
                if hasattr(store, "settings")
                else None,
            )
        if self.health is not None:
            report = await self.health.async_health_report(self.hass)
            sample["health"] = str(getattr(report.status, "value", report.status))
            sample["components"] = [
                _component(component) for component in report.components
            ]
        self.samples.append(sample)
        return sample

    def as_json(self) -> dict[str, Any]:
        """Return every sample."""
        return {"samples": self.samples, "memory": self.memory}


def _component(component: Any) -> list[str]:
    """Return (component, entry, status, message) of one health component."""
    get = (
        component.get
        if isinstance(component, dict)
        else lambda k: getattr(component, k, None)
    )
    status = get("status")
    return [
        str(get("component")),
        str(get("entry") or ""),
        str(getattr(status, "value", status)),
        str(get("message") or "")[:120],
    ]
