"""The history card: served from the integration's folder, loaded by every dashboard.

The card is one ES module (`frontend/home-monitor-history-card.js`, no build
step). When the integration loads, its folder becomes a static path of Home
Assistant's HTTP server and the module's URL an extra module of the frontend,
so the card is in the card picker without a dashboard resource to add. The
URL carries the integration's version and a digest of the file, so a browser
never keeps an old copy after an update.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from .const import DOMAIN

CARD_FILENAME: Final = "home-monitor-history-card.js"
CARD_DIRECTORY: Final = Path(__file__).parent / "frontend"
CARD_URL_BASE: Final = f"/{DOMAIN}/frontend"


def _digest() -> str:
    return hashlib.sha256((CARD_DIRECTORY / CARD_FILENAME).read_bytes()).hexdigest()[:8]


async def async_register_card(hass: HomeAssistant) -> str | None:
    """Serve the card and load it in every dashboard; return its URL.

    Does nothing (returns None) without Home Assistant's frontend, for
    example in a configuration without `default_config` or `frontend:`.
    """
    if "frontend" not in hass.config.components or hass.http is None:
        return None
    integration = await async_get_integration(hass, DOMAIN)
    digest = await hass.async_add_executor_job(_digest)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL_BASE, str(CARD_DIRECTORY), cache_headers=True)]
    )
    url = f"{CARD_URL_BASE}/{CARD_FILENAME}?v={integration.version}-{digest}"
    add_extra_js_url(hass, url)
    return url
