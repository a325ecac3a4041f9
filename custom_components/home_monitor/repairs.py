"""Repair flows: fixing an expired Amazon login opens the sign-in again."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.components.repairs.const import FlowType
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.core import HomeAssistant

from .const import DOMAIN
from .sources.amazon import ISSUE_LOGIN_EXPIRED


async def _async_reauth_flow_id(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return the entry's reauth flow, starting one if none is in progress."""
    for flow in entry.async_get_active_flows(hass, {SOURCE_REAUTH}):
        return flow["flow_id"]
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={
            "source": SOURCE_REAUTH,
            "entry_id": entry.entry_id,
            "title_placeholders": {"name": entry.title},
            "unique_id": entry.unique_id,
        },
        data=dict(entry.data),
    )
    return result["flow_id"]


class LoginExpiredRepairFlow(RepairsFlow):
    """Confirm, then go on to the entry's reauth flow."""

    def __init__(self, entry_id: str) -> None:
        """Fix the login of the entry `entry_id`."""
        self._entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> Any:
        """Show the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> Any:
        """Start (or continue) the reauth once the user confirms."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", description_placeholders={"account": entry.title}
            )
        flow_id = await _async_reauth_flow_id(self.hass, entry)
        return self.async_create_entry(
            data={}, next_flow=(FlowType.CONFIG_FLOW, flow_id)
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Return the flow that fixes `issue_id`."""
    if issue_id.startswith(ISSUE_LOGIN_EXPIRED) and data and "entry_id" in data:
        return LoginExpiredRepairFlow(str(data["entry_id"]))
    return ConfirmRepairFlow()
