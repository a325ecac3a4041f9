"""History store facade (interim in-memory version; the SQLite store replaces it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
import threading
from typing import Any

from ..models import DeviceRecord, Reading


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """How much history to keep."""

    retention_days: int | None = None
    size_budget_bytes: int = 1_000_000_000
    spool_max_readings: int = 1_000_000


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """A snapshot of the store's state."""

    path: str
    open: bool
    queued: int


class HistoryStore:
    """Keeps readings in memory."""

    def __init__(self, path: Path, settings: StoreSettings) -> None:
        """Remember where the store lives."""
        self.path = path
        self.settings = settings
        self.readings: dict[tuple[str, str, float], Reading] = {}
        self.devices: dict[str, DeviceRecord] = {}
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.is_open = False
        self._lock = threading.Lock()

    def open(self) -> None:
        """Open the store."""
        self.is_open = True

    def enqueue(self, readings: Iterable[Reading]) -> None:
        """Keep readings, once per (device, metric, time)."""
        with self._lock:
            for reading in readings:
                key = (
                    reading.device_key,
                    str(reading.metric),
                    reading.measured_at.timestamp(),
                )
                self.readings.setdefault(key, reading)

    def upsert_device(self, record: DeviceRecord) -> None:
        """Keep a device record."""
        with self._lock:
            self.devices[record.device_key] = record

    def record_event(self, kind: str, source: str, detail: Mapping[str, Any]) -> None:
        """Keep an event."""
        with self._lock:
            self.events.append((kind, source, dict(detail)))

    def flush(self, timeout: float) -> bool:
        """Nothing is ever pending."""
        return True

    def close(self, timeout: float) -> None:
        """Close the store."""
        self.is_open = False

    def status(self) -> StoreStatus:
        """Return a snapshot of the store's state."""
        return StoreStatus(str(self.path), self.is_open, 0)

    def apply_settings(self, settings: StoreSettings) -> None:
        """Use new settings."""
        self.settings = settings
