"""v1 bridges: poll `/api/<key>/sensors` only, never the whole configuration."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohue import HueBridgeV1

from .errors import MalformedResponseError

SENSORS_ENDPOINT = "sensors"


class HueV1Client:
    """Reads the sensors of a v1 bridge through aiohue."""

    def __init__(self, host: str, app_key: str, session: aiohttp.ClientSession) -> None:
        """Talk to `host` with `app_key` over `session`."""
        self.bridge = HueBridgeV1(host, app_key, session)

    async def fetch_sensors(self) -> dict[str, Any]:
        """Return `/api/<key>/sensors` (a dict keyed by v1 sensor id)."""
        data = await self.bridge.request("get", SENSORS_ENDPOINT)
        if not isinstance(data, dict):
            raise MalformedResponseError("sensors is not an object")
        return data
