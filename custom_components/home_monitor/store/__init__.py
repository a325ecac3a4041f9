"""The history store: a durable, bounded WAL SQLite mirror of every reading."""

from .errors import SchemaTooNewError, StoreError
from .history_store import HistoryStore
from .reader import HistoryReader, HistoryReadError
from .records import HistoryRow, StoredDevice, StoredEvent
from .settings import StoreSettings
from .status import StoreStatus

__all__ = [
    "HistoryReadError",
    "HistoryReader",
    "HistoryRow",
    "HistoryStore",
    "SchemaTooNewError",
    "StoreError",
    "StoreSettings",
    "StoreStatus",
    "StoredDevice",
    "StoredEvent",
]
