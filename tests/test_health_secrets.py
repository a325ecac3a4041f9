"""No secret in any health surface: entities, attributes, repairs, the action, diagnostics, logs.

Every secret field holds a marker: the Hue app key is a marker the bridge accepts; the Amazon
login data holds what the simulator issued (cookies, refresh token), each of which it lists in
`simulator.secrets`. The scenario goes through failures, where secrets are most likely to slip
into a message: a rejected key, an expired login, a rate limit.
"""

from __future__ import annotations

import json
import logging

from homeassistant.const import CONF_API_KEY, CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.home_monitor.const import CONF_SOURCE, DOMAIN, SOURCE_HUE
from custom_components.home_monitor.health_monitor import async_get_monitor
from custom_components.home_monitor.sources.hue import CONF_API_VERSION
from tests.hue.fixtures import wait_for
from tests.simulators.alexa import AlexaSimulator, Fault
from tests.simulators.hue_bridge import HueBridgeSimulator

from . import test_health

_tls_context = test_health._tls_context
simulator = test_health.simulator
credentials = test_health.credentials
amazon_env = test_health.amazon_env
amazon_entry = test_health.amazon_entry

HUE_KEY = "MARKERhueappkey0123456789abcdef"


def _surfaces(hass: HomeAssistant) -> str:
    """Return every state, attribute and repair issue of the integration, as text."""
    states = [
        {"entity_id": s.entity_id, "state": s.state, "attributes": dict(s.attributes)}
        for s in hass.states.async_all()
    ]
    issues = [
        issue.to_json()
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    ]
    return json.dumps([states, issues], default=str)


async def test_no_secret_in_any_health_surface(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    *,
    bridge: HueBridgeSimulator,
    simulator: AlexaSimulator,
    amazon_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bridge.app_keys[HUE_KEY] = "home-monitor#test"
    hue_entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=bridge.bridge_id,
        title="Hue Bridge",
        data={
            CONF_SOURCE: SOURCE_HUE,
            CONF_HOST: bridge.host,
            CONF_API_KEY: HUE_KEY,
            CONF_API_VERSION: 2,
        },
    )
    coordinator = await test_health.amazon.setup_entry(hass, amazon_entry)
    hue_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hue_entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)
    secrets = {HUE_KEY, *simulator.secrets}
    assert len(secrets) > 3

    texts: list[str] = []

    async def collect() -> dict[str, object]:
        await async_get_monitor(hass).async_refresh()
        response = await test_health.health_check(hass)
        texts.append(json.dumps(response))
        texts.append(_surfaces(hass))
        for entry in (hue_entry, amazon_entry):
            if entry.state.recoverable and hasattr(entry, "runtime_data"):
                diagnostics = await get_diagnostics_for_config_entry(
                    hass, hass_client, entry
                )
                texts.append(json.dumps(diagnostics))
        return response

    assert (await collect())["status"] == "ok"
    # Amazon throttles, then ends the login; the bridge forgets the key.
    simulator.inject(Fault.TOO_MANY_REQUESTS, times=1)
    await coordinator.async_refresh()
    assert (await collect())["status"] == "degraded"
    simulator.expire_session()
    simulator.revoke_refresh_token()
    await coordinator.async_refresh()
    bridge.revoke_app_key(HUE_KEY)
    await wait_for(
        hass, lambda: len(hass.config_entries.flow.async_progress()) >= 2, within=10
    )
    response = await collect()
    assert response["status"] == "critical"
    codes = {
        component["message"]
        for component in response["components"]  # type: ignore[attr-defined]
        if component["status"] == "critical"
    }
    assert codes == {
        "Amazon no longer accepts the login",
        "The Hue bridge rejected the app key",
    }

    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts.append("\n".join(formatter.format(record) for record in caplog.records))
    everything = "\n".join(texts)
    assert "health" in everything
    leaked = sorted(secret for secret in secrets if secret in everything)
    assert leaked == []
    assert await hass.config_entries.async_unload(hue_entry.entry_id)
