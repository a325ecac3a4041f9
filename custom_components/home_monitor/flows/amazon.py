"""The Amazon poll-interval option (until the options flow defines it itself)."""

from __future__ import annotations

from ..sources.amazon import (
    DEFAULT_POLL_INTERVAL,
    MAX_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    SHORT_POLL_WARNING,
    AmazonFlowMixin,
)
from .poll_interval import PollInterval

__all__ = ["POLL_INTERVAL", "AmazonFlowMixin"]

POLL_INTERVAL = PollInterval(
    default=DEFAULT_POLL_INTERVAL,
    minimum=MIN_POLL_INTERVAL,
    maximum=MAX_POLL_INTERVAL,
    # Amazon rate-limits unofficial clients that poll faster.
    warn_below=SHORT_POLL_WARNING,
    warning="amazon_poll_interval_short",
)
