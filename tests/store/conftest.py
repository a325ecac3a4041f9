"""Fixtures for the history store tests: stores on real files in tmp dirs."""

from collections.abc import Callable, Generator
from pathlib import Path
import tempfile

import pytest

from custom_components.home_monitor.store import HistoryStore, StoreSettings

type StoreFactory = Callable[..., HistoryStore]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Return where the test's history file lives (the folder does not exist yet)."""
    return tmp_path / "home_monitor" / "history.db"


@pytest.fixture
def make_store(db_path: Path) -> Generator[StoreFactory]:
    """Return a factory of stores; every store made is closed after the test."""
    made: list[HistoryStore] = []

    def make(
        settings: StoreSettings | None = None,
        *,
        path: Path | None = None,
        opened: bool = True,
    ) -> HistoryStore:
        store = HistoryStore(path or db_path, settings or StoreSettings())
        made.append(store)
        if opened:
            store.open()
        return store

    yield make
    for store in made:
        store.close(10)


@pytest.fixture(autouse=True)
def private_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give each test its own temp dir, the store's last resort for a spool."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp
