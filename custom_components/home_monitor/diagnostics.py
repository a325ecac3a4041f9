"""Diagnostics: entry settings, source state and store health, with secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import HomeMonitorConfigEntry

# Every key that can hold a credential, in entry data or in source details.
TO_REDACT = {
    "access_token",
    "adp_token",
    "api_key",
    "app_key",
    "code",
    "cookie",
    "cookies",
    "device_private_key",
    "password",
    "refresh_token",
    "session-token",
    "store_authentication_cookie",
    "username",
    "website_cookies",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    runtime = entry.runtime_data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "coordinator": runtime.coordinator.diagnostics(),
            "store": runtime.store.status().as_dict(),
        },
        TO_REDACT,
    )
