"""Config flow: a menu of sources (their steps live with each source), and the options.

The options flow shows the entry's source settings (its poll interval) and
the history store's settings, which all entries share, in one form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from .const import (
    CONF_POLL_INTERVAL,
    CONF_SOURCE,
    DOMAIN,
    SOURCE_AMAZON,
    SOURCE_HUE,
    vol,
)
from .history import async_get_settings, async_save_settings
from .sources import amazon, hue
from .sources.amazon import AmazonFlowMixin
from .sources.hue import HueFlowMixin
from .store import StoreSettings

HISTORY = "history"
RETENTION_DAYS = "retention_days"
SIZE_BUDGET_MB = "size_budget_mb"
SPOOL_MAX_READINGS = "spool_max_readings"
INACTIVE_DAYS = "inactive_days"
MEGABYTE = 1_000_000


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


class PollLimits(Protocol):
    """The poll-interval bounds a source package exports, in seconds."""

    DEFAULT_POLL_INTERVAL: int
    MIN_POLL_INTERVAL: int
    MAX_POLL_INTERVAL: int
    # Shorter intervals are accepted after a warning.
    SHORT_POLL_WARNING: int


@dataclass(frozen=True, slots=True)
class PollInterval:
    """A source's poll-interval option: its bounds, and when to warn."""

    source: str
    limits: PollLimits

    def schema(self, options: Mapping[str, Any]) -> vol.Schema:
        """Return the options schema, filled with the current value."""
        limits = self.limits
        current = options.get(CONF_POLL_INTERVAL, limits.DEFAULT_POLL_INTERVAL)
        return vol.Schema(
            {
                vol.Required(CONF_POLL_INTERVAL, default=current): number_box(
                    limits.MIN_POLL_INTERVAL, limits.MAX_POLL_INTERVAL, "s"
                )
            }
        )

    def warning_for(self, user_input: Mapping[str, Any]) -> str | None:
        """Return the warning's translation key when the interval is risky."""
        seconds = user_input.get(CONF_POLL_INTERVAL, self.limits.DEFAULT_POLL_INTERVAL)
        if float(seconds) < self.limits.SHORT_POLL_WARNING:
            return f"{self.source}_poll_interval_short"
        return None


POLL_INTERVALS = {
    SOURCE_HUE: PollInterval(SOURCE_HUE, hue),
    SOURCE_AMAZON: PollInterval(SOURCE_AMAZON, amazon),
}


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
            vol.Required(INACTIVE_DAYS, default=settings.inactive_days): number_box(
                1, 3650, "d"
            ),
        }
    )


def _apply(settings: StoreSettings, history: Mapping[str, Any]) -> StoreSettings:
    retention = history.get(RETENTION_DAYS)
    budget = history.get(SIZE_BUDGET_MB, settings.size_budget_bytes // MEGABYTE)
    spool = history.get(SPOOL_MAX_READINGS, settings.spool_max_readings)
    inactive = history.get(INACTIVE_DAYS, settings.inactive_days)
    return replace(
        settings,
        retention_days=int(retention) if retention else None,
        size_budget_bytes=int(budget) * MEGABYTE,
        spool_max_readings=int(spool),
        inactive_days=int(inactive),
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
        source = POLL_INTERVALS[source_name]
        settings = await async_get_settings(self.hass)
        errors: dict[str, str] = {}
        if user_input is not None:
            # The form is shown again with what was submitted, history included.
            settings = _apply(settings, user_input.pop(HISTORY, {}))
            warning = source.warning_for(user_input)
            if warning is None or user_input == self._warned:
                await async_save_settings(self.hass, settings)
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
