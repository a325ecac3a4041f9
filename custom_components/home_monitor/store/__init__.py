"""The history store: a durable, bounded WAL SQLite mirror of every reading."""

from .downsample import Bucket, SeriesInfo
from .history_store import HistoryStore
from .reader import HistoryReader, export_csv
from .records import (
    HistoryReadError,
    HistoryRow,
    SchemaTooNewError,
    StoredDevice,
    StoredEvent,
    StoreError,
    StoreSettings,
    StoreStatus,
)

__all__ = [
    "Bucket",
    "HistoryReadError",
    "HistoryReader",
    "HistoryRow",
    "HistoryStore",
    "SchemaTooNewError",
    "SeriesInfo",
    "StoreError",
    "StoreSettings",
    "StoreStatus",
    "StoredDevice",
    "StoredEvent",
    "export_csv",
]
