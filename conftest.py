"""Put this repository first on sys.path.

pytest-homeassistant-custom-component ships a `custom_components` package of its own; without
this, Home Assistant would look for the integration there and report it missing.
"""

from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).parent))
sys.modules.pop("custom_components", None)

# Simulator fixtures used across test folders.
pytest_plugins = ["tests.hue.fixtures"]
