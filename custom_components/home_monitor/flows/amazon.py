"""Config flow steps for the Amazon source (interim: not yet available)."""

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from ..validation import vol


class AmazonFlowMixin(ConfigFlow):
    """Steps that add, reauthenticate and reconfigure a Amazon entry."""

    async def async_step_amazon(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Not available yet."""
        return self.async_abort(reason="not_supported")

    async def async_step_amazon_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Not available yet."""
        return self.async_abort(reason="not_supported")

    async def async_step_amazon_reconfigure(self) -> ConfigFlowResult:
        """Not available yet."""
        return self.async_abort(reason="not_supported")


def options_schema(options: Mapping[str, Any]) -> vol.Schema:
    """Return the source's options."""
    return vol.Schema({})


def options_warning(options: Mapping[str, Any]) -> str | None:
    """Return a warning about the chosen options, if any."""
    return None
