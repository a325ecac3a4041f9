"""The Hue poll-interval option (its config-flow steps are in `sources/hue/flow.py`)."""

from __future__ import annotations

from ..sources.hue import (
    DEFAULT_POLL_INTERVAL,
    MAX_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    SHORT_POLL_WARNING,
)
from .poll_interval import PollInterval

POLL_INTERVAL = PollInterval(
    default=DEFAULT_POLL_INTERVAL,
    minimum=MIN_POLL_INTERVAL,
    maximum=MAX_POLL_INTERVAL,
    warn_below=SHORT_POLL_WARNING,
    warning="hue_poll_interval_short",
)
