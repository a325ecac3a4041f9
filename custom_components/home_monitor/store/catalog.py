"""Small integer ids for devices, metrics and labels, cached for the writer.

Only the writer thread uses a catalog. Ids created inside a transaction that
rolls back are forgotten with `forget_ids()`; device records noted but not yet
committed stay `dirty` until `committed()`.
"""

import sqlite3

from ..models import DeviceRecord, Reading

type LabelKey = tuple[str, str, str, str]

_UPSERT_DEVICE = """
INSERT INTO devices (device_key, source, name, model, manufacturer, location,
                     first_seen, last_seen, active)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
ON CONFLICT (device_key) DO UPDATE SET
    source = excluded.source, name = excluded.name, model = excluded.model,
    manufacturer = excluded.manufacturer, location = excluded.location,
    last_seen = max(last_seen, excluded.last_seen), active = 1
RETURNING id"""


def placeholder_record(device_key: str) -> DeviceRecord:
    """Return the record of a device known only from its readings."""
    source = device_key.partition(":")[0] or "unknown"
    return DeviceRecord(device_key=device_key, source=source, name=device_key)


def check_names(reading: Reading) -> None:
    """Raise TypeError unless the reading's key, metric and unit are text."""
    if not (
        isinstance(reading.device_key, str)
        and isinstance(reading.metric, str)
        and (reading.unit is None or isinstance(reading.unit, str))
    ):
        raise TypeError("device key, metric and unit must be text")


def label_key(record: DeviceRecord, unit: str | None) -> LabelKey:
    """Return the label of readings taken under `record` in `unit`."""
    return (record.source, record.name, record.location or "", unit or "")


class Catalog:
    """Device records and the ids of devices, metrics and labels."""

    def __init__(self) -> None:
        """Start empty; `load()` fills the caches from a database."""
        self.records: dict[str, DeviceRecord] = {}
        self.dirty: dict[str, DeviceRecord] = {}
        self.metric_ids: dict[str, int] = {}
        # (device key, metric, unit) -> (device id, metric id, label id)
        self.ids: dict[tuple[str, str, str | None], tuple[int, int, int]] = {}
        self._device_ids: dict[str, int] = {}
        self._label_ids: dict[LabelKey, int] = {}

    def load(self, conn: sqlite3.Connection) -> None:
        """Read the ids and device records a database already holds."""
        self.forget_ids()
        for key, source, name, model, manufacturer, location, device_id in conn.execute(
            "SELECT device_key, source, name, model, manufacturer, location, id "
            "FROM devices"
        ):
            self._device_ids[key] = device_id
            if key not in self.dirty:
                self.records[key] = DeviceRecord(
                    key, source, name, model, manufacturer, location
                )
        self.metric_ids.update(conn.execute("SELECT name, id FROM metrics"))
        for label_id, *key in conn.execute(
            "SELECT id, source, name, location, unit FROM labels"
        ):
            self._label_ids[(key[0], key[1], key[2], key[3])] = label_id

    def forget_ids(self) -> None:
        """Drop every cached id (after a rollback or a new connection)."""
        self.metric_ids.clear()
        self.ids.clear()
        self._device_ids.clear()
        self._label_ids.clear()

    def note(self, record: DeviceRecord) -> None:
        """Take a new or changed device record; later readings carry its label."""
        key = record.device_key
        self.records[key] = record
        self.dirty[key] = record
        for stale in [ids for ids in self.ids if ids[0] == key]:
            del self.ids[stale]

    def record(self, device_key: str) -> DeviceRecord:
        """Return the current record of a device."""
        return self.records.get(device_key) or placeholder_record(device_key)

    def snapshot(self) -> tuple[dict[str, DeviceRecord], dict[str, DeviceRecord]]:
        """Return copies of the records, to undo notes of a failed batch."""
        return dict(self.records), dict(self.dirty)

    def restore(
        self, saved: tuple[dict[str, DeviceRecord], dict[str, DeviceRecord]]
    ) -> None:
        """Put back records saved by `snapshot()`."""
        self.records, self.dirty = dict(saved[0]), dict(saved[1])
        self.ids.clear()

    def resolve(
        self, conn: sqlite3.Connection, reading: Reading, now_ms: int
    ) -> tuple[int, int, int]:
        """Return (device id, metric id, label id) for a reading, creating rows.

        Raises TypeError for a reading whose names are not text, before any of
        them reaches SQLite.
        """
        check_names(reading)
        key = reading.device_key
        ids = (
            self.device_id(conn, key, now_ms),
            self.metric_id(conn, reading.metric),
            self.label_id(conn, label_key(self.record(key), reading.unit)),
        )
        self.ids[(key, reading.metric, reading.unit)] = ids
        return ids

    def device_id(self, conn: sqlite3.Connection, device_key: str, now_ms: int) -> int:
        """Return the id of a device, creating its row from the current record."""
        if (device_id := self._device_ids.get(device_key)) is None:
            device_id = self._upsert(conn, self.record(device_key), now_ms)
        return device_id

    def label_id(self, conn: sqlite3.Connection, key: LabelKey) -> int:
        """Return the id of a label, creating it as needed."""
        if (label_id := self._label_ids.get(key)) is None:
            conn.execute(
                "INSERT INTO labels (source, name, location, unit) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                key,
            )
            label_id = conn.execute(
                "SELECT id FROM labels WHERE source = ? AND name = ? AND location = ? "
                "AND unit = ?",
                key,
            ).fetchone()[0]
            self._label_ids[key] = label_id
        return label_id

    def metric_id(self, conn: sqlite3.Connection, metric: str) -> int:
        """Return the id of a metric, creating it as needed."""
        if (metric_id := self.metric_ids.get(metric)) is None:
            conn.execute(
                "INSERT INTO metrics (name) VALUES (?) ON CONFLICT DO NOTHING",
                (metric,),
            )
            metric_id = conn.execute(
                "SELECT id FROM metrics WHERE name = ?", (metric,)
            ).fetchone()[0]
            self.metric_ids[metric] = metric_id
        return metric_id

    def write_dirty(self, conn: sqlite3.Connection, now_ms: int) -> None:
        """Write every noted record (inside the caller's transaction)."""
        for record in self.dirty.values():
            self._upsert(conn, record, now_ms)

    def committed(self) -> None:
        """Forget the dirty records: their transaction has committed."""
        self.dirty.clear()

    def _upsert(
        self, conn: sqlite3.Connection, record: DeviceRecord, now_ms: int
    ) -> int:
        device_id: int = conn.execute(
            _UPSERT_DEVICE,
            (
                record.device_key,
                record.source,
                record.name,
                record.model,
                record.manufacturer,
                record.location,
                now_ms,
                now_ms,
            ),
        ).fetchone()[0]
        self._device_ids[record.device_key] = device_id
        return device_id
