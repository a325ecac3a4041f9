"""The checked event stream: what reaches the coordinator, what aiohue's keep-alive gets."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohue.v2.controllers.events import EventType
import pytest

from custom_components.home_monitor.sources.hue.client import CheckedBridgeV2

CLIENT = {"id": "g1", "type": "geofence_client", "name": "aiohue_abc"}


@pytest.fixture
def taken() -> list[tuple[EventType, dict[str, Any]]]:
    return []


@pytest.fixture
async def bridge(taken: list[tuple[EventType, dict[str, Any]]]) -> CheckedBridgeV2:
    # No request is made: lines are handed to the stream's parser directly.
    return CheckedBridgeV2(
        "127.0.0.1",
        "key",
        None,  # type: ignore[arg-type]
        name="bridge-1",
        on_resource=lambda event_type, item: taken.append((event_type, item)),
        on_ended=lambda _: None,
    )


def line(bridge: CheckedBridgeV2, raw: bytes) -> None:
    bridge.events._EventStream__parse_message(raw)


def data(kind: str, *items: Any) -> bytes:
    return f"data: {json.dumps([{'type': kind, 'data': list(items)}])}\n".encode()


async def test_resources_reach_the_coordinator_as_sent(
    bridge: CheckedBridgeV2, taken: list[tuple[EventType, dict[str, Any]]]
) -> None:
    item = {"id": "t1", "type": "temperature", "temperature": {"temperature": True}}
    line(bridge, b"id: 1700000000:7\n")
    line(bridge, b": a comment\n")
    line(bridge, b"\n")
    line(bridge, data("update", item))
    assert taken == [(EventType.RESOURCE_UPDATED, item)]
    assert bridge.events._last_event_id == " 1700000000:7"
    assert bridge.events.malformed_events == 0


async def test_keepalive_clients_go_to_aiohue_when_it_can_take_them(
    bridge: CheckedBridgeV2,
    taken: list[tuple[EventType, dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await bridge.load_keepalive_clients(
        [CLIENT, {"id": "g2", "type": "geofence_client"}]
    )
    controller = bridge.sensors.geofence_client
    assert [client.id for client in controller] == ["g1"]
    line(bridge, data("add", {"id": "g3", "type": "geofence_client", "name": 5}))
    line(bridge, data("update", {**CLIENT, "name": "aiohue_xyz"}))
    await bridge.events.stop()
    assert not taken
    assert bridge.events.malformed_events == 1
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(
    "raw",
    [
        b"data: \xff\xfe\n",
        b"data: [{not json\n",
        b'data: {"type": "update", "data": []}\n',
        b'data: [{"type": "update"}]\n',
        b'data: [{"type": "rename", "data": []}]\n',
        b'data: [{"type": "update", "data": [{"id": 5, "type": "motion"}]}]\n',
        b'data: [{"type": "update", "data": ["motion"]}]\n',
    ],
)
async def test_a_malformed_line_is_dropped_counted_and_reported_once(
    bridge: CheckedBridgeV2,
    taken: list[tuple[EventType, dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
    raw: bytes,
) -> None:
    line(bridge, raw)
    line(bridge, raw)
    assert not taken
    assert bridge.events.malformed_events == 2
    reported = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(reported) == 1
    assert "Ignored 1 malformed event(s)" in reported[0].getMessage()
    assert "bridge-1" in reported[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]
