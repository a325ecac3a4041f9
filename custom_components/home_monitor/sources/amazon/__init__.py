"""The Amazon Smart Air Quality Monitor source (through the Alexa cloud).

aioamazondevices signs in (`auth`); after that the source's own lean client
(`client`) reads every monitor with one batched GraphQL request per poll,
`parsing` turns the replies into devices and readings, and the coordinator
(`coordinator`) handles failures, login expiry and the history store.
This module holds the source's constants, its errors and its factory.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.const import PERCENTAGE, UnitOfTemperature
from homeassistant.core import HomeAssistant

from ...const import MICROGRAMS_PER_CUBIC_METER, PARTS_PER_MILLION
from ...models import Metric
from ...retry import Failure, FailureKind, classify_network_error

if TYPE_CHECKING:
    from ...coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator
    from ...store import HistoryStore

# Entry data.
CONF_LOGIN_DATA: Final = "login_data"
CONF_CODE: Final = "code"

# Poll interval option, in seconds. Amazon throttles unofficial clients; below
# SHORT_POLL_WARNING the options form warns.
DEFAULT_POLL_INTERVAL: Final = 300
MIN_POLL_INTERVAL: Final = 60
MAX_POLL_INTERVAL: Final = 3600
SHORT_POLL_WARNING: Final = 120

# The account's monitors are looked up again after this long ...
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
MONITOR_METRICS: Final[frozenset[Metric]] = frozenset(
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


# What can go wrong talking to Amazon. On top of `retry.classify_network_error`
# (HTTP statuses, transport errors), Amazon has signals of its own: a redirect
# to the sign-in page or an authentication error inside a GraphQL reply (the
# session expired), GraphQL's too-many-requests (a rate limit), and bodies that
# are not the JSON asked for.


class AmazonError(Exception):
    """Base class; `reason` is short and never holds a secret."""

    kind = FailureKind.PERMANENT

    def __init__(self, reason: str) -> None:
        """Keep a short reason."""
        super().__init__(reason)
        self.reason = reason


class AmazonAuthError(AmazonError):
    """Amazon no longer accepts the session (or the refresh token)."""

    kind = FailureKind.AUTH


class AmazonRateLimitError(AmazonError):
    """Amazon asks the client to slow down."""

    kind = FailureKind.RATE_LIMITED


class AmazonTransientError(AmazonError):
    """Amazon sent the client elsewhere for now (a redirect not to the sign-in)."""

    kind = FailureKind.TRANSIENT


class AmazonResponseError(AmazonError):
    """The reply is not what was asked for (malformed, unexpected shape, HTML)."""


class AmazonLoginError(AmazonError):
    """An interactive sign-in failed; `reason` is a config-flow error key."""


def classify(err: BaseException) -> Failure:
    """Classify any failure of an Amazon request."""
    if isinstance(err, AmazonError):
        return Failure(err.kind, err.reason)
    if (failure := classify_network_error(err)) is not None:
        return failure
    return Failure(FailureKind.PERMANENT, type(err).__name__)


def create_coordinator(
    hass: HomeAssistant, entry: HomeMonitorConfigEntry, store: HistoryStore
) -> HomeMonitorCoordinator:
    """Return the coordinator of an Amazon account entry."""
    credentials = AmazonCredentials(entry.data[CONF_LOGIN_DATA])
    client = AmazonClient(async_create_http(hass), credentials, timeout=REQUEST_TIMEOUT)
    return AmazonCoordinator(hass, entry, store, client)


# The modules below import the constants and errors above.
from .auth import AmazonCredentials  # noqa: E402
from .client import AmazonClient, async_create_http  # noqa: E402
from .coordinator import AmazonCoordinator  # noqa: E402
from .flow import AmazonFlowMixin  # noqa: E402

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "MAX_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "SHORT_POLL_WARNING",
    "AmazonFlowMixin",
    "create_coordinator",
]
