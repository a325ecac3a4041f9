"""Config flow: a menu of sources, with reauth and reconfigure sent to the right one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.core import callback

from .const import CONF_SOURCE, DOMAIN, SOURCE_AMAZON, SOURCE_HUE
from .flows.amazon import AmazonFlowMixin
from .flows.options import HomeMonitorOptionsFlow
from .sources.hue import HueFlowMixin


class HomeMonitorConfigFlow(HueFlowMixin, AmazonFlowMixin, domain=DOMAIN):
    """Add a Hue bridge or an Amazon account."""

    VERSION = 1
    MINOR_VERSION = 1

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask which kind of source to add."""
        return self.async_show_menu(
            step_id="user", menu_options=[SOURCE_HUE, SOURCE_AMAZON]
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Send the reauth to the entry's source."""
        if entry_data[CONF_SOURCE] == SOURCE_HUE:
            return await self.async_step_hue_reauth(entry_data)
        return await self.async_step_amazon_reauth(entry_data)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Send the reconfigure to the entry's source."""
        if self._get_reconfigure_entry().data[CONF_SOURCE] == SOURCE_HUE:
            return await self.async_step_hue_reconfigure()
        return await self.async_step_amazon_reconfigure()

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> HomeMonitorOptionsFlow:
        """Return the options flow."""
        return HomeMonitorOptionsFlow()
