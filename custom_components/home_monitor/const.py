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
