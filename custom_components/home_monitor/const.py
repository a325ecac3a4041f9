"""Constants for Home Monitor, and the schema library it validates with.

Home Assistant replaced voluptuous with probatio and aliases `voluptuous` to
it at start-up, so importing `voluptuous` gives the right library at run time
on every supported release; type checking uses probatio's types.
"""

from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Final

from homeassistant.const import UnitOfDensity, UnitOfRatio

if TYPE_CHECKING:
    import probatio as vol
else:
    import voluptuous as vol

DOMAIN: Final = "home_monitor"
LOGGER = logging.getLogger(__package__)

# Config entry data: which source an entry reads.
CONF_SOURCE: Final = "source"
SOURCE_HUE: Final = "hue"
SOURCE_AMAZON: Final = "amazon"

# Entry option of every source: seconds between two polls.
CONF_POLL_INTERVAL: Final = "poll_interval"

# A device time further ahead of HA's clock than this is not trusted.
CLOCK_FUTURE_TOLERANCE: Final = timedelta(minutes=5)
# A device whose clock is not trusted is logged at most this often.
CLOCK_LOG_INTERVAL: Final = timedelta(hours=1)
# After push delivery resumes, a source's replay of what it missed is taken this long.
LATE_DELIVERY_PERIOD: Final = timedelta(minutes=2)

# Where the shared history store lives, relative to the HA config directory.
STORE_DIRECTORY: Final = DOMAIN
STORE_FILENAME: Final = "history.db"

# Time HA gives integrations to finish at shutdown; the store flush stays inside it.
STORE_SHUTDOWN_TIMEOUT: Final = timedelta(seconds=20)

# Units of the air-quality readings, for the sensors and the history store.
MICROGRAMS_PER_CUBIC_METER: Final = UnitOfDensity.MICROGRAMS_PER_CUBIC_METER
PARTS_PER_MILLION: Final = UnitOfRatio.PARTS_PER_MILLION

__all__ = [
    "CLOCK_FUTURE_TOLERANCE",
    "CLOCK_LOG_INTERVAL",
    "CONF_POLL_INTERVAL",
    "CONF_SOURCE",
    "DOMAIN",
    "LATE_DELIVERY_PERIOD",
    "LOGGER",
    "MICROGRAMS_PER_CUBIC_METER",
    "PARTS_PER_MILLION",
    "SOURCE_AMAZON",
    "SOURCE_HUE",
    "STORE_DIRECTORY",
    "STORE_FILENAME",
    "STORE_SHUTDOWN_TIMEOUT",
    "vol",
]
