"""Config flow steps for the Hue source (interim: not yet available)."""

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from ..validation import vol


class HueFlowMixin(ConfigFlow):
    """Steps that add, reauthenticate and reconfigure a Hue entry."""

    async def async_step_hue(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Not available yet."""
        return self.async_abort(reason="not_supported")

    async def async_step_hue_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Not available yet."""
        return self.async_abort(reason="not_supported")

    async def async_step_hue_reconfigure(self) -> ConfigFlowResult:
        """Not available yet."""
        return self.async_abort(reason="not_supported")


def options_schema(options: Mapping[str, Any]) -> vol.Schema:
    """Return the source's options."""
    return vol.Schema({})


def options_warning(options: Mapping[str, Any]) -> str | None:
    """Return a warning about the chosen options, if any."""
    return None
