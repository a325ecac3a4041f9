"""Diagnostics: entry settings, source state, store status and the health report, without secrets.

Credentials are redacted by key. Personal identifiers (the account, its
customer ids, the bridge id, device serial numbers) are also replaced
wherever their value appears, device keys included; each gets a numbered
placeholder, so the devices stay distinguishable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_USERNAME
from homeassistant.core import HomeAssistant

from .coordinator import HomeMonitorConfigEntry
from .health import async_health_report

# Every key that can hold a credential or a personal identifier.
TO_REDACT = {
    "access_token",
    "account_customer_id",
    "adp_token",
    "api_key",
    "app_key",
    "code",
    "cookie",
    "cookies",
    "customer_id",
    "device_private_key",
    "device_serial_number",
    "password",
    "refresh_token",
    "serial_number",
    "session-token",
    "store_authentication_cookie",
    "title",
    "unique_id",
    "user_id",
    "username",
    "website_cookies",
}
# Keys of entry data whose values identify the account or its app.
_IDENTIFYING_KEYS = (
    CONF_USERNAME,
    "account_customer_id",
    "customer_id",
    "device_serial_number",
    "user_id",
)
# Shorter values could match unrelated text.
_MIN_IDENTIFIER_LENGTH = 4


def _values_under(data: object, keys: Iterable[str]) -> Iterable[str]:
    """Yield the text values under `keys`, at any depth of `data`."""
    wanted = frozenset(keys)
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in wanted and isinstance(value, str):
                yield value
            else:
                yield from _values_under(value, wanted)
    elif isinstance(data, list):
        for item in data:
            yield from _values_under(item, wanted)


def _identifiers(entry: HomeMonitorConfigEntry) -> list[str]:
    """Return the entry's personal identifiers, in a stable order."""
    coordinator = entry.runtime_data.coordinator
    found = [entry.unique_id or "", entry.title]
    found.extend(_values_under(dict(entry.data), _IDENTIFYING_KEYS))
    devices = coordinator.data or {}
    found.extend(devices[key].serial_number or "" for key in sorted(devices))
    unique: list[str] = []
    for value in found:
        if len(value) >= _MIN_IDENTIFIER_LENGTH and value not in unique:
            unique.append(value)
    # Longest first, so a value that contains another is replaced whole.
    return sorted(unique, key=len, reverse=True)


def _replace(data: Any, placeholders: Mapping[str, str]) -> Any:
    """Replace every identifier in the text values and keys of `data`."""
    if isinstance(data, str):
        for value, placeholder in placeholders.items():
            data = data.replace(value, placeholder)
        return data
    if isinstance(data, Mapping):
        return {
            _replace(key, placeholders): _replace(value, placeholders)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_replace(item, placeholders) for item in data]
    return data


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    runtime = entry.runtime_data
    report = await async_health_report(hass)
    health = report.as_dict()
    # This entry's components and the shared store's.
    health["components"] = [
        component
        for component in health["components"]
        if component["entry"] in (None, entry.entry_id)
    ]
    identifiers = _identifiers(entry)
    placeholders = {
        value: f"**REDACTED_{number}**"
        for number, value in enumerate(identifiers, start=1)
    }
    redacted = async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "coordinator": runtime.coordinator.diagnostics(),
            "store": runtime.store.status().as_dict(),
            "health": health,
        },
        TO_REDACT,
    )
    result: dict[str, Any] = _replace(redacted, placeholders)
    return result
