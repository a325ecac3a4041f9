"""The simulated push channel (AVS directive stream) with aioamazondevices 17.x's client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from aioamazondevices import AmazonEchoApi
import httpx
import pytest

from custom_components.home_monitor.sources.amazon.client import simulator_session
from tests.simulators.alexa import AlexaSimulator
from tests.simulators.alexa_push import DIRECTIVES, AvsPushServer

pytestmark = pytest.mark.skipif(
    int(version("aioamazondevices").split(".", 1)[0]) < 17,
    reason="push came with aioamazondevices 17",
)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError


async def test_pushed_values_reach_the_library(
    simulator: AlexaSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aioamazondevices.implementation import http2
    from aioamazondevices.structures import AmazonSaveDataConfig

    push = AvsPushServer(simulator.state)
    await push.start()
    monkeypatch.setattr(http2, "HTTP2_SITE", f"https://127.0.0.1:{push.port}")
    session = simulator_session("127.0.0.1", simulator.port)
    client = httpx.AsyncClient(http2=True, verify=False, timeout=None)  # noqa: S113, S501
    updates: list[None] = []

    async def on_update() -> None:
        updates.append(None)

    account = simulator.state.account
    api = AmazonEchoApi(
        session,
        account.email,
        account.password,
        save_data=AmazonSaveDataConfig(path=tmp_path),
        login_data=simulator.login_data(),
    )
    try:
        await api.login.login_mode_stored_data()
        await api.get_devices_data()
        api.on_sensor_event.append(on_update)
        api.on_sensor_event.freeze()
        await api.start_http2_processing(client)
        await _until(lambda: push.open_streams == 1)
        monitor = simulator.state.monitors[0]
        simulator.advance()
        push.push_state(monitor)
        await _until(lambda: len(updates) == 1)
        serial_sensors = api.sensors[monitor.serial]
        temperature = next(s for s in serial_sensors.values() if s.scale == "CELSIUS")
        assert (
            temperature.value == monitor.values(simulator.state.sample)["temperature"]
        )
        # One stream, opened with the access token the simulator issued.
        assert push.requests[DIRECTIVES] == 1
    finally:
        await api.stop_http2_processing()
        await client.aclose()
        await session.close()
        await push.close()
