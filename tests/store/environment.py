"""Conditions of the file system, imposed through `sqlite3.connect`.

Each helper wraps the (already guarded) `sqlite3.connect` so that connections
the store opens see what a real system would show them: a file system without
shared memory (WAL refused), a full disk, or a file without write permission
(the tests run as root, which ignores permission bits, so the wrapper opens
such a file read-only, as SQLite does for any other user).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
import sqlite3
import stat
from typing import Any
from urllib.parse import unquote

import pytest

from custom_components.home_monitor.retry import BackoffPolicy
from custom_components.home_monitor.store import (
    database as database_module,
    schema as schema_module,
)


def _path_of(database: object) -> Path:
    text = str(database)
    if text.startswith("file:"):
        text = unquote(text[5:].partition("?")[0])
    return Path(text)


def _with_query(database: object, query: str) -> str:
    text = str(database)
    return f"{text}{'&' if '?' in text else '?'}{query}"


def without_shared_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Open every connection on SQLite's unix-none VFS, which has no shared memory."""
    original = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs["uri"] = True
        if not str(database).startswith("file:"):
            database = f"file:{database}"
        return original(_with_query(database, "vfs=unix-none"), *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)


@dataclass
class DiskLimit:
    """Pages new connections may use; None lifts the limit."""

    pages: int | None = None


def limited_disk(monkeypatch: pytest.MonkeyPatch) -> DiskLimit:
    """Give each new connection `PRAGMA max_page_count` while a limit is set."""
    limit = DiskLimit()
    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = original(*args, **kwargs)
        if limit.pages is not None:
            conn.execute(f"PRAGMA max_page_count = {limit.pages}")
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    return limit


def honour_permissions(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, bool], None]:
    """Open files without write permission read-only; return a chmod helper."""
    original = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        path = _path_of(database)
        if path.exists() and not path.stat().st_mode & stat.S_IWUSR:
            kwargs["uri"] = True
            if not str(database).startswith("file:"):
                database = f"file:{database}"
            database = _with_query(database, "mode=ro")
        return original(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)

    def set_writable(path: Path, writable: bool) -> None:
        path.chmod(0o644 if writable else 0o444)

    return set_writable


def impatient_locks(monkeypatch: pytest.MonkeyPatch, attempts: int) -> None:
    """Give up on a locked file after `attempts` quick tries, retry soon after."""
    monkeypatch.setattr(schema_module, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setattr(
        database_module,
        "LOCK_POLICY",
        BackoffPolicy(attempts=attempts, base_delay=0.01, jitter=0),
    )
    monkeypatch.setattr(database_module, "RETRY_AFTER_EXHAUSTION_S", 0.1)


def read_only_file(
    make_store: Callable[..., Any], path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Path, bool], None]:
    """Create an empty history file and take away its write permission."""
    set_writable = honour_permissions(monkeypatch)
    make_store().close(5)
    set_writable(path, False)
    return set_writable
