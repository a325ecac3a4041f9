"""Fail any SQLite call made on a thread that runs an event loop.

Home Assistant's blocking-call detector does not see sqlite3, so every test runs
with this guard: `sqlite3.connect` hands out connections and cursors that refuse
to work while an asyncio loop runs in the calling thread, and the test fails at
teardown if any call was attempted.
"""

import asyncio
from collections.abc import Callable, Generator
import sqlite3
from typing import Any

import pytest


class SQLiteOnEventLoopError(AssertionError):
    """A SQLite call ran on the event loop thread."""


VIOLATIONS: list[str] = []


def _check(what: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    VIOLATIONS.append(what)
    raise SQLiteOnEventLoopError(f"{what} called on the event loop thread")


class GuardedCursor(sqlite3.Cursor):
    """A cursor that refuses to step on the event loop thread."""

    def execute(self, *args: Any) -> sqlite3.Cursor:
        _check("Cursor.execute")
        return super().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        _check("Cursor.executemany")
        return super().executemany(*args)

    def fetchone(self) -> Any:
        _check("Cursor.fetchone")
        return super().fetchone()

    def fetchmany(self, *args: Any) -> list[Any]:
        _check("Cursor.fetchmany")
        return super().fetchmany(*args)

    def fetchall(self) -> list[Any]:
        _check("Cursor.fetchall")
        return super().fetchall()

    def __next__(self) -> Any:
        _check("Cursor.__next__")
        return super().__next__()


class GuardedConnection(sqlite3.Connection):
    """A connection that refuses to work on the event loop thread."""

    def cursor(self, factory: Any = GuardedCursor) -> Any:
        _check("Connection.cursor")
        return super().cursor(factory)

    def execute(self, *args: Any) -> sqlite3.Cursor:
        _check("Connection.execute")
        return super().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        _check("Connection.executemany")
        return super().executemany(*args)

    def executescript(self, *args: Any) -> sqlite3.Cursor:
        _check("Connection.executescript")
        return super().executescript(*args)

    def commit(self) -> None:
        _check("Connection.commit")
        super().commit()

    def rollback(self) -> None:
        _check("Connection.rollback")
        super().rollback()

    def close(self) -> None:
        _check("Connection.close")
        super().close()


def guarded_connect(original: Callable[..., sqlite3.Connection]) -> Callable[..., Any]:
    """Wrap `sqlite3.connect` so that it hands out guarded connections."""

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        _check("sqlite3.connect")
        kwargs.setdefault("factory", GuardedConnection)
        return original(*args, **kwargs)

    return connect


@pytest.fixture(autouse=True)
def no_sqlite_on_event_loop(monkeypatch: pytest.MonkeyPatch) -> Generator[None]:
    """Guard every connection the test opens; fail if the guard ever fired."""
    monkeypatch.setattr(sqlite3, "connect", guarded_connect(sqlite3.connect))
    VIOLATIONS.clear()
    yield
    assert not VIOLATIONS, f"SQLite called on the event loop: {VIOLATIONS}"
