"""User-tunable limits of the history store."""

from dataclasses import dataclass

# A day of a big home, counted generously: 60 Hue motion sensors each reporting
# temperature every 5 min (288), light level on change (~720), motion on change
# (~500) and battery/connectivity a few times (~20), about 92,000 readings; plus
# 10 air-quality monitors polled every 60 s for 7 metrics, 100,800 readings.
# That is ~193,000 readings a day. 500,000 covers more than two such days, and a
# spooled reading takes 26 bytes packed, so a full spool holds about 13 MB.
DEFAULT_SPOOL_MAX_READINGS = 500_000

DEFAULT_SIZE_BUDGET_BYTES = 1_000_000_000
DEFAULT_EVENTS_MAX_ROWS = 10_000
DEFAULT_EVENTS_MAX_AGE_DAYS = 90


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Retention, disk and memory bounds; can be changed while the store runs.

    `retention_days` None keeps every reading for as long as the size budget
    allows. Past `size_budget_bytes` the oldest readings are purged. The spool
    holds readings the database refused (disk full, read-only, locked) and
    drops the oldest, counted, past `spool_max_readings`.
    """

    retention_days: int | None = None
    size_budget_bytes: int = DEFAULT_SIZE_BUDGET_BYTES
    spool_max_readings: int = DEFAULT_SPOOL_MAX_READINGS
    events_max_rows: int = DEFAULT_EVENTS_MAX_ROWS
    events_max_age_days: int = DEFAULT_EVENTS_MAX_AGE_DAYS
