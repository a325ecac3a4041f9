"""Give the simulated home a past: simulator state files and a history file to match.

Run before Home Assistant starts (`python -m tests.browser.seed CONFIG HUE_STATE
AMAZON_STATE DAYS`): writes the Hue bridge's and the Amazon account's state
files (the simulators start from them, so their ids are the ones seeded), then
fills `CONFIG/home_monitor/history.db` through the store's own code with `DAYS`
days of readings of both Hue sensors' temperature and the first monitor's PM2.5
and humidity: every 10 minutes over the last 15 days and around the same days
a year earlier, hourly otherwise, with two days missing, as a sensor whose
battery ran out would leave them. A year ago the rooms were cooler and dustier
(old windows), so a comparison with a year earlier shows two lines. An old hall
sensor, replaced three days ago and so no longer in Home Assistant, left its
temperatures up to then.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import math
from pathlib import Path
import random
import sys

from custom_components.home_monitor.const import STORE_DIRECTORY, STORE_FILENAME
from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.sources.amazon.parsing import (
    device_key as amazon_key,
)
from custom_components.home_monitor.sources.hue.mapping import device_key as hue_key
from custom_components.home_monitor.store import HistoryStore, StoreSettings
from tests.simulators.alexa import AlexaSimulator
from tests.simulators.hue_bridge import HueBridgeSimulator
from tests.simulators.hue_home import HomeSpec
from tests.simulators.persist import StateFile

# As `python -m tests.simulators.hue_bridge` and `... .alexa` build them.
HUE_HOME = HomeSpec(lights=10, motion_sensors=3, scenes=8, rules=4)
MONITORS = 2
DENSE = timedelta(minutes=10)
SPARSE = timedelta(hours=1)


def times(now: datetime, days: int) -> Iterator[datetime]:
    """Every 10 minutes near now and a year earlier, hourly otherwise; a gap."""
    start = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    year_ago = now - timedelta(days=365)
    gap = (now - timedelta(days=40), now - timedelta(days=38))
    moment = start
    while moment < now:
        recent = now - moment < timedelta(days=15)
        dense = recent or timedelta(days=-2) < year_ago - moment < timedelta(days=15)
        if not gap[0] <= moment < gap[1]:
            yield moment
        moment += DENSE if dense else SPARSE


def before_new_windows(moment: datetime) -> float:
    """Return 1 a year ago, 0 ten months ago and since: the windows were replaced."""
    age = (datetime.now(UTC) - moment).days
    return min(1.0, max(0.0, (age - 300) / 65))


def indoor_temperature(moment: datetime, offset: float, noise: random.Random) -> float:
    """Cooler in winter (and before the new windows), warmer in the afternoon."""
    offset -= 1.6 * before_new_windows(moment)
    day = moment.timetuple().tm_yday
    season = -2.5 * math.cos(2 * math.pi * (day - 20) / 365)
    hour = moment.hour + moment.minute / 60
    daily = 1.2 * math.sin(2 * math.pi * (hour - 9) / 24)
    return round(21 + offset + season + daily + noise.gauss(0, 0.15), 2)


def pm25(moment: datetime, noise: random.Random) -> float:
    """Return a low baseline, higher in winter and before the new windows, dinner's peak."""
    day = moment.timetuple().tm_yday
    winter = 3 * math.cos(2 * math.pi * (day - 20) / 365) + 4 * before_new_windows(
        moment
    )
    hour = moment.hour + moment.minute / 60
    cooking = 18 * math.exp(-((hour - 19) ** 2) / 0.8)
    return round(max(1.0, 7 + winter + cooking + noise.gauss(0, 1.2)), 1)


def humidity(moment: datetime, noise: random.Random) -> float:
    """Drier in winter."""
    day = moment.timetuple().tm_yday
    return round(
        48 - 8 * math.cos(2 * math.pi * (day - 20) / 365) + noise.gauss(0, 1), 1
    )


def write_states(hue_state: Path, amazon_state: Path) -> tuple[list[str], list[str]]:
    """Write both simulators' state files; return the Hue and Amazon device keys."""
    bridge = HueBridgeSimulator(HUE_HOME)
    StateFile(hue_state).save(bridge.snapshot)
    amazon = AlexaSimulator()
    for _ in range(MONITORS):
        amazon.add_monitor()
    amazon.add_echo()
    StateFile(amazon_state).save(amazon.snapshot)
    # The integration keys a monitor by the account's user id.
    customer = amazon.state.account.user_id
    return (
        [hue_key(bridge.bridge_id, s.ids["device"]) for s in bridge.home.sensors],
        [amazon_key(customer, m.serial) for m in amazon.state.monitors],
    )


def main(config: Path, hue_state: Path, amazon_state: Path, days: int) -> None:
    """Write the state files, then the history."""
    hue, amazon = write_states(hue_state, amazon_state)
    # A sensor replaced three days ago: its device is gone from Home Assistant, its history
    # stays in the store.
    retired = hue[0].rsplit(":", 1)[0] + ":retired-hall-sensor"
    now = datetime.now(UTC)
    noise = random.Random(7)
    store = HistoryStore(config / STORE_DIRECTORY / STORE_FILENAME, StoreSettings())
    store.open()
    try:
        for index, key in enumerate(hue[:2]):
            store.upsert_device(DeviceRecord(key, "hue", f"Motion sensor {index + 1}"))
        store.upsert_device(DeviceRecord(amazon[0], "amazon", "Air Quality Monitor 1"))
        store.upsert_device(
            DeviceRecord(retired, "hue", "Old hall sensor", location="Hall")
        )
        moments = list(times(now, days))
        for index, key in enumerate(hue[:2]):
            offset = -1.5 * index
            store.enqueue(
                Reading(
                    key,
                    Metric.TEMPERATURE,
                    indoor_temperature(t, offset, noise),
                    "°C",
                    t,
                )
                for t in moments
            )
        store.enqueue(
            Reading(
                retired, Metric.TEMPERATURE, indoor_temperature(t, 1, noise), "°C", t
            )
            for t in moments
            if now - t > timedelta(days=3)
        )
        store.enqueue(
            Reading(amazon[0], Metric.PM25, pm25(t, noise), "µg/m³", t) for t in moments
        )
        store.enqueue(
            Reading(amazon[0], Metric.HUMIDITY, humidity(t, noise), "%", t)
            for t in moments
        )
        if not store.flush(120):
            raise SystemExit("seed: the history store did not take the readings")
    finally:
        store.close(60)
    print(f"seed: {len(moments)} readings per series over {days} days", flush=True)  # noqa: T201


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
