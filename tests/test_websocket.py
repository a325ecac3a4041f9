"""The history card's websocket commands, through Home Assistant's websocket API.

A simulated Hue bridge gives real entities, devices and areas; the store holds
readings written through its own code at fixed times in the past.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, UrlManager
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components import home_monitor
from custom_components.home_monitor.const import DOMAIN
from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.sources.hue.mapping import device_key
from custom_components.home_monitor.store import HistoryReadError
from tests.simulators.hue_bridge import HueBridgeSimulator

from .hue.fixtures import SMALL_HOME

START = datetime(2026, 3, 1, tzinfo=UTC)
OLD = "hue:0017880000ff:old-sensor"


@pytest.fixture
async def bridge(socket_enabled: None) -> AsyncGenerator[HueBridgeSimulator]:
    """Run a simulated bridge whose two sensors are in "Room 1" and "Room 2"."""
    simulator = HueBridgeSimulator(replace(SMALL_HOME, sensors_in_rooms=True))
    await simulator.start()
    yield simulator
    await simulator.stop()


def _key(bridge: HueBridgeSimulator, index: int) -> str:
    return device_key(bridge.bridge_id, bridge.sensor(index).ids["device"])


def _entity(hass: HomeAssistant, key: str, metric: Metric) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{key}_{metric}"
    )
    assert entity_id is not None
    return entity_id


@pytest.fixture
async def readings(
    hass: HomeAssistant, bridge: HueBridgeSimulator, loaded_v2: MockConfigEntry
) -> MockConfigEntry:
    """Write a day of 5-minute temperatures (two hours missing) for the first sensor.

    The second sensor gets a day of hourly temperatures, 10 degrees higher.
    """
    store = loaded_v2.runtime_data.store
    first, second = _key(bridge, 0), _key(bridge, 1)
    store.enqueue(
        Reading(first, Metric.TEMPERATURE, 20 + (i % 12) / 4, "°C", START + i * step)
        for step in [timedelta(minutes=5)]
        for i in range(288)
        if not 120 <= i < 144
    )
    store.enqueue(
        Reading(second, Metric.TEMPERATURE, 30.0 + i % 2, "°C", START + i * step)
        for step in [timedelta(hours=1)]
        for i in range(24)
    )
    # A sensor removed from Home Assistant keeps its history.
    store.upsert_device(DeviceRecord(OLD, "hue", "Old hall sensor", location="Hall"))
    store.enqueue(
        Reading(OLD, Metric.TEMPERATURE, 18.0, "°C", START + i * timedelta(hours=1))
        for i in range(6)
    )
    assert await hass.async_add_executor_job(store.flush, 10)
    return loaded_v2


async def _ask(ws_client: WebSocketGenerator, hass: HomeAssistant, **msg: Any) -> Any:
    client = await ws_client(hass)
    await client.send_json_auto_id(msg)
    return await client.receive_json()


async def test_history_of_an_entity_in_buckets_with_its_gap(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    bridge: HueBridgeSimulator,
    readings: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """A day in 24 hourly buckets: min, mean, max, count; the missing hours stay out."""
    entity_id = _entity(hass, _key(bridge, 0), Metric.TEMPERATURE)
    reply = await _ask(
        hass_ws_client,
        hass,
        type="home_monitor/history",
        entity_ids=[entity_id],
        start=START.isoformat(),
        end=(START + timedelta(days=1)).isoformat(),
        buckets=24,
    )
    assert reply["success"], reply
    result = reply["result"]
    (series,) = result["series"]
    assert series["entity_id"] == entity_id
    assert series["unit"] == "°C"
    assert series["device_class"] == "temperature"
    points = series["points"]
    hours = [(p[0] - result["start"]) // 3_600_000 for p in points]
    assert hours == [h for h in range(24) if h not in (10, 11)]
    assert points[0][1:] == [20.0, 21.375, 22.75, 12]
    assert result == snapshot(exclude=props("device_id", "device_key", "entity_id"))


async def test_history_by_device_area_and_store_key(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    bridge: HueBridgeSimulator,
    readings: MockConfigEntry,
) -> None:
    """Devices and areas give their series (filtered by metric); keys reach the store."""
    first, second = _key(bridge, 0), _key(bridge, 1)
    device = er.async_get(hass).async_get(_entity(hass, first, Metric.TEMPERATURE))
    assert device is not None
    assert device.device_id
    room_2 = ar.async_get(hass).async_get_area_by_name("Room 2")
    assert room_2 is not None
    window = {
        "start": START.isoformat(),
        "end": (START + timedelta(days=1)).isoformat(),
    }
    reply = await _ask(
        hass_ws_client,
        hass,
        type="home_monitor/history",
        device_ids=[device.device_id],
        area_ids=[room_2.id],
        metrics=["temperature"],
        buckets=4,
        **window,
    )
    assert reply["success"], reply
    series = reply["result"]["series"]
    assert [(s["device_key"], s["metric"]) for s in series] == [
        (first, "temperature"),
        (second, "temperature"),
    ]
    assert series[1]["area_name"] == "Room 2"
    assert [p[1:] for p in series[1]["points"]] == [[30.0, 30.5, 31.0, 6]] * 4

    # A device's every measurement without a filter; a key no entity shows.
    reply = await _ask(
        hass_ws_client,
        hass,
        type="home_monitor/history",
        device_ids=[device.device_id],
        series=[
            {"device_key": OLD, "metric": "temperature"},
            {"device_key": "hue:gone:sensor", "metric": "humidity"},
        ],
        **window,
    )
    assert reply["success"], reply
    metrics = {s["metric"] for s in reply["result"]["series"]}
    assert {"temperature", "illuminance", "humidity"} <= metrics
    old, gone = reply["result"]["series"][-2:]
    assert old["entity_id"] is None
    assert old["name"] == "Old hall sensor temperature"
    assert old["area_name"] == "Hall"
    assert old["unit"] == "°C"
    assert len(old["points"]) == 6
    assert gone["entity_id"] is None
    assert gone["name"] == "hue:gone:sensor humidity"
    assert gone["points"] == []


async def test_range_counts_back_from_now(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    bridge: HueBridgeSimulator,
    readings: MockConfigEntry,
) -> None:
    """`range` without `start` ends now; the default is 500 buckets."""
    entity_id = _entity(hass, _key(bridge, 0), Metric.TEMPERATURE)
    reply = await _ask(
        hass_ws_client,
        hass,
        type="home_monitor/history",
        entity_ids=entity_id,
        range="7d",
    )
    assert reply["success"], reply
    result = reply["result"]
    assert result["end"] - result["start"] == 7 * 86_400_000
    assert result["buckets"] == 500
    now = datetime.now(UTC).timestamp() * 1000
    assert abs(result["end"] - now) < 60_000


async def test_a_time_without_zone_is_home_assistants(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    bridge: HueBridgeSimulator,
    readings: MockConfigEntry,
) -> None:
    """`start` and `end` without a zone are in Home Assistant's time zone."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    reply = await _ask(
        hass_ws_client,
        hass,
        type="home_monitor/history",
        entity_ids=[_entity(hass, _key(bridge, 0), Metric.TEMPERATURE)],
        start="2026-03-01T01:00:00",
        end="2026-03-01 02:00",
    )
    assert reply["success"], reply
    assert reply["result"]["start"] == START.timestamp() * 1000
    assert reply["result"]["end"] == START.timestamp() * 1000 + 3_600_000
    assert len(reply["result"]["series"][0]["points"]) == 12


async def test_series_lists_what_can_be_picked(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    bridge: HueBridgeSimulator,
    readings: MockConfigEntry,
) -> None:
    """Every Home Monitor measurement entity, with device, area, unit and span."""
    registry = er.async_get(hass)
    registry.async_get_or_create("sensor", "other", "x_temperature")
    registry.async_get_or_create("sensor", DOMAIN, "no_device_temperature")
    reply = await _ask(hass_ws_client, hass, type="home_monitor/series")
    assert reply["success"], reply
    series = reply["result"]["series"]
    by_entity = {s["entity_id"]: s for s in series}
    temperature = by_entity[_entity(hass, _key(bridge, 0), Metric.TEMPERATURE)]
    assert temperature["area_name"] == "Room 1"
    assert temperature["unit"] == "°C"
    assert temperature["device_class"] == "temperature"
    assert temperature["device_name"] == "Motion sensor 1"
    assert temperature["first_at"] == START.timestamp() * 1000
    assert temperature["count"] >= 264
    assert {s["metric"] for s in series} >= {"temperature", "illuminance", "motion"}
    # The store's series no entity shows come last, by key.
    (old,) = [s for s in series if s["entity_id"] is None]
    assert series[-1] == old
    assert old["device_key"] == OLD
    assert old["device_name"] == "Old hall sensor"
    assert old["count"] == 6
    assert all(s["device_id"] for s in series[:-1])
    # Neither another integration's entity, nor one without a device, nor a health entity.
    assert len(series) == len({(s["device_key"], s["metric"]) for s in series})
    assert not any(s["metric"] in {"health", "x"} for s in series)
    assert "sensor.home_monitor_no_device_temperature" not in by_entity


@pytest.mark.parametrize(
    ("msg", "code", "key"),
    [
        ({"entity_ids": ["sensor.not_ours"]}, "unknown_series", "unknown_series"),
        ({"device_ids": ["nope"]}, "unknown_series", "unknown_series"),
        ({}, "unknown_series", "no_series"),
        (
            {
                "series": [
                    {"device_key": f"hue:x:{i}", "metric": "temperature"}
                    for i in range(25)
                ]
            },
            "too_many_series",
            "too_many_series",
        ),
        (
            {
                "series": [{"device_key": "k", "metric": "temperature"}],
                "start": "2026-03-02T00:00:00+00:00",
                "end": "2026-03-01T00:00:00+00:00",
            },
            "invalid_range",
            "invalid_time_range",
        ),
        ({"entity_ids": ["sensor.x"], "buckets": 1001}, "invalid_format", None),
        ({"entity_ids": ["sensor.x"], "range": "2y"}, "invalid_format", None),
        ({"entity_ids": ["sensor.x"], "start": "soon"}, "invalid_format", None),
    ],
)
async def test_history_errors(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    *,
    loaded_v2: MockConfigEntry,
    msg: dict[str, Any],
    code: str,
    key: str | None,
) -> None:
    """Asks the store cannot answer get a clear code and a translated message."""
    reply = await _ask(hass_ws_client, hass, type="home_monitor/history", **msg)
    assert not reply["success"]
    assert reply["error"]["code"] == code
    if key is not None:
        assert reply["error"]["translation_key"] == key
        assert reply["error"]["translation_domain"] == DOMAIN


async def test_store_failures_and_no_store(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    bridge: HueBridgeSimulator,
    loaded_v2: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failing read is `history_unavailable`; with no entry loaded, `not_loaded`."""
    store = loaded_v2.runtime_data.store

    def fail(*args: Any) -> None:
        raise HistoryReadError("disk I/O error")

    monkeypatch.setattr(store, "downsample", fail)
    monkeypatch.setattr(store, "list_series", fail)
    entity_id = _entity(hass, _key(bridge, 0), Metric.TEMPERATURE)
    client = await hass_ws_client(hass)
    for msg in (
        {"type": "home_monitor/history", "entity_ids": [entity_id]},
        {"type": "home_monitor/series"},
    ):
        await client.send_json_auto_id(msg)
        reply = await client.receive_json()
        assert reply["error"]["code"] == "history_unavailable"
        assert reply["error"]["translation_placeholders"] == {"error": "disk I/O error"}

    assert await hass.config_entries.async_unload(loaded_v2.entry_id)
    for msg in (
        {"type": "home_monitor/history", "entity_ids": [entity_id]},
        {"type": "home_monitor/series"},
    ):
        await client.send_json_auto_id(msg)
        reply = await client.receive_json()
        assert reply["error"]["code"] == "not_loaded"
        assert reply["error"]["translation_key"] == "store_not_open"


async def test_card_is_served_and_loaded_by_the_frontend(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """With the frontend, the card's module is served and added to every dashboard."""
    assert await async_setup_component(hass, "http", {})
    # The frontend itself needs its build; its module list is what the card joins.
    hass.config.components.add("frontend")
    hass.data[DATA_EXTRA_MODULE_URL] = UrlManager(lambda *args: None, [])
    assert await async_setup_component(hass, DOMAIN, {})
    (url,) = hass.data[DATA_EXTRA_MODULE_URL].urls
    assert url.startswith("/home_monitor/frontend/home-monitor-history-card.js?v=0.1.")
    client = await hass_client()
    response = await client.get(url)
    assert response.status == HTTPStatus.OK
    text = await response.text()
    assert "customElements.define(CARD, HomeMonitorHistoryCard)" in text
    assert "window.customCards" in text


async def test_card_needs_the_frontend(hass: HomeAssistant) -> None:
    """Without the frontend there is nothing to register."""
    assert await home_monitor.async_register_card(hass) is None
