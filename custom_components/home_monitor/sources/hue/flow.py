"""Config flow steps for a Philips Hue bridge.

A bridge is found by zeroconf (`_hue._tcp.local.`) or by its host, then paired with the
link button. When Home Assistant's own Hue integration already holds an app key for the
bridge, that key can be reused and no button press is needed. The unique id is the
bridge id. Reauthentication (after the app key was deleted on the bridge) pairs again;
reconfiguration moves the entry to a new host of the same bridge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohue.util import normalize_bridge_id
from homeassistant.config_entries import SOURCE_REAUTH, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_HOST
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from ...const import CONF_SOURCE, SOURCE_HUE, vol
from . import CONF_API_VERSION
from .pairing import (
    CannotConnectError,
    FoundBridge,
    InvalidAppKeyError,
    LinkButtonNotPressed,
    ReusableBridge,
    async_check_app_key,
    async_create_app_key,
    async_find_bridge,
    reusable_bridges,
)

CONF_BRIDGE = "bridge"
DEFAULT_PORTS = (None, 80, 443)


class HueFlowMixin(ConfigFlow):
    """Steps that add, reauthenticate and reconfigure a Hue entry."""

    _hue_bridge: FoundBridge | None = None
    _hue_reuse: ReusableBridge | None = None

    def _hue_reusable(self) -> list[ReusableBridge]:
        return reusable_bridges(
            self.hass, self._async_current_ids(include_ignore=False)
        )

    async def _hue_find(
        self, user_input: dict[str, Any] | None, errors: dict[str, str]
    ) -> FoundBridge | None:
        """Ask the host the user entered for its bridge id; note an error if none."""
        if user_input is None:
            return None
        try:
            return await async_find_bridge(self.hass, user_input[CONF_HOST].strip())
        except CannotConnectError:
            errors["base"] = "cannot_connect"
            return None

    async def async_step_hue(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer to reuse a bridge Home Assistant's Hue integration has, or ask for a host."""
        if self._hue_reusable():
            return self.async_show_menu(
                step_id="hue", menu_options=["hue_reuse", "hue_manual"]
            )
        return await self.async_step_hue_manual()

    async def async_step_hue_manual(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the bridge's host name or IP address."""
        errors: dict[str, str] = {}
        if (bridge := await self._hue_find(user_input, errors)) is not None:
            await self.async_set_unique_id(bridge.bridge_id, raise_on_progress=False)
            self._abort_if_unique_id_configured(updates={CONF_HOST: bridge.host})
            self._hue_bridge = bridge
            return await self.async_step_hue_link()
        return self.async_show_form(
            step_id="hue_manual",
            data_schema=vol.Schema({vol.Required(CONF_HOST): str}),
            errors=errors,
        )

    async def async_step_zeroconf(
        self, discovery_info: ZeroconfServiceInfo
    ) -> ConfigFlowResult:
        """Handle a bridge announced on the network."""
        if discovery_info.ip_address.version == 6:
            return self.async_abort(reason="invalid_host")
        host = discovery_info.host
        if discovery_info.port not in DEFAULT_PORTS:
            host = f"{host}:{discovery_info.port}"
        bridge_id = normalize_bridge_id(
            str(discovery_info.properties.get("bridgeid", ""))
        )
        await self.async_set_unique_id(bridge_id)
        self._abort_if_unique_id_configured(updates={CONF_HOST: host})
        try:
            bridge = await async_find_bridge(self.hass, host)
        except CannotConnectError:
            return self.async_abort(reason="cannot_connect")
        if bridge.bridge_id != bridge_id:
            return self.async_abort(reason="cannot_connect")
        self._hue_bridge = bridge
        self.context["title_placeholders"] = {"name": f"Hue Bridge {bridge_id}"}
        for reusable in self._hue_reusable():
            if reusable.bridge_id == bridge_id:
                self._hue_reuse = reusable
                return await self.async_step_hue_reuse_confirm()
        return await self.async_step_hue_link()

    async def async_step_hue_reuse(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick one of the bridges Home Assistant's Hue integration has."""
        choices = {bridge.bridge_id: bridge for bridge in self._hue_reusable()}
        if not choices:
            return self.async_abort(reason="no_reusable_bridge")
        if user_input is not None and user_input[CONF_BRIDGE] in choices:
            self._hue_reuse = choices[user_input[CONF_BRIDGE]]
            await self.async_set_unique_id(
                self._hue_reuse.bridge_id, raise_on_progress=False
            )
            self._abort_if_unique_id_configured()
            return await self.async_step_hue_reuse_confirm({})
        return self.async_show_form(
            step_id="hue_reuse",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_BRIDGE): vol.In(
                        {key: f"{b.title} ({b.host})" for key, b in choices.items()}
                    )
                }
            ),
        )

    async def async_step_hue_reuse_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Reuse the app key of Home Assistant's Hue integration."""
        reuse = self._hue_reuse
        if reuse is None:  # pragma: no cover - only reached through the steps above
            return self.async_abort(reason="no_reusable_bridge")
        errors: dict[str, str] = {}
        if user_input is not None:
            bridge = FoundBridge(reuse.host, reuse.bridge_id, reuse.api_version)
            self._hue_bridge = bridge
            try:
                await async_check_app_key(
                    self.hass, bridge.host, reuse.app_key, bridge.api_version
                )
            except InvalidAppKeyError:
                return await self.async_step_hue_link()
            except CannotConnectError:
                errors["base"] = "cannot_connect"
            else:
                return self._hue_finish(bridge, reuse.app_key)
        return self.async_show_form(
            step_id="hue_reuse_confirm",
            description_placeholders={"name": reuse.title, "host": reuse.host},
            errors=errors,
        )

    async def async_step_hue_link(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the link button to be pressed, then pair."""
        bridge = self._hue_bridge
        if bridge is None:  # pragma: no cover - only reached through the steps above
            return self.async_abort(reason="cannot_connect")
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                app_key = await async_create_app_key(self.hass, bridge.host)
            except LinkButtonNotPressed:
                errors["base"] = "link_button_not_pressed"
            except CannotConnectError:
                errors["base"] = "cannot_connect"
            else:
                return self._hue_finish(bridge, app_key)
        return self.async_show_form(
            step_id="hue_link",
            description_placeholders={"host": bridge.host},
            errors=errors,
        )

    def _hue_finish(self, bridge: FoundBridge, app_key: str) -> ConfigFlowResult:
        if self.source == SOURCE_REAUTH:
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data_updates={CONF_API_KEY: app_key}
            )
        return self.async_create_entry(
            title=f"Hue Bridge {bridge.bridge_id}",
            data={
                CONF_SOURCE: SOURCE_HUE,
                CONF_HOST: bridge.host,
                CONF_API_KEY: app_key,
                CONF_API_VERSION: bridge.api_version,
            },
        )

    async def async_step_hue_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Pair again with the link button after the bridge rejected the app key."""
        entry = self._get_reauth_entry()
        self._hue_bridge = FoundBridge(
            entry_data[CONF_HOST],
            str(entry.unique_id),
            int(entry_data.get(CONF_API_VERSION, 2)),
        )
        return await self.async_step_hue_link()

    async def async_step_hue_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the entry to the bridge's new host."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if (bridge := await self._hue_find(user_input, errors)) is not None:
            await self.async_set_unique_id(bridge.bridge_id)
            self._abort_if_unique_id_mismatch(reason="wrong_bridge")
            return self.async_update_reload_and_abort(
                entry,
                data_updates={
                    CONF_HOST: bridge.host,
                    CONF_API_VERSION: bridge.api_version,
                },
            )
        return self.async_show_form(
            step_id="hue_reconfigure",
            data_schema=vol.Schema(
                {vol.Required(CONF_HOST, default=entry.data[CONF_HOST]): str}
            ),
            errors=errors,
        )
