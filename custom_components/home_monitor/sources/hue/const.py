"""Constants of the Hue source."""

__all__ = ["CONF_POLL_INTERVAL"]

from datetime import timedelta
from typing import Final

from ...const import CONF_POLL_INTERVAL
from ...retry import BackoffPolicy

# Entry data (the same keys Home Assistant's own hue integration stores).
CONF_API_VERSION: Final = "api_version"
# Poll interval option, in seconds.
DEFAULT_POLL_INTERVAL: Final = 10
MIN_POLL_INTERVAL: Final = 2
MAX_POLL_INTERVAL: Final = 300
# Faster polling adds load that can make a bridge refuse requests.
SHORT_POLL_WARNING: Final = 5

HUE_DOMAIN: Final = "hue"  # Home Assistant's own Hue integration
DEVICE_TYPE_PREFIX: Final = "home-monitor#"
MANUFACTURER: Final = "Signify Netherlands B.V."

# One request never takes longer than this; a cycle's deadline may cut it shorter.
REQUEST_TIMEOUT: Final = 10.0
# Budget for the first state read of a v2 bridge (several requests).
SETUP_BUDGET: Final = timedelta(seconds=30)

# Transient failures (refused/reset, timeouts, 503, 429) are retried inside a cycle.
HUE_POLICY: Final = BackoffPolicy(
    attempts=3, base_delay=0.5, factor=2.0, max_delay=4.0, jitter=0.25
)

# CLIP v2 resource types read for the sensors; the first five are polled while the
# event stream is down.
V2_POLLED_TYPES: Final = (
    "temperature",
    "light_level",
    "motion",
    "device_power",
    "zigbee_connectivity",
)
# Read once at set-up: devices give names and models; geofence clients let aiohue's
# stream keep-alive reuse its client instead of creating one a minute.
V2_SETUP_TYPES: Final = ("device", *V2_POLLED_TYPES, "geofence_client")

# v1 sensor types of a Hue motion sensor (one physical sensor is three v1 sensors).
V1_PRESENCE: Final = "ZLLPresence"
V1_LIGHT_LEVEL: Final = "ZLLLightLevel"
V1_TEMPERATURE: Final = "ZLLTemperature"
V1_UNIQUEID_PREFIX: Final = 23  # "00:17:88:01:02:03:04:05"
