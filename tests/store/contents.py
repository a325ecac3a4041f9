"""What a store holds, for tests of the code that feeds it.

Each helper first waits for everything queued to be committed, then reads on
a worker thread, so no SQLite call runs on the caller's (event-loop) thread.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from custom_components.home_monitor.models import Metric, Reading
from custom_components.home_monitor.store import HistoryStore, StoredDevice

_ALL = 10_000_000


def _off_thread[T](store: HistoryStore, read: Callable[[], T]) -> T:
    def flushed() -> T:
        assert store.flush(10), "the store did not commit what was queued"
        return read()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(flushed).result()


def stored_readings(store: HistoryStore) -> list[Reading]:
    """Return every stored reading, oldest first, as the Reading handed in."""
    rows = _off_thread(store, lambda: store.reader.readings(limit=_ALL))
    return [
        Reading(
            row.device_key, Metric(row.metric), row.value, row.unit, row.measured_at
        )
        for row in rows
    ]


def stored_events(store: HistoryStore) -> list[tuple[str, str, dict[str, Any]]]:
    """Return every stored event as (kind, source, detail), oldest first."""
    events = _off_thread(store, lambda: store.reader.events(limit=_ALL))
    return [(event.kind, event.source, event.detail) for event in reversed(events)]


def stored_devices(store: HistoryStore) -> dict[str, StoredDevice]:
    """Return the devices table by device key."""
    devices = _off_thread(store, store.reader.devices)
    return {device.device_key: device for device in devices}
