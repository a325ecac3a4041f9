"""The poll-interval option every polling source offers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from ..validation import vol

CONF_POLL_INTERVAL = "poll_interval"


def poll_interval_schema(
    options: Mapping[str, Any], *, default: int, minimum: int, maximum: int
) -> vol.Schema:
    """Return a schema with the poll interval in seconds."""
    return vol.Schema(
        {
            vol.Required(
                CONF_POLL_INTERVAL, default=options.get(CONF_POLL_INTERVAL, default)
            ): NumberSelector(
                NumberSelectorConfig(
                    min=minimum,
                    max=maximum,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="s",
                )
            )
        }
    )
