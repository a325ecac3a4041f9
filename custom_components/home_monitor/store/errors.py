"""Errors of the history store and how SQLite failures are classified."""

import sqlite3

# Primary SQLite result codes (the low byte of an extended code).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26


class StoreError(Exception):
    """The history store cannot do what was asked."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer version of this integration."""

    def __init__(self, found: int, supported: int) -> None:
        """Keep both versions for the message."""
        super().__init__(
            f"history database is at schema version {found}, this version "
            f"understands up to {supported}"
        )
        self.found = found
        self.supported = supported


def primary_code(err: BaseException) -> int | None:
    """Return the primary SQLite result code of an error, if it has one."""
    code = getattr(err, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_lock_error(err: BaseException) -> bool:
    """Return whether another connection holds a lock we need."""
    return primary_code(err) in (SQLITE_BUSY, SQLITE_LOCKED)


def is_corruption(err: BaseException) -> bool:
    """Return whether the file is damaged or not a database at all."""
    return primary_code(err) in (SQLITE_CORRUPT, SQLITE_NOTADB)


def describe(err: BaseException) -> str:
    """Return a short description: SQLite's error name and message."""
    if isinstance(err, sqlite3.Error):
        name = getattr(err, "sqlite_errorname", None) or type(err).__name__
        return f"{name}: {err}"
    return f"{type(err).__name__}: {err}"
