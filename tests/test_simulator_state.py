"""The simulators of script/develop: a state file that survives a restart, and script/fault.

Through the real libraries: aiohue for the bridge, the integration's Amazon client (over
aioamazondevices' login data) for the Amazon account.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import os
from pathlib import Path
import signal
import stat
import sys

import aiohttp
from aiohue import HueBridgeV1, LinkButtonNotPressed, Unauthorized, create_app_key
import pytest

from custom_components.home_monitor.sources.amazon import (
    AmazonAuthError,
    AmazonRateLimitError,
)
from custom_components.home_monitor.sources.amazon.auth import (
    AmazonCredentials,
    stored_login_data,
)
from custom_components.home_monitor.sources.amazon.client import (
    AmazonClient,
    AmazonHttp,
    simulator_session,
    state_request,
)
from tests.simulators import alexa, hue_bridge
from tests.simulators.alexa import AlexaSimulator
from tests.simulators.alexa_tls import server_ssl_context
from tests.simulators.hue_bridge import HomeSpec, HueBridgeSimulator
from tests.simulators.persist import ControlServer, StateFile

SPEC = HomeSpec(lights=2, motion_sensors=2, rooms=1, scenes=1, rules=1)
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module", autouse=True)
def _tls_context() -> None:
    """Build the Amazon simulator's certificate outside any event loop."""
    server_ssl_context()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """Return a plain HTTP session for aiohue and the control port."""
    async with aiohttp.ClientSession() as http:
        yield http


async def hue_sensor_ids(
    session: aiohttp.ClientSession, bridge: HueBridgeSimulator, key: str
) -> list[str]:
    """Read the bridge's sensors through aiohue (raises Unauthorized for a bad key)."""
    hue = HueBridgeV1(bridge.host, key, session)
    await hue.initialize()
    return sorted(sensor.uniqueid or "" for sensor in hue.sensors.values())


async def control(
    session: aiohttp.ClientSession, server: ControlServer, name: str
) -> str:
    """Run one script/fault command over HTTP."""
    async with session.post(f"http://127.0.0.1:{server.port}/{name}") as response:
        assert response.status == 200
        return await response.text()


async def restarted_bridge(
    bridge: HueBridgeSimulator, path: Path
) -> HueBridgeSimulator:
    """Save `bridge` to `path`, stop it and start the one the file describes."""
    assert StateFile(path).save(bridge.snapshot)
    await bridge.stop()
    saved = StateFile(path).load()
    assert saved is not None
    restarted = HueBridgeSimulator.restore(saved)
    await restarted.start()
    return restarted


async def test_a_restarted_bridge_keeps_its_app_key_and_home(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    bridge = HueBridgeSimulator(SPEC)
    await bridge.start()
    bridge.link_button = True
    key = await create_app_key(bridge.host, "home_monitor#test", session)
    bridge.set_value(1, "temperature", 23.25)
    bridge.advance(600)
    sensors = await hue_sensor_ids(session, bridge, key)
    clock = bridge.home.clock.now

    restarted = await restarted_bridge(bridge, tmp_path / "hue.json")
    fresh = HueBridgeSimulator(SPEC)
    await fresh.start()
    try:
        assert await hue_sensor_ids(session, restarted, key) == sensors
        assert restarted.bridge_id == bridge.bridge_id
        assert restarted.sensor(1).temperature == 23.25
        assert restarted.home.clock.now == clock
        # New resources get new ids, as on the bridge before the restart.
        assert restarted.home.uuid() == bridge.home.uuid()
        # A factory-fresh bridge does not know the key.
        with pytest.raises(Unauthorized):
            await hue_sensor_ids(session, fresh, key)
    finally:
        await restarted.stop()
        await fresh.stop()


async def test_hue_fault_commands(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    bridge = HueBridgeSimulator(SPEC)
    await bridge.start()
    key = bridge.add_app_key("home_monitor#test")
    server = ControlServer(hue_bridge.control_commands(bridge))
    await server.start()
    try:
        assert await hue_sensor_ids(session, bridge, key)
        await control(session, server, "down")
        with pytest.raises(aiohttp.ClientConnectionError):
            await hue_sensor_ids(session, bridge, key)
        await control(session, server, "down")  # twice: still down
        await control(session, server, "up")
        assert await hue_sensor_ids(session, bridge, key)

        assert "revoked 1 app key" in await control(session, server, "revoke-key")
        with pytest.raises(Unauthorized):
            await hue_sensor_ids(session, bridge, key)
        with pytest.raises(LinkButtonNotPressed):
            await create_app_key(bridge.host, "home_monitor#test", session)
        await control(session, server, "link")
        new_key = await create_app_key(bridge.host, "home_monitor#test", session)
        assert await hue_sensor_ids(session, bridge, new_key)

        async with session.post(f"http://127.0.0.1:{server.port}/melt") as response:
            assert response.status == 404
        async with session.get(f"http://127.0.0.1:{server.port}/") as response:
            assert (await response.text()).split() == [
                "down",
                "link",
                "revoke-key",
                "up",
            ]
    finally:
        await server.stop()
        await bridge.stop()


def amazon_client(
    simulator: AlexaSimulator, credentials: AmazonCredentials
) -> AmazonClient:
    """Return the integration's client of `simulator`'s account."""
    http = AmazonHttp(
        simulator_session("127.0.0.1", simulator.port), owns_connector=True
    )
    return AmazonClient(http, credentials, timeout=2.0)


async def test_a_restarted_amazon_account_keeps_its_session(
    socket_enabled: None, tmp_path: Path
) -> None:
    simulator = AlexaSimulator(stall=1.0)
    simulator.add_monitor("Living room", fahrenheit=True)
    simulator.add_echo()
    await simulator.start()
    credentials = AmazonCredentials(stored_login_data(simulator.login_data()))
    simulator.advance(7)
    path = tmp_path / "simulators" / "amazon.json"
    assert StateFile(path).save(simulator.snapshot)
    await simulator.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    saved = StateFile(path).load()
    assert saved is not None
    restarted = AlexaSimulator.restore(saved, stall=1.0)
    await restarted.start()
    fresh = AlexaSimulator(stall=1.0)
    fresh.add_monitor("Living room", fahrenheit=True)
    await fresh.start()
    client = amazon_client(restarted, credentials)
    fresh_client = amazon_client(fresh, credentials)
    try:
        assert await client.async_graphql(state_request(["x"]))
        # The refresh token is still the account's: new cookies, and they work.
        renewed = await client.async_refresh_session()
        assert renewed.cookies != credentials.cookies
        assert await client.async_graphql(state_request(["x"]))
        assert restarted.state.sample == 7
        assert restarted.state.app_serials == simulator.state.app_serials
        assert restarted.monitor("GAJ23SIM000000").fahrenheit
        # A factory-fresh account knows neither the cookies nor the refresh token.
        with pytest.raises(aiohttp.ClientResponseError):
            await fresh_client.async_graphql(state_request(["x"]))
        with pytest.raises(AmazonAuthError):
            await fresh_client.async_refresh_session()
    finally:
        await client.async_close()
        await fresh_client.async_close()
        await restarted.close()
        await fresh.close()


async def test_amazon_fault_commands(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    simulator = AlexaSimulator(stall=1.0)
    simulator.add_monitor()
    await simulator.start()
    client = amazon_client(
        simulator, AmazonCredentials(stored_login_data(simulator.login_data()))
    )
    server = ControlServer(alexa.control_commands(simulator))
    await server.start()
    try:
        await control(session, server, "rate-limit")
        await control(session, server, "rate-limit")  # twice: one rate limit
        assert len(simulator.state.faults) == 1
        for _ in range(3):
            with pytest.raises(AmazonRateLimitError):
                await client.async_graphql(state_request(["x"]))
        assert "cleared 1" in await control(session, server, "clear")
        assert await client.async_graphql(state_request(["x"]))

        await control(session, server, "expire-login")
        with pytest.raises(aiohttp.ClientResponseError) as caught:
            await client.async_graphql(state_request(["x"]))
        assert caught.value.status == 401
        with pytest.raises(AmazonAuthError):
            await client.async_refresh_session()
    finally:
        await client.async_close()
        await server.stop()
        await simulator.close()


async def test_state_file_is_written_only_on_change_and_at_the_end(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.json"
    state = {"keys": ["a"]}
    file = StateFile(path)
    assert file.load() is None
    task = asyncio.create_task(file.keep_saved(lambda: state, interval=0.01))
    await asyncio.sleep(0.05)
    assert json.loads(path.read_text()) == {"version": 1, "keys": ["a"]}
    mtime = path.stat().st_mtime_ns
    await asyncio.sleep(0.05)
    assert path.stat().st_mtime_ns == mtime
    state = {"keys": ["a", "b"]}
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert StateFile(path).load() == {"version": 1, "keys": ["a", "b"]}
    path.write_text('{"version": 0}')
    with pytest.raises(ValueError, match="not a simulator state"):
        StateFile(path).load()


async def test_bridge_process_saves_at_sigterm_and_restarts_with_its_keys(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """`python -m tests.simulators.hue_bridge --state`: what script/develop starts."""
    state = tmp_path / "hue.json"

    async def run_bridge() -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.simulators.hue_bridge",
            "--state",
            str(state),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert " on 127.0.0.1:" in line, line
        return process, line.split(" on ")[1].split(",")[0]

    process, host = await run_bridge()
    try:
        key = await create_app_key(host, "home_monitor#test", session)
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    assert key in json.loads(state.read_text())["app_keys"]

    process, host = await run_bridge()
    try:
        hue = HueBridgeV1(host, key, session)
        await hue.initialize()
        assert hue.sensors
        # Not factory fresh: the link button is not pressed.
        with pytest.raises(LinkButtonNotPressed):
            await create_app_key(host, "home_monitor#other", session)
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
