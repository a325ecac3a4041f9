"""Config flow steps for an Amazon account: sign-in, reauth, reconfigure.

The user gives the account's e-mail, password and a one-time code from the
authenticator app set up for Amazon's two-step verification. aioamazondevices
signs in; the entry keeps the e-mail and the library's login data (see
`auth.stored_login_data`), never the password or the code. The unique id
is the account's customer id, so an account is added once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ...const import CONF_SOURCE, DOMAIN, SOURCE_AMAZON, vol
from . import CONF_CODE, CONF_LOGIN_DATA, AmazonLoginError
from .auth import AmazonCredentials, AmazonSignIn
from .client import async_create_http

EMAIL = TextSelector(
    TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username")
)
PASSWORD = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
CODE = TextSelector(TextSelectorConfig(autocomplete="one-time-code"))


def _schema(email: str | None = None, *, with_email: bool = True) -> vol.Schema:
    fields: dict[Any, Any] = {}
    if with_email:
        key = (
            vol.Required(CONF_USERNAME, default=email)
            if email
            else vol.Required(CONF_USERNAME)
        )
        fields[key] = EMAIL
    fields[vol.Required(CONF_PASSWORD)] = PASSWORD
    fields[vol.Required(CONF_CODE)] = CODE
    return vol.Schema(fields)


class AmazonFlowMixin(ConfigFlow):
    """Steps that add, reauthenticate and reconfigure an Amazon entry."""

    async def _async_sign_in(
        self, email: str, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> AmazonCredentials | None:
        """Sign in; on failure fill `errors` and return None."""
        code = "".join(str(user_input.get(CONF_CODE, "")).split())
        if not code:
            errors[CONF_CODE] = "code_required"
            return None
        http = async_create_http(self.hass)
        sign_in = AmazonSignIn(http, email, user_input[CONF_PASSWORD], code)
        try:
            return await sign_in.async_login(Path(self.hass.config.path(DOMAIN)))
        except AmazonLoginError as err:
            errors["base"] = err.reason
            return None
        finally:
            await http.async_release()

    async def async_step_amazon(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the e-mail, password and one-time code, then sign in."""
        errors: dict[str, str] = {}
        email = (user_input or {}).get(CONF_USERNAME, "").strip()
        if user_input is not None:
            # Known by its e-mail: no need to sign in (and register a device) again.
            self._async_abort_entries_match({CONF_USERNAME: email})
            credentials = await self._async_sign_in(email, user_input, errors)
            if credentials is not None:
                await self.async_set_unique_id(credentials.customer_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=email,
                    data={
                        CONF_SOURCE: SOURCE_AMAZON,
                        CONF_USERNAME: email,
                        CONF_LOGIN_DATA: dict(credentials.login_data),
                    },
                )
        return self.async_show_form(
            step_id="amazon", data_schema=_schema(email), errors=errors
        )

    async def async_step_amazon_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start signing in again after Amazon refused the stored login."""
        return await self.async_step_amazon_reauth_confirm()

    async def async_step_amazon_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password and a new one-time code."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            credentials = await self._async_sign_in(
                entry.data[CONF_USERNAME], user_input, errors
            )
            if credentials is not None:
                await self.async_set_unique_id(credentials.customer_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={CONF_LOGIN_DATA: dict(credentials.login_data)},
                )
        return self.async_show_form(
            step_id="amazon_reauth_confirm",
            data_schema=_schema(with_email=False),
            errors=errors,
            description_placeholders={"email": entry.data[CONF_USERNAME]},
        )

    async def async_step_amazon_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in again, possibly with the account's new e-mail address."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        email = (user_input or {}).get(CONF_USERNAME, entry.data[CONF_USERNAME]).strip()
        if user_input is not None:
            credentials = await self._async_sign_in(email, user_input, errors)
            if credentials is not None:
                await self.async_set_unique_id(credentials.customer_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_USERNAME: email,
                        CONF_LOGIN_DATA: dict(credentials.login_data),
                    },
                )
        return self.async_show_form(
            step_id="amazon_reconfigure", data_schema=_schema(email), errors=errors
        )
