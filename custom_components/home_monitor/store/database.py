"""Opening the history file: integrity check, journal mode, migrations.

Durability: the writer runs with ``synchronous=FULL``, so every committed
transaction is synced to the WAL before COMMIT returns and survives both a
killed process and a power cut. Batching keeps that to a few syncs a second.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
import sqlite3
from urllib.parse import quote

from .errors import StoreError, is_corruption
from .schema import LATEST_VERSION, migrate

# How long SQLite itself waits for a lock before reporting "database is locked";
# the writer retries on top of this with backoff.
BUSY_TIMEOUT_S = 1.0
# The WAL is checkpointed every AUTOCHECKPOINT_PAGES (16 MB) and cut back to
# JOURNAL_SIZE_LIMIT_BYTES after that; the writer also truncates it to zero when
# idle and after each maintenance pass. Fewer, larger checkpoints write the hot
# pages of each series to the file less often (kinder to SD cards).
AUTOCHECKPOINT_PAGES = 4000
JOURNAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024
# Page cache of the writer: holds the hot end of every series of a big home.
CACHE_KIB = 16 * 1024
_COMPANIONS = ("", "-wal", "-shm", "-journal")


class CorruptDatabaseError(StoreError):
    """The file failed its integrity check or is not a database."""


@dataclass(frozen=True, slots=True)
class OpenedDatabase:
    """A writer connection and what opening it found."""

    conn: sqlite3.Connection
    journal_mode: str
    found_version: int


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit)."""
    uri = f"file:{quote(str(path))}" + ("?mode=ro" if read_only else "")
    return sqlite3.connect(
        uri,
        uri=True,
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=not read_only,
    )


def open_database(path: Path) -> OpenedDatabase:
    """Open or create the file, check it, choose the journal mode, migrate.

    Raises CorruptDatabaseError for a damaged file, SchemaTooNewError for one
    from a newer version, and sqlite3.Error/OSError when the file cannot be
    opened or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        check_integrity(conn)
        # Only an empty file can take this, so before anything writes the header.
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        journal_mode = use_wal(conn)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        found = migrate(conn)
        # Prove the file takes writes now rather than at the first batch.
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return OpenedDatabase(conn, journal_mode, found)


def check_integrity(conn: sqlite3.Connection) -> None:
    """Run SQLite's quick check; raise CorruptDatabaseError if it finds damage."""
    try:
        problems = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as err:
        if is_corruption(err):
            raise CorruptDatabaseError(str(err)) from err
        raise
    if problems != [("ok",)]:
        raise CorruptDatabaseError(str(problems[0][0]))


def use_wal(conn: sqlite3.Connection) -> str:
    """Switch to WAL and read the mode back; fall back to a rollback journal.

    WAL needs shared memory between connections, which some file systems
    (network shares in particular) do not offer; SQLite then keeps its current
    mode. The returned mode is what the file really uses.
    """
    mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
    if mode != "wal":
        mode = str(conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]).lower()
    return mode


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a damaged file and its companions; return the new name."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in _COMPANIONS:
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(Path(f"{target}{suffix}"))
    return target


def file_sizes(path: Path) -> tuple[int, int]:
    """Return the sizes of the file and its WAL (0 when missing)."""
    sizes = []
    for suffix in ("", "-wal"):
        try:
            sizes.append(Path(f"{path}{suffix}").stat().st_size)
        except OSError:
            sizes.append(0)
    return sizes[0], sizes[1]
