"""Logging each problem with a reply once, while it lasts, and once when it clears."""

from __future__ import annotations

from collections.abc import Mapping
import logging


class ProblemLog:
    """Remembers which problems are open, so a poll every few minutes logs each once."""

    def __init__(self, logger: logging.Logger) -> None:
        """Log to `logger`."""
        self._logger = logger
        self._open: dict[str, str] = {}

    @property
    def open_count(self) -> int:
        """Return how many problems are open."""
        return len(self._open)

    def update(self, problems: Mapping[str, str]) -> None:
        """Log new problems as warnings and cleared ones at info."""
        for key, message in problems.items():
            if key not in self._open:
                self._logger.warning("%s", message)
        for key, message in self._open.items():
            if key not in problems:
                self._logger.info("Resolved: %s", message)
        self._open = dict(problems)
