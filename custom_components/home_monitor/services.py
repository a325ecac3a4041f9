"""Actions on the history store: get_history and export_history.

Both take a device, an area (every device Home Assistant has in it now), a
measurement and a time span; each reading comes with the name and location
it was stored under and the device's current ones.

The schemas accept any value; the handlers check each one, so every mistake
is answered with a translated `ServiceValidationError` (HTTP 400).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import errno
from functools import partial
import os
from pathlib import Path
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN, vol
from .devices import device_key
from .health import async_setup_health_service
from .history import get_store
from .models import Metric
from .store import HistoryStore, StoreError, export_csv

SERVICE_GET_HISTORY = "get_history"
SERVICE_EXPORT_HISTORY = "export_history"
ATTR_DEVICE_ID = "device_id"
ATTR_AREA = "area"
ATTR_METRIC = "metric"
ATTR_START = "start"
ATTR_END = "end"
ATTR_LIMIT = "limit"
ATTR_PATH = "path"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
DEFAULT_SPAN = timedelta(days=1)
EARLIEST = datetime.min.replace(tzinfo=UTC)
METRICS = frozenset(str(metric) for metric in Metric)
# Longest file or folder name, and whole path, POSIX file systems take.
NAME_MAX = 255
PATH_MAX = 4096
# Errors that say the path itself is unusable, not that writing failed.
BAD_PATH_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR})
# Queries first wait this long at most for what is queued to be written.
FRESH_WAIT_S = 5.0
# Values quoted in messages are cut to this length.
QUOTE_MAX = 100

_QUERY_FIELDS = {
    vol.Optional(ATTR_DEVICE_ID): object,
    vol.Optional(ATTR_AREA): object,
    vol.Optional(ATTR_METRIC): object,
    vol.Optional(ATTR_START): object,
    vol.Optional(ATTR_END): object,
}
GET_HISTORY_SCHEMA = vol.Schema({**_QUERY_FIELDS, vol.Optional(ATTR_LIMIT): object})
EXPORT_HISTORY_SCHEMA = vol.Schema({**_QUERY_FIELDS, vol.Required(ATTR_PATH): object})


def _quote(value: object) -> str:
    """Return a value for a message, cut to QUOTE_MAX characters."""
    text = str(value)
    return text if len(text) <= QUOTE_MAX else f"{text[:QUOTE_MAX]}…"


def invalid_input(key: str, **placeholders: object) -> ServiceValidationError:
    """Return the translated error for a refused input."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: _quote(v) for k, v in placeholders.items()}
        or None,
    )


def open_store(hass: HomeAssistant) -> HistoryStore:
    """Return the open history store, or refuse the call."""
    if (store := get_store(hass)) is None:
        raise invalid_input("store_not_open")
    return store


def _device_key(hass: HomeAssistant, data: dict[str, Any]) -> str | None:
    if (device_id := data.get(ATTR_DEVICE_ID)) is None:
        return None
    device = (
        dr.async_get(hass).async_get(device_id) if isinstance(device_id, str) else None
    )
    if device is not None and (key := device_key(device)) is not None:
        return key
    raise invalid_input("unknown_device", device_id=device_id)


def _area_keys(hass: HomeAssistant, data: dict[str, Any]) -> list[str] | None:
    """Return the keys of the Home Monitor devices now in the area (id or name)."""
    if (area := data.get(ATTR_AREA)) is None:
        return None
    areas = ar.async_get(hass)
    found = None
    if isinstance(area, str):
        found = areas.async_get_area(area) or areas.async_get_area_by_name(area)
    if found is None:
        raise invalid_input("unknown_area", area=area)
    devices = dr.async_entries_for_area(dr.async_get(hass), found.id)
    return sorted({key for device in devices if (key := device_key(device))})


def _metric(data: dict[str, Any]) -> str | None:
    if (metric := data.get(ATTR_METRIC)) is None:
        return None
    if not isinstance(metric, str) or metric not in METRICS:
        raise invalid_input("unknown_metric", metric=metric, metrics=", ".join(Metric))
    return metric


def _time(data: dict[str, Any], key: str) -> datetime | None:
    if (value := data.get(key)) is None:
        return None
    if not isinstance(value, (str, datetime)):
        raise invalid_input("invalid_time", field=key, value=value)
    try:
        parsed = cv.datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
        return dt_util.as_utc(parsed)
    except vol.Invalid, ValueError, TypeError, OverflowError:
        # Impossible dates, and times that leave the calendar once in UTC.
        raise invalid_input("invalid_time", field=key, value=value) from None


def _span(
    data: dict[str, Any], *, default_span: timedelta | None
) -> tuple[datetime | None, datetime | None]:
    start, end = _time(data, ATTR_START), _time(data, ATTR_END)
    if default_span is not None:
        end = end or dt_util.utcnow()
        if start is None:
            start = end - default_span if end - EARLIEST > default_span else EARLIEST
    if start is not None and end is not None and start >= end:
        raise invalid_input("invalid_time_range", start=start, end=end)
    return start, end


def _whole_number(value: object) -> int | None:
    """Return `value` as an int when it is a whole number (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _limit(data: dict[str, Any]) -> int:
    value = data.get(ATTR_LIMIT, DEFAULT_LIMIT)
    limit = _whole_number(value)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise invalid_input("invalid_limit", value=value, max=MAX_LIMIT)
    return limit


def fresh[T](store: HistoryStore, read: Callable[[], T]) -> T:
    """Read after what is queued is in, names and areas included (blocking)."""
    store.flush(FRESH_WAIT_S)
    return read()


def read_failed(err: Exception) -> HomeAssistantError:
    """Return the translated error for a history file that could not be read."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="history_read_failed",
        translation_placeholders={"error": str(err)},
    )


@dataclass(frozen=True, slots=True)
class _Query:
    """The checked arguments shared by both actions."""

    store: HistoryStore
    device_key: str | None
    device_keys: list[str] | None
    metric: str | None
    start: datetime | None
    end: datetime | None


def _query(call: ServiceCall, *, default_span: timedelta | None) -> _Query:
    data = dict(call.data)
    store = open_store(call.hass)
    device_key, metric = _device_key(call.hass, data), _metric(data)
    device_keys = _area_keys(call.hass, data)
    start, end = _span(data, default_span=default_span)
    return _Query(store, device_key, device_keys, metric, start, end)


async def _async_get_history(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    query = _query(call, default_span=DEFAULT_SPAN)
    limit = _limit(dict(call.data))
    reader = query.store.reader
    try:
        rows = await hass.async_add_executor_job(
            fresh,
            query.store,
            partial(
                reader.readings,
                query.device_key,
                query.metric,
                query.start,
                query.end,
                limit + 1,
                device_keys=query.device_keys,
            ),
        )
    except StoreError as err:
        raise read_failed(err) from err
    return {
        "readings": [row.as_dict() for row in rows[:limit]],
        "count": min(len(rows), limit),
        "truncated": len(rows) > limit,
    }


def _export_path(hass: HomeAssistant, value: object) -> Path:
    """Return the absolute target path, checking its form (no file system access)."""
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise invalid_input("export_path_invalid", path=repr(value))
    path = Path(value)
    if not path.is_absolute():
        path = Path(hass.config.path(value))
    if len(os.fsencode(path)) > PATH_MAX or any(
        len(os.fsencode(part)) > NAME_MAX for part in path.parts
    ):
        raise invalid_input("export_path_invalid", path=path)
    return path


def _prepare_target(hass: HomeAssistant, path: Path) -> list[Path]:
    """Check the target may be written and create its missing folders (blocking).

    Returns the folders it created, deepest last.
    """
    if not hass.config.is_allowed_path(str(path)):
        raise invalid_input("export_path_not_allowed", path=path)
    if path.is_dir():
        raise invalid_input("export_path_is_directory", path=path)
    missing = [folder for folder in path.parents if not folder.exists()]
    created: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir()
            created.append(folder)
    except OSError as err:
        _remove_folders(created)
        raise _export_error(path, err) from err
    return created


def _remove_folders(folders: list[Path]) -> None:
    """Remove folders an export created, deepest first, if they are still empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


def _export_error(path: Path, err: OSError) -> HomeAssistantError:
    if err.errno in BAD_PATH_ERRNOS:
        return invalid_input("export_path_invalid", path=path)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="export_failed",
        translation_placeholders={"path": _quote(path), "error": str(err)},
    )


def _write_export(hass: HomeAssistant, path: Path, query: _Query) -> int:
    """Prepare the target and write the export (blocking); undo created folders."""
    created = _prepare_target(hass, path)
    query.store.flush(FRESH_WAIT_S)
    try:
        return export_csv(
            query.store.reader,
            path,
            device_key=query.device_key,
            metric=query.metric,
            start=query.start,
            end=query.end,
            device_keys=query.device_keys,
        )
    except (StoreError, OSError) as err:
        _remove_folders(created)
        if isinstance(err, StoreError):
            raise read_failed(err) from err
        raise _export_error(path, err) from err


async def _async_export_history(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    query = _query(call, default_span=None)
    path = _export_path(hass, call.data[ATTR_PATH])
    rows = await hass.async_add_executor_job(_write_export, hass, path, query)
    return {"path": str(path), "rows": rows}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_HISTORY,
        _async_get_history,
        schema=GET_HISTORY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT_HISTORY,
        _async_export_history,
        schema=EXPORT_HISTORY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_setup_health_service(hass)
