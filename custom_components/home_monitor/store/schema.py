"""The history file: its tables, numbered migrations, and how it is opened.

`PRAGMA user_version` holds the number of the last migration applied. Each
migration runs in its own transaction together with the version bump, so a
crash leaves the file at a whole version. Never edit a released migration:
add a new one.

Readings live in a WITHOUT ROWID table keyed (device_id, metric_id,
measured_at): the key is the only index, rows of one series sit together, and
writing the same reading twice keeps one row. Per row it holds small integer
keys, the time in milliseconds, the value in the compact form of `records`,
the delay until it was received in whole seconds, and the id of a `labels` row
with the device name, location, source and unit at the time. The whole file,
devices, labels, events and free space included, comes to about 28 bytes a
reading (`script/bench store` measures it on 1,000,000 readings of a big home).

Durability: the writer runs with ``synchronous=FULL``, so every committed
transaction is synced to the WAL before COMMIT returns and survives both a
killed process and a power cut. Batching keeps that to a few syncs a second.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
import sqlite3
from urllib.parse import quote

from .records import SchemaTooNewError, StoreError, is_corruption
from .rollups import (
    DAYS_MIGRATION as ROLLUP_DAYS_MIGRATION,
    MIGRATION as ROLLUPS_MIGRATION,
)

_V1 = (
    """CREATE TABLE metrics (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE)""",
    """CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        device_key TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        name TEXT NOT NULL,
        model TEXT,
        location TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        active INTEGER NOT NULL DEFAULT 1)""",
    # '' stands for "none" so the unique constraint also covers missing parts.
    """CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        name TEXT NOT NULL,
        location TEXT NOT NULL,
        unit TEXT NOT NULL,
        UNIQUE (source, name, location, unit))""",
    # `value` has no declared type so SQLite keeps integers and reals apart.
    """CREATE TABLE readings (
        device_id INTEGER NOT NULL,
        metric_id INTEGER NOT NULL,
        measured_at INTEGER NOT NULL,
        value NOT NULL,
        received_delay INTEGER NOT NULL,
        label_id INTEGER NOT NULL,
        PRIMARY KEY (device_id, metric_id, measured_at)) WITHOUT ROWID""",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        detail TEXT NOT NULL)""",
)

_V2 = (
    "ALTER TABLE devices ADD COLUMN manufacturer TEXT",
    "CREATE INDEX events_at ON events (at)",
)

# Device life cycle and history rewrites: `removed_at` is when the device was
# removed in Home Assistant (NULL while it is there), `seen_at` the newest
# arrival of one of its readings (kept when old readings are purged).
# `relabel_jobs` holds each rename whose rewrite of past readings is under way:
# the new name and location ('' for none), the (metric id, time) key of the
# last reading done, and how many readings it has looked at and changed.
_V3 = (
    "ALTER TABLE devices ADD COLUMN removed_at INTEGER",
    "ALTER TABLE devices ADD COLUMN seen_at INTEGER",
    """CREATE TABLE relabel_jobs (
        device_id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        location TEXT NOT NULL,
        metric_id INTEGER NOT NULL,
        measured_at INTEGER NOT NULL,
        total INTEGER NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,
        relabelled INTEGER NOT NULL DEFAULT 0,
        requested_at INTEGER NOT NULL)""",
)

# Hourly rollups of every series, kept by the writer; an existing file's
# readings are rolled up after this migration, a step per write (see rollups).
_V4 = ROLLUPS_MIGRATION
_V5 = ROLLUP_DAYS_MIGRATION

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5)
LATEST_VERSION = len(MIGRATIONS)

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
COMPANIONS = ("", "-wal", "-shm", "-journal")


class CorruptDatabaseError(StoreError):
    """The file failed its integrity check or is not a database."""


@dataclass(frozen=True, slots=True)
class OpenedDatabase:
    """A writer connection and what opening it found."""

    conn: sqlite3.Connection
    journal_mode: str
    found_version: int


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the migration number the file is at."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Apply the migrations up to `target`; return the version found before.

    Raises SchemaTooNewError for a file written by a newer
    version of this integration, which must not be touched.
    """
    found = schema_version(conn)
    if found > LATEST_VERSION:
        raise SchemaTooNewError(found, LATEST_VERSION)
    for version in range(found + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found


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
    for suffix in COMPANIONS:
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
