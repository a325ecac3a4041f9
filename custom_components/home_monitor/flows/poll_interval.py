"""The poll-interval option every source offers, and the number boxes of the options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from ..const import CONF_POLL_INTERVAL, vol


def number_box(minimum: int, maximum: int, unit: str) -> NumberSelector:
    """Return a whole-number input box."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement=unit,
        )
    )


@dataclass(frozen=True, slots=True)
class PollInterval:
    """A source's poll interval in seconds: its bounds, and when to warn."""

    default: int
    minimum: int
    maximum: int
    warn_below: int
    warning: str

    def schema(self, options: Mapping[str, Any]) -> vol.Schema:
        """Return the options schema, filled with the current value."""
        current = options.get(CONF_POLL_INTERVAL, self.default)
        return vol.Schema(
            {
                vol.Required(CONF_POLL_INTERVAL, default=current): number_box(
                    self.minimum, self.maximum, "s"
                )
            }
        )

    def warning_for(self, user_input: Mapping[str, Any]) -> str | None:
        """Return the warning's translation key when the interval is risky."""
        if float(user_input.get(CONF_POLL_INTERVAL, self.default)) < self.warn_below:
            return self.warning
        return None
