"""The facade the rest of the integration uses, and the hand-over to the writer.

`HistoryStore` takes readings from any thread, the event loop included: they
go into the `Intake`, a list appended to under a lock held for a few
instructions, which the writer thread swaps out in one step and commits as a
batch. Producers never wait for SQLite.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
import threading
import time
from typing import Any

from ..const import LOGGER
from ..models import DeviceRecord, Reading
from .database import wall_ms
from .downsample import DEFAULT_BUCKETS, Bucket, SeriesInfo, downsample, list_series
from .lifecycle import DeviceLifecycle, Presence, Rename, Ticket
from .reader import HistoryReader
from .records import (
    DeviceItem,
    EventItem,
    Item,
    ReadingsItem,
    StoreSettings,
    StoreStatus,
)
from .writer import BATCH_READINGS, Writer


@dataclass(slots=True)
class Waiter:
    """A `flush()` call waiting for the items queued before it."""

    target: int
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False
    error: str | None = None


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
        self._probes: list[Waiter] = []
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

    def request_probe(self) -> Waiter:
        """Ask the writer to try a write and roll it back."""
        with self._lock:
            waiter = Waiter(0)
            self._probes.append(waiter)
        self.wake.set()
        return waiter

    def answer_probes(self, probe: Callable[[], str | None]) -> None:
        """Run one write probe for every request waiting (on the writer thread)."""
        with self._lock:
            waiters, self._probes = self._probes, []
        if waiters:
            error = probe()
            for waiter in waiters:
                waiter.ok, waiter.error = error is None, error
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
            waiters += self._maintenance + self._probes
            self._maintenance, self._probes = [], []
        for waiter in waiters:
            waiter.done.set()


class HistoryStore:
    """The durable history of every reading, in one SQLite file.

    `enqueue`, `upsert_device`, `record_event`, `status` and `apply_settings`
    may be called from any thread, the event loop included: they never wait
    for the disk. `open`, `flush`, `close`, `maintain` and the `reader`'s
    queries block and belong in an executor.
    """

    def __init__(self, path: Path, settings: StoreSettings) -> None:
        """Prepare a store for the file at `path`; no I/O happens here."""
        self._path = path
        self._settings = settings
        self._status = StoreStatus(path)
        self._intake = Intake(BATCH_READINGS)
        self._writer: Writer | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._lifecycle = DeviceLifecycle(self._status)
        self.reader = HistoryReader(path, self._status)

    @property
    def path(self) -> Path:
        """Return the path of the history file."""
        return self._path

    @property
    def settings(self) -> StoreSettings:
        """Return the settings in force."""
        return self._settings

    def open(self) -> None:
        """Open or create the file and start the writer (blocking).

        A file that cannot be written is not an error: readings are spooled
        until it can be. A damaged file is moved aside and what can be read
        of it salvaged into a new one first, on the writer thread, which can
        take seconds for a large file. Raises StoreError for a file from a
        newer version.
        """
        with self._lock:
            if self._writer is not None:
                return
            writer = Writer(
                self._path,
                self._status,
                self._intake,
                lambda: self._settings,
                self._lifecycle,
            )
            writer.start()
            writer.ready.wait()
            if writer.open_error is not None:
                writer.join()
                raise writer.open_error
            self._writer = writer

    def enqueue(self, readings: Iterable[Reading]) -> None:
        """Queue readings for the history; never blocks, never touches SQLite."""
        batch = tuple(readings)
        if not batch:
            return
        if self._closed:
            self._status.readings_dropped += len(batch)
            LOGGER.warning(
                "History store is closed; %d readings not stored", len(batch)
            )
            return
        self._intake.put(ReadingsItem(wall_ms(), batch), len(batch))

    def upsert_device(self, record: DeviceRecord) -> None:
        """Queue a new or changed device record; later readings carry its name."""
        if not self._closed:
            self._intake.put(DeviceItem(record), 0)
            self._lifecycle.devices_changed(self._intake.seq)

    def rename_device(
        self,
        device_key: str,
        name: str,
        location: str | None,
        *,
        rewrite: bool = False,
        total: int = 0,
    ) -> Ticket:
        """Queue a rename; with `rewrite` every past reading takes the new labels.

        Never blocks. The ticket is done once the name is stored, or with
        `rewrite` once every reading has been relabelled (`total` is about
        how many there are, for the progress figure). A rewrite under way when
        the store closes goes on at the next open.
        """
        return self._lifecycle_request(
            Rename(device_key, name, location, rewrite, total)
        )

    def mark_removed(self, device_key: str, removed: bool = True) -> Ticket:
        """Queue a mark that the device left Home Assistant (or came back); never blocks."""
        return self._lifecycle_request(Presence(device_key, removed))

    def _lifecycle_request(self, request: Rename | Presence) -> Ticket:
        if self._closed:
            ticket = Ticket()
            ticket.finish(ok=False)
            return ticket
        ticket = self._lifecycle.submit(request)
        self._intake.wake.set()
        return ticket

    def record_event(self, kind: str, source: str, detail: Mapping[str, Any]) -> None:
        """Queue a row for the events table (retries, health transitions...)."""
        if not self._closed:
            self._intake.put(EventItem(wall_ms(), kind, source, dict(detail)), 0)

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far is committed (blocking).

        Returns False on timeout, or when some of it had to be spooled because
        the database refused it.
        """
        if self._writer is None or not self._writer.is_alive():
            return self._intake.seq == 0
        waiter = self._intake.add_waiter()
        return waiter.done.wait(timeout) and waiter.ok

    def probe_write(self, timeout: float) -> str | None:
        """Have the writer thread write a row and roll it back (blocking).

        Returns None when the file took the write, else why it did not.
        """
        if self._writer is None or not self._writer.is_alive():
            return "the history writer is not running"
        waiter = self._intake.request_probe()
        if not waiter.done.wait(timeout):
            return f"the history writer did not answer within {timeout:.0f} s"
        return waiter.error or (None if waiter.ok else "the history writer stopped")

    def maintain(self, timeout: float) -> bool:
        """Run retention, size budget and events bounds now (blocking)."""
        if self._writer is None or not self._writer.is_alive():
            return False
        waiter = self._intake.request_maintenance()
        return waiter.done.wait(timeout) and waiter.ok

    def close(self, timeout: float) -> None:
        """Write what is queued, stop the writer, save an unwritable spool (blocking)."""
        with self._lock:
            self._closed = True
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop(time.monotonic() + timeout)
            writer.join(timeout)
            if writer.is_alive():
                LOGGER.error("History writer did not stop within %.0f s", timeout)
        self.reader.close()

    def apply_settings(self, settings: StoreSettings) -> None:
        """Use new settings from now on; bounds are enforced soon after."""
        self._settings = settings
        if self._writer is not None:
            self._intake.request_maintenance()

    def status(self) -> StoreStatus:
        """Return a snapshot of the store's condition (no SQLite call)."""
        return self._status.snapshot(self._intake.waiting)

    def downsample(
        self,
        series: Sequence[tuple[str, str]],
        start: datetime,
        end: datetime,
        buckets: int = DEFAULT_BUCKETS,
    ) -> dict[tuple[str, str], list[Bucket]]:
        """Return at most `buckets` buckets (min, mean, max, count) per series (blocking).

        Keys are (device key, metric); buckets are in time order, empty ones
        left out. Runs on the reader's connection; raises HistoryReadError.
        """
        return self.reader.run(
            lambda conn: downsample(conn, series, start, end, buckets)
        )

    def list_series(self) -> list[SeriesInfo]:
        """Return every series holding readings, with current names (blocking)."""
        return self.reader.run(list_series)
