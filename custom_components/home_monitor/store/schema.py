"""Tables of the history store and the numbered migrations that build them.

`PRAGMA user_version` holds the number of the last migration applied. Each
migration runs in its own transaction together with the version bump, so a
crash leaves the file at a whole version. Never edit a released migration:
add a new one.

Readings live in a WITHOUT ROWID table keyed (device_id, metric_id,
measured_at): the key is the only index, rows of one series sit together, and
writing the same reading twice keeps one row. Per row it holds small integer
keys, the time in milliseconds, the value in the compact form of `codec`, the
delay until it was received in whole seconds, and the id of a `labels` row
with the device name, location, source and unit at the time. That comes to
about 24 bytes a reading on disk.
"""

import sqlite3

from .errors import SchemaTooNewError

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

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2)
LATEST_VERSION = len(MIGRATIONS)


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
