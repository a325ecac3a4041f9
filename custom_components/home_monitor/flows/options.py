"""Options: the entry's source settings, and the shared history store's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.data_entry_flow import section

from ..const import CONF_SOURCE, SOURCE_AMAZON, SOURCE_HUE, vol
from ..history import async_get_settings, async_save_settings
from ..store import StoreSettings
from . import amazon, hue
from .poll_interval import number_box

HISTORY = "history"
RETENTION_DAYS = "retention_days"
SIZE_BUDGET_MB = "size_budget_mb"
SPOOL_MAX_READINGS = "spool_max_readings"
MEGABYTE = 1_000_000


SOURCE_OPTIONS = {SOURCE_HUE: hue.POLL_INTERVAL, SOURCE_AMAZON: amazon.POLL_INTERVAL}


def _history_schema(settings: StoreSettings) -> vol.Schema:
    return vol.Schema(
        {
            # Empty means keep everything, so no default that could not be cleared.
            vol.Optional(
                RETENTION_DAYS,
                description={"suggested_value": settings.retention_days},
            ): number_box(1, 36500, "d"),
            vol.Required(
                SIZE_BUDGET_MB, default=settings.size_budget_bytes // MEGABYTE
            ): number_box(10, 1_000_000, "MB"),
            vol.Required(
                SPOOL_MAX_READINGS, default=settings.spool_max_readings
            ): number_box(10_000, 10_000_000, "readings"),
        }
    )


class HomeMonitorOptionsFlow(OptionsFlowWithReload):
    """Edit how often a source is read and how much history is kept."""

    _warned: dict[str, Any] | None = None

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the options of the entry's source."""
        return await self._async_step_source(None)

    async def async_step_hue(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hue options and the history settings."""
        return await self._async_step_source(user_input)

    async def async_step_amazon(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Amazon options and the history settings."""
        return await self._async_step_source(user_input)

    async def _async_step_source(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Show the source's options and the history settings together."""
        source_name = self.config_entry.data[CONF_SOURCE]
        source = SOURCE_OPTIONS[source_name]
        settings = await async_get_settings(self.hass)
        errors: dict[str, str] = {}
        if user_input is not None:
            history = user_input.pop(HISTORY, {})
            warning = source.warning_for(user_input)
            if warning is None or user_input == self._warned:
                await async_save_settings(self.hass, _apply(settings, history))
                return self.async_create_entry(data=user_input)
            # Shown once; submitting the same values again accepts them.
            self._warned = dict(user_input)
            errors["base"] = warning
        schema = source.schema(user_input or self.config_entry.options).extend(
            {
                vol.Required(HISTORY): section(
                    _history_schema(settings), {"collapsed": True}
                )
            }
        )
        return self.async_show_form(
            step_id=source_name, data_schema=schema, errors=errors
        )


def _apply(settings: StoreSettings, history: Mapping[str, Any]) -> StoreSettings:
    retention = history.get(RETENTION_DAYS)
    budget = history.get(SIZE_BUDGET_MB, settings.size_budget_bytes // MEGABYTE)
    spool = history.get(SPOOL_MAX_READINGS, settings.spool_max_readings)
    return replace(
        settings,
        retention_days=int(retention) if retention else None,
        size_budget_bytes=int(budget) * MEGABYTE,
        spool_max_readings=int(spool),
    )
