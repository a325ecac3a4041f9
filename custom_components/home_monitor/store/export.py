"""Writing readings to a CSV file (blocking; run it in an executor)."""

import csv
from datetime import datetime
import os
from pathlib import Path

from .reader import HistoryReader

COLUMNS = (
    "measured_at",
    "received_at",
    "device_key",
    "name",
    "location",
    "source",
    "metric",
    "value",
    "unit",
)

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """Return user-named text so that a spreadsheet shows it instead of running it."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def export_csv(
    reader: HistoryReader,
    path: Path,
    *,
    device_key: str | None = None,
    metric: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> int:
    """Write the matching readings to `path`; return how many.

    The file appears complete or not at all: rows go to a temporary file in
    the same directory that replaces `path` at the end.
    """
    partial = path.with_name(f".{path.name}.partial")
    count = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(COLUMNS)
            for row in reader.iter_readings(device_key, metric, start, end):
                writer.writerow(
                    (
                        row.measured_at.isoformat(),
                        row.received_at.isoformat(),
                        text_cell(row.device_key),
                        text_cell(row.name),
                        text_cell(row.location or ""),
                        row.source,
                        row.metric,
                        repr(row.value),
                        row.unit or "",
                    )
                )
                count += 1
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count
