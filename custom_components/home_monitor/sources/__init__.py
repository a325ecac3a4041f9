"""The sources an entry can read, by the `source` key of its data."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant

from ..const import SOURCE_AMAZON, SOURCE_HUE
from . import amazon, hue

if TYPE_CHECKING:
    from ..coordinator import HomeMonitorConfigEntry, HomeMonitorCoordinator
    from ..store import HistoryStore

type SourceFactory = Callable[
    [HomeAssistant, HomeMonitorConfigEntry, HistoryStore], HomeMonitorCoordinator
]

SOURCE_FACTORIES: Final[dict[str, SourceFactory]] = {
    SOURCE_HUE: hue.create_coordinator,
    SOURCE_AMAZON: amazon.create_coordinator,
}
