"""Actions on the history store: get_history and export_history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
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
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util

from .const import DOMAIN, vol
from .history import get_store
from .models import Metric
from .store import HistoryStore, StoreError
from .store.export import export_csv

SERVICE_GET_HISTORY = "get_history"
SERVICE_EXPORT_HISTORY = "export_history"
ATTR_DEVICE_ID = "device_id"
ATTR_METRIC = "metric"
ATTR_START = "start"
ATTR_END = "end"
ATTR_LIMIT = "limit"
ATTR_PATH = "path"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
DEFAULT_SPAN = timedelta(days=1)
_LIMIT = vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_LIMIT))

# Values are checked in the handlers, so every mistake gets a translated message.
_QUERY_FIELDS = {
    vol.Optional(ATTR_DEVICE_ID): object,
    vol.Optional(ATTR_METRIC): object,
    vol.Optional(ATTR_START): object,
    vol.Optional(ATTR_END): object,
}
GET_HISTORY_SCHEMA = vol.Schema({**_QUERY_FIELDS, vol.Optional(ATTR_LIMIT): object})
EXPORT_HISTORY_SCHEMA = vol.Schema({**_QUERY_FIELDS, vol.Required(ATTR_PATH): object})


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def _store(hass: HomeAssistant) -> HistoryStore:
    if (store := get_store(hass)) is None:
        raise _invalid("store_not_open")
    return store


def _device_key(hass: HomeAssistant, data: dict[str, Any]) -> str | None:
    if (device_id := data.get(ATTR_DEVICE_ID)) is None:
        return None
    device = dr.async_get(hass).async_get(str(device_id))
    for domain, key in device.identifiers if device else ():
        if domain == DOMAIN:
            return key
    raise _invalid("unknown_device", device_id=str(device_id))


def _metric(data: dict[str, Any]) -> str | None:
    if (metric := data.get(ATTR_METRIC)) is None:
        return None
    if metric not in set(Metric):
        raise _invalid("unknown_metric", metric=str(metric), metrics=", ".join(Metric))
    return str(metric)


def _time(data: dict[str, Any], key: str) -> datetime | None:
    if (value := data.get(key)) is None:
        return None
    try:
        parsed = cv.datetime(value)
    except vol.Invalid:
        raise _invalid("invalid_time", field=key, value=str(value)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(parsed)


def _span(
    data: dict[str, Any], *, default_span: timedelta | None
) -> tuple[datetime | None, datetime | None]:
    start, end = _time(data, ATTR_START), _time(data, ATTR_END)
    if default_span is not None:
        end = end or dt_util.utcnow()
        start = start or end - default_span
    if start is not None and end is not None and start >= end:
        raise _invalid("invalid_time_range", start=str(start), end=str(end))
    return start, end


def _limit(data: dict[str, Any]) -> int:
    value = data.get(ATTR_LIMIT, DEFAULT_LIMIT)
    try:
        limit: int = _LIMIT(value)
    except vol.Invalid:
        raise _invalid("invalid_limit", value=str(value), max=str(MAX_LIMIT)) from None
    return limit


def _read_failed(err: Exception) -> HomeAssistantError:
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
    metric: str | None
    start: datetime | None
    end: datetime | None


def _query(call: ServiceCall, *, default_span: timedelta | None) -> _Query:
    data = dict(call.data)
    store = _store(call.hass)
    device_key, metric = _device_key(call.hass, data), _metric(data)
    start, end = _span(data, default_span=default_span)
    return _Query(store, device_key, metric, start, end)


async def _async_get_history(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    query = _query(call, default_span=DEFAULT_SPAN)
    limit = _limit(dict(call.data))
    reader = query.store.reader
    try:
        rows = await hass.async_add_executor_job(
            partial(
                reader.readings,
                query.device_key,
                query.metric,
                query.start,
                query.end,
                limit + 1,
            )
        )
    except StoreError as err:
        raise _read_failed(err) from err
    return {
        "readings": [row.as_dict() for row in rows[:limit]],
        "count": min(len(rows), limit),
        "truncated": len(rows) > limit,
    }


async def _async_export_history(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    query = _query(call, default_span=None)
    path = Path(str(call.data[ATTR_PATH]))
    if not path.is_absolute():
        path = Path(hass.config.path(str(path)))
    if not hass.config.is_allowed_path(str(path)):
        raise _invalid("export_path_not_allowed", path=str(path))
    export = partial(
        export_csv,
        query.store.reader,
        path,
        device_key=query.device_key,
        metric=query.metric,
        start=query.start,
        end=query.end,
    )
    try:
        rows = await hass.async_add_executor_job(export)
    except StoreError as err:
        raise _read_failed(err) from err
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_failed",
            translation_placeholders={"path": str(path), "error": str(err)},
        ) from err
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
