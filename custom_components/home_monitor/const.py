"""Constants for Home Monitor."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "home_monitor"
LOGGER = logging.getLogger(__package__)

# Config entry data: which source an entry reads.
CONF_SOURCE: Final = "source"
SOURCE_HUE: Final = "hue"
SOURCE_AMAZON: Final = "amazon"

# Where the shared history store lives, relative to the HA config directory.
STORE_DIRECTORY: Final = DOMAIN
STORE_FILENAME: Final = "history.db"

# Time HA gives integrations to finish at shutdown; the store flush stays inside it.
STORE_SHUTDOWN_TIMEOUT: Final = timedelta(seconds=20)

# Unit strings, spelled out: Home Assistant 2026.10 deprecates the CONCENTRATION_*
# constants in favour of enums that 2026.3 does not have.
MICROGRAMS_PER_CUBIC_METER: Final = "μg/m³"
PARTS_PER_MILLION: Final = "ppm"
