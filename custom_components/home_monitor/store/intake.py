"""The hand-over from producers (any thread, the event loop included) to the writer.

Producers append under a lock held for a few instructions and never wait for
SQLite. The writer swaps the whole list out in one step and commits it as a
batch.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
import threading
import time
from typing import Any

from ..models import DeviceRecord, Reading


@dataclass(frozen=True, slots=True)
class ReadingsItem:
    """Readings handed over in one call; `received_ms` is when."""

    received_ms: int
    readings: tuple[Reading, ...]


@dataclass(frozen=True, slots=True)
class DeviceItem:
    """A device to create or update."""

    record: DeviceRecord


@dataclass(frozen=True, slots=True)
class EventItem:
    """A row for the events table."""

    at_ms: int
    kind: str
    source: str
    detail: Mapping[str, Any]


type Item = ReadingsItem | DeviceItem | EventItem


@dataclass(slots=True)
class Waiter:
    """A `flush()` call waiting for the items queued before it."""

    target: int
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


class Intake:
    """Thread-safe list of items waiting for the writer."""

    def __init__(self, batch_readings: int) -> None:
        """Wake the writer at once when `batch_readings` readings wait."""
        self._lock = threading.Lock()
        self._items: list[Item] = []
        self._waiters: list[Waiter] = []
        self._batch_readings = batch_readings
        self._since: float | None = None
        self._urgent = False
        self._maintenance: list[Waiter] = []
        self.waiting = 0
        self.seq = 0
        self.wake = threading.Event()

    def put(self, item: Item, readings: int) -> None:
        """Queue one item holding `readings` readings."""
        with self._lock:
            self._items.append(item)
            self.waiting += readings
            self.seq += 1
            first = self._since is None
            if first:
                self._since = time.monotonic()
            wake = first or self.waiting >= self._batch_readings
        if wake and not self.wake.is_set():
            self.wake.set()

    def add_waiter(self) -> Waiter:
        """Register a wait for everything queued so far; the writer hurries."""
        with self._lock:
            waiter = Waiter(self.seq)
            self._waiters.append(waiter)
            self._urgent = True
        self.wake.set()
        return waiter

    def hurry(self) -> None:
        """Ask the writer to write what waits now, without lingering."""
        with self._lock:
            self._urgent = True
        self.wake.set()

    @property
    def urgent(self) -> bool:
        """Return whether a flush or stop asked the writer to hurry."""
        return self._urgent

    def request_maintenance(self) -> Waiter:
        """Ask the writer for a maintenance pass now, after what is queued."""
        with self._lock:
            waiter = Waiter(0)
            self._maintenance.append(waiter)
            self._urgent = True
        self.wake.set()
        return waiter

    def maintenance_requests(self) -> list[Waiter]:
        """Return the pending maintenance requests (the writer resolves them)."""
        with self._lock:
            return list(self._maintenance)

    def resolve_maintenance(self, ok: bool) -> None:
        """Release every maintenance request."""
        with self._lock:
            waiters, self._maintenance = self._maintenance, []
        for waiter in waiters:
            waiter.ok = ok
            waiter.done.set()

    def due_in(self, now: float, linger: float) -> float | None:
        """Return seconds until a batch is due, 0 if now, None if nothing waits."""
        with self._lock:
            if self._urgent:
                return 0.0
            if self._since is None:
                return None
            if self.waiting >= self._batch_readings:
                return 0.0
            return max(0.0, self._since + linger - now)

    def take(self) -> tuple[list[Item], int, int]:
        """Remove and return every waiting item, its reading count and the last seq."""
        with self._lock:
            items, self._items = self._items, []
            readings, self.waiting = self.waiting, 0
            self._since = None
            self._urgent = False
            return items, readings, self.seq

    def resolve(self, handled_seq: int, ok: bool) -> None:
        """Release the waiters whose items have all been handled."""
        with self._lock:
            ready = [w for w in self._waiters if w.target <= handled_seq]
            self._waiters = [w for w in self._waiters if w.target > handled_seq]
        for waiter in ready:
            waiter.ok = ok
            waiter.done.set()

    def release_all(self) -> None:
        """Release every waiter as failed (the writer has stopped)."""
        with self._lock:
            waiters, self._waiters = self._waiters, []
            waiters += self._maintenance
            self._maintenance = []
        for waiter in waiters:
            waiter.done.set()
