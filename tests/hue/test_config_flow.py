"""Config flow for Hue bridges, against the simulated bridge through aiohue."""

from __future__ import annotations

from ipaddress import ip_address

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import (
    CONF_POLL_INTERVAL,
    CONF_SOURCE,
    DOMAIN,
    SOURCE_HUE,
)
from custom_components.home_monitor.sources.hue import CONF_API_VERSION
from tests.simulators.hue_bridge import HomeSpec, HueBridgeSimulator

from .fixtures import make_entry, wait_for


def zeroconf_info(bridge: HueBridgeSimulator) -> ZeroconfServiceInfo:
    port = int(bridge.host.rsplit(":", 1)[1])
    return ZeroconfServiceInfo(
        ip_address=ip_address("127.0.0.1"),
        ip_addresses=[ip_address("127.0.0.1")],
        hostname="Philips-hue.local.",
        name="Hue Bridge - 65B1._hue._tcp.local.",
        port=port,
        type="_hue._tcp.local.",
        properties={"bridgeid": bridge.home.bridge_id.upper(), "modelid": "BSB002"},
    )


async def start_hue_flow(hass: HomeAssistant) -> dict:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_HUE}
    )


async def unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)


async def test_manual_host_button_not_pressed_then_pressed(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    result = await start_hue_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hue_manual"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: bridge.host}
    )
    assert result["step_id"] == "hue_link"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "link_button_not_pressed"}
    assert not bridge.app_keys

    bridge.link_button = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Hue Bridge {bridge.bridge_id}"
    assert result["result"].unique_id == bridge.bridge_id
    assert result["data"] == {
        CONF_SOURCE: SOURCE_HUE,
        CONF_HOST: bridge.host,
        CONF_API_KEY: next(iter(bridge.app_keys)),
        CONF_API_VERSION: 2,
    }
    assert next(iter(bridge.app_keys.values())).startswith("home-monitor#")
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    await unload_all(hass)


async def test_manual_host_unreachable(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    result = await start_hue_flow(hass)
    await bridge.go_down()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: bridge.host}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    await bridge.come_up()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: bridge.host}
    )
    assert result["step_id"] == "hue_link"


async def test_zeroconf_discovery_pairs(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(bridge)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hue_link"
    assert result["description_placeholders"] == {"host": bridge.host}
    bridge.link_button = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == bridge.bridge_id
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_zeroconf_ipv6_and_wrong_bridge_abort(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    info = zeroconf_info(bridge)
    info.ip_address = ip_address("fe80::1")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    assert result["reason"] == "invalid_host"
    info = zeroconf_info(bridge)
    info.properties["bridgeid"] = "001788FFFE000000"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    assert result["reason"] == "cannot_connect"


async def test_duplicate_bridge_aborts_and_updates_host(
    hass: HomeAssistant, bridge: HueBridgeSimulator, app_key: str
) -> None:
    entry = make_entry(bridge, app_key, 2)
    entry.add_to_hass(hass)
    result = await start_hue_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: bridge.host}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_HOST: "127.0.0.1:1"}
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(bridge)
    )
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == bridge.host


async def test_reuse_of_hue_integration_key(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    hue_key = bridge.add_app_key("home-assistant#home")
    MockConfigEntry(
        domain="hue",
        unique_id=bridge.bridge_id,
        title="Hue Bridge",
        data={CONF_HOST: bridge.host, CONF_API_KEY: hue_key, CONF_API_VERSION: 2},
    ).add_to_hass(hass)
    result = await start_hue_flow(hass)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["hue_reuse", "hue_manual"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "hue_reuse"}
    )
    assert result["step_id"] == "hue_reuse"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"bridge": bridge.bridge_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == hue_key
    assert "/api" not in bridge.paths("POST")  # no pairing, no button press
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_reuse_offered_on_discovery_falls_back_to_link(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    MockConfigEntry(
        domain="hue",
        unique_id=bridge.bridge_id,
        data={CONF_HOST: bridge.host, CONF_API_KEY: "revoked", CONF_API_VERSION: 2},
    ).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(bridge)
    )
    assert result["step_id"] == "hue_reuse_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "hue_link"  # the key was rejected: pair instead


async def test_reuse_without_candidates_aborts(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_HUE}
    )
    assert result["step_id"] == "hue_manual"


async def test_reconfigure_to_new_host(
    hass: HomeAssistant, bridge: HueBridgeSimulator, app_key: str
) -> None:
    entry = make_entry(bridge, app_key, 2)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_HOST: "127.0.0.1:1"}
    )
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "hue_reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1:1"}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    other = HueBridgeSimulator(HomeSpec(seed=7))
    await other.start()
    try:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: other.host}
        )
        assert result["reason"] == "wrong_bridge"
    finally:
        await other.stop()

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: bridge.host}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == bridge.host
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_revoked_key_starts_reauth_and_pairing_again_fixes_it(
    hass: HomeAssistant, bridge: HueBridgeSimulator, app_key: str
) -> None:
    entry = make_entry(bridge, app_key, 2)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(hass, lambda: bridge.events.open_streams == 1)

    bridge.revoke_app_key(app_key)
    await wait_for(
        hass,
        lambda: any(
            f["context"]["source"] == "reauth"
            for f in hass.config_entries.flow.async_progress()
        ),
        within=10,
    )
    flow = next(
        f
        for f in hass.config_entries.flow.async_progress()
        if f["context"]["source"] == "reauth"
    )
    assert flow["step_id"] == "hue_link"
    state = hass.states.get("sensor.motion_sensor_1_temperature")
    assert state is not None
    assert state.state == "unavailable"

    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["errors"] == {"base": "link_button_not_pressed"}
    bridge.link_button = True
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["reason"] == "reauth_successful"
    new_key = next(iter(bridge.app_keys))
    assert entry.data[CONF_API_KEY] == new_key != app_key
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await wait_for(
        hass,
        lambda: hass.states.get("sensor.motion_sensor_1_temperature").state == "19.0",
    )
    await unload_all(hass)


async def test_options_poll_interval(
    hass: HomeAssistant, bridge: HueBridgeSimulator, v1_entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_setup(v1_entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(v1_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_POLL_INTERVAL: 3, "history": {"size_budget_mb": 100}}
    )
    assert result["errors"] == {"base": "hue_poll_interval_short"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_POLL_INTERVAL: 3, "history": {"size_budget_mb": 100}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert v1_entry.runtime_data.coordinator.update_interval.total_seconds() == 3
    await unload_all(hass)


async def test_reuse_of_v1_bridge_and_unreachable_bridge(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    bridge.supports_v2 = False
    hue_key = bridge.add_app_key("home-assistant#home")
    MockConfigEntry(domain="hue", unique_id="incomplete", data={}).add_to_hass(hass)
    MockConfigEntry(
        domain="hue",
        unique_id=bridge.bridge_id,
        title="Hue Bridge",
        data={CONF_HOST: bridge.host, CONF_API_KEY: hue_key, CONF_API_VERSION: 1},
    ).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(bridge)
    )
    assert result["step_id"] == "hue_reuse_confirm"
    await bridge.go_down()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "cannot_connect"}
    await bridge.come_up()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_VERSION] == 1
    assert result["data"][CONF_API_KEY] == hue_key
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_reuse_step_without_candidates_and_link_unreachable(
    hass: HomeAssistant, bridge: HueBridgeSimulator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_HUE}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: bridge.host}
    )
    assert result["step_id"] == "hue_link"
    await bridge.go_down()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "cannot_connect"}
    await bridge.come_up()

    flow = hass.config_entries.flow._progress[result["flow_id"]]
    assert (await flow.async_step_hue_reuse())["reason"] == "no_reusable_bridge"
