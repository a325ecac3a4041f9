"""The facade the rest of the integration uses: `HistoryStore`."""

from collections.abc import Iterable, Mapping
from pathlib import Path
import threading
import time
from typing import Any

from ..const import LOGGER
from ..models import DeviceRecord, Reading
from .conditions import Conditions, wall_ms
from .intake import DeviceItem, EventItem, Intake, ReadingsItem
from .reader import HistoryReader
from .settings import StoreSettings
from .status import Counters, StoreStatus
from .writer import BATCH_READINGS, Writer


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
        self._counters = Counters()
        self._intake = Intake(BATCH_READINGS)
        self._writer: Writer | None = None
        self._closed = False
        self._lock = threading.Lock()
        self.reader = HistoryReader(path, self._counters)

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
        until it can be. Raises StoreError for a file from a newer version.
        """
        with self._lock:
            if self._writer is not None:
                return
            writer = Writer(
                Conditions(self._path, self._counters), self._intake, self.settings_now
            )
            writer.start()
            writer.ready.wait()
            if writer.open_error is not None:
                writer.join()
                raise writer.open_error
            self._writer = writer

    def settings_now(self) -> StoreSettings:
        """Return the settings in force (read by the writer on every cycle)."""
        return self._settings

    def enqueue(self, readings: Iterable[Reading]) -> None:
        """Queue readings for the history; never blocks, never touches SQLite."""
        batch = tuple(readings)
        if not batch:
            return
        if self._closed:
            self._counters.readings_dropped += len(batch)
            LOGGER.warning(
                "History store is closed; %d readings not stored", len(batch)
            )
            return
        self._intake.put(ReadingsItem(wall_ms(), batch), len(batch))

    def upsert_device(self, record: DeviceRecord) -> None:
        """Queue a new or changed device record; later readings carry its name."""
        if not self._closed:
            self._intake.put(DeviceItem(record), 0)

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
        return StoreStatus.snapshot(self._path, self._counters, self._intake.waiting)
