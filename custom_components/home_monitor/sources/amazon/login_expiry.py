"""Telling the user an Amazon login expired, and taking it back once it works.

When Amazon rejects the session and the refresh token alike, the coordinator
raises `ConfigEntryAuthFailed` (Home Assistant starts the reauth flow) and
this module opens a fixable repair issue and fires `home_monitor_login_expired`
so an automation can send a mail or phone notification. The event carries the
entry id, the account's title and a short reason, never a credential. The
next good poll deletes the issue and aborts a reauth flow nobody finished.
"""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ...const import DOMAIN, LOGGER, SOURCE_AMAZON
from .const import EVENT_LOGIN_EXPIRED, ISSUE_LOGIN_EXPIRED


def issue_id(entry: ConfigEntry) -> str:
    """Return the repair issue id of an entry's expired login."""
    return f"{ISSUE_LOGIN_EXPIRED}_{entry.entry_id}"


@callback
def async_login_expired(hass: HomeAssistant, entry: ConfigEntry, reason: str) -> None:
    """Open the repair issue and fire the event (once per expiry)."""
    if ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is not None:
        return
    LOGGER.warning(
        "The Amazon login of %s expired (%s); sign in again to resume readings",
        entry.title,
        reason,
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry),
        data={"entry_id": entry.entry_id},
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_LOGIN_EXPIRED,
        translation_placeholders={"account": entry.title},
    )
    hass.bus.async_fire(
        EVENT_LOGIN_EXPIRED,
        {
            "entry_id": entry.entry_id,
            "source": SOURCE_AMAZON,
            "account": entry.title,
            "reason": reason,
        },
    )


@callback
def async_login_works(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Clear the issue and any unfinished reauth flow after a good poll."""
    registry = ir.async_get(hass)
    if registry.async_get_issue(DOMAIN, issue_id(entry)) is not None:
        LOGGER.info("The Amazon login of %s works again", entry.title)
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry))
    for flow in entry.async_get_active_flows(hass, {SOURCE_REAUTH}):
        hass.config_entries.flow.async_abort(flow["flow_id"])
