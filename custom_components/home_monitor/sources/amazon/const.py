"""Constants of the Amazon air-quality monitor source."""

from datetime import timedelta
from typing import Final

from homeassistant.const import PERCENTAGE, UnitOfTemperature

from ...const import MICROGRAMS_PER_CUBIC_METER, PARTS_PER_MILLION
from ...models import Metric

# Entry data.
CONF_LOGIN_DATA: Final = "login_data"
CONF_CODE: Final = "code"

# Options.

DEFAULT_POLL_INTERVAL: Final = 300
MIN_POLL_INTERVAL: Final = 60
MAX_POLL_INTERVAL: Final = 3600
# Amazon throttles unofficial clients; below this the options form warns.
SHORT_POLL_WARNING: Final = 120

# The account's monitors are looked up again after this long.
DISCOVERY_INTERVAL: Final = timedelta(days=1)
# ... or sooner, once, when a monitor stops answering, but not more often than this.
REDISCOVERY_MIN_INTERVAL: Final = timedelta(hours=1)
# One request's time budget, in seconds.
REQUEST_TIMEOUT: Final = 20.0

# Amazon's device type of the Smart Air Quality Monitor.
AQM_DEVICE_TYPE: Final = "AEZME1X38KDRA"
AQM_MODEL: Final = "Smart Air Quality Monitor"
MANUFACTURER: Final = "Amazon"

# HA fires this (with the entry id and account, never a credential) when a login expires.
EVENT_LOGIN_EXPIRED: Final = "home_monitor_login_expired"
ISSUE_LOGIN_EXPIRED: Final = "amazon_login_expired"

# Range controller instance -> measurement, as Amazon numbers them on most accounts.
INSTANCE_METRICS: Final[dict[str, Metric]] = {
    "4": Metric.HUMIDITY,
    "5": Metric.VOC_INDEX,
    "6": Metric.PM25,
    "7": Metric.PM10,
    "8": Metric.CO,
    "9": Metric.AIR_QUALITY,
}

# Friendly names and asset ids of the ranges, for accounts numbered differently.
LABEL_METRICS: Final[dict[str, Metric]] = {
    "indoor humidity": Metric.HUMIDITY,
    "humidity": Metric.HUMIDITY,
    "alexa.airquality.humidity": Metric.HUMIDITY,
    "volatile organic compounds": Metric.VOC_INDEX,
    "voc": Metric.VOC_INDEX,
    "voc index": Metric.VOC_INDEX,
    "alexa.airquality.volatileorganiccompounds": Metric.VOC_INDEX,
    "particulate matter": Metric.PM25,
    "pm2.5": Metric.PM25,
    "pm25": Metric.PM25,
    "alexa.airquality.particulatematter": Metric.PM25,
    "particulate matter pm10": Metric.PM10,
    "pm10": Metric.PM10,
    "alexa.airquality.particulatematter10": Metric.PM10,
    "carbon monoxide": Metric.CO,
    "co": Metric.CO,
    "alexa.airquality.carbonmonoxide": Metric.CO,
    "indoor air quality": Metric.AIR_QUALITY,
    "air quality": Metric.AIR_QUALITY,
    "alexa.airquality.indoorairquality": Metric.AIR_QUALITY,
}

# What every monitor measures, when Amazon does not list its features.
MONITOR_METRICS: Final = frozenset(
    {*INSTANCE_METRICS.values(), Metric.TEMPERATURE, Metric.CONNECTIVITY}
)

UNITS: Final[dict[Metric, str | None]] = {
    Metric.TEMPERATURE: UnitOfTemperature.CELSIUS,
    Metric.HUMIDITY: PERCENTAGE,
    Metric.VOC_INDEX: None,
    Metric.PM25: MICROGRAMS_PER_CUBIC_METER,
    Metric.PM10: MICROGRAMS_PER_CUBIC_METER,
    Metric.CO: PARTS_PER_MILLION,
    Metric.AIR_QUALITY: None,
    Metric.CONNECTIVITY: None,
}
