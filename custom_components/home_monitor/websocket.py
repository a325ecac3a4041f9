"""Websocket commands of the history card: the series to pick, and their history.

`home_monitor/series` lists what the card can draw: every Home Monitor entity
with its device, area, unit and device class, and how far back the store
holds it. `home_monitor/history` answers a set of series (by entity, device,
area, or store key) over a time range with at most `buckets` downsampled
buckets per series, each `[start ms, min, mean, max, count]`; a bucket without
readings is left out, so a gap stays a gap. The store is read in the executor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN, vol
from .history import get_store
from .models import Metric
from .store import SeriesInfo, StoreError

DEFAULT_BUCKETS: Final = 500
MAX_BUCKETS: Final = 1000
MAX_SERIES: Final = 24
RANGES: Final = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "1y": timedelta(days=365),
}

# Error codes the card (and any other client) can tell apart.
ERR_NOT_LOADED: Final = "not_loaded"
ERR_UNKNOWN_SERIES: Final = "unknown_series"
ERR_INVALID_RANGE: Final = "invalid_range"
ERR_TOO_MANY_SERIES: Final = "too_many_series"
ERR_HISTORY_UNAVAILABLE: Final = "history_unavailable"

METRICS: Final = [metric.value for metric in Metric]


@dataclass(frozen=True, slots=True)
class SeriesEntry:
    """One pickable series: a Home Monitor entity and the store series it shows."""

    device_key: str
    metric: str
    entity_id: str | None
    name: str
    device_id: str | None
    device_name: str | None
    area_id: str | None
    area_name: str | None
    unit: str | None
    device_class: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as the commands answer it."""
        return {
            "entity_id": self.entity_id,
            "name": self.name,
            "device_id": self.device_id,
            "device_name": self.device_name,
            "area_id": self.area_id,
            "area_name": self.area_name,
            "device_key": self.device_key,
            "metric": self.metric,
            "unit": self.unit,
            "device_class": self.device_class,
        }


@callback
def async_register_commands(hass: HomeAssistant) -> None:
    """Register the card's websocket commands."""
    websocket_api.async_register_command(hass, ws_series)
    websocket_api.async_register_command(hass, ws_history)


@callback
def async_series_entries(hass: HomeAssistant) -> list[SeriesEntry]:
    """Return every Home Monitor entity that shows a store series, as of now."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    areas = ar.async_get(hass)
    found: list[SeriesEntry] = []
    for entry in entities.entities.values():
        device = devices.async_get(entry.device_id) if entry.device_id else None
        if entry.platform != DOMAIN or device is None:
            continue
        for domain, device_key in device.identifiers:
            metric = entry.unique_id.removeprefix(f"{device_key}_")
            if domain == DOMAIN and metric != entry.unique_id and metric in METRICS:
                break
        else:
            continue
        area_id = entry.area_id or device.area_id
        area = areas.async_get_area(area_id) if area_id else None
        state = hass.states.get(entry.entity_id)
        attributes = state.attributes if state else {}
        found.append(
            SeriesEntry(
                device_key=device_key,
                metric=metric,
                entity_id=entry.entity_id,
                name=state.name
                if state
                else entry.name or entry.original_name or entry.entity_id,
                device_id=device.id,
                device_name=device.name_by_user or device.name,
                area_id=area.id if area else None,
                area_name=area.name if area else None,
                unit=attributes.get("unit_of_measurement", entry.unit_of_measurement),
                device_class=attributes.get(
                    "device_class", entry.device_class or entry.original_device_class
                ),
            )
        )
    found.sort(key=lambda s: (s.area_name or "", s.device_name or "", s.name))
    return found


@websocket_api.websocket_command({vol.Required("type"): "home_monitor/series"})
@websocket_api.async_response
async def ws_series(
    hass: HomeAssistant,
    connection: websocket_api.ActiveConnection,
    msg: dict[str, Any],
) -> None:
    """List the series the card can draw, with how far back each goes."""
    if (store := get_store(hass)) is None:
        _send_not_loaded(connection, msg["id"])
        return
    try:
        stored = await hass.async_add_executor_job(store.list_series)
    except StoreError as err:
        _send_unavailable(connection, msg["id"], err)
        return
    spans = {(s.device_key, s.metric): s for s in stored}
    answer = []
    entries = async_series_entries(hass)
    # The store's series no entity shows (a device removed from Home Assistant keeps its
    # history) come last, drawable by their key.
    shown = {(entry.device_key, entry.metric) for entry in entries}
    entries += [
        _stored_entry(s) for s in stored if (s.device_key, s.metric) not in shown
    ]
    for entry in entries:
        item = entry.as_dict()
        span = spans.get((entry.device_key, entry.metric))
        item["first_at"] = _ms(span.first_at) if span else None
        item["last_at"] = _ms(span.last_at) if span else None
        item["count"] = span.count if span else 0
        answer.append(item)
    connection.send_result(msg["id"], {"series": answer})


def _stored_entry(info: SeriesInfo) -> SeriesEntry:
    """Return a series of the store that no entity shows, named as the store knows it."""
    return SeriesEntry(
        device_key=info.device_key,
        metric=info.metric,
        entity_id=None,
        name=f"{info.name} {info.metric}",
        device_id=None,
        device_name=info.name,
        area_id=None,
        area_name=info.location,
        unit=info.unit,
        device_class=None,
    )


def _aware(value: Any) -> datetime:
    """Parse a date and time; one without a zone is Home Assistant's local time."""
    parsed = cv.datetime(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(parsed)


HISTORY_SCHEMA: Final[dict[str | vol.Marker, Any]] = {
    vol.Required("type"): "home_monitor/history",
    vol.Optional("entity_ids", default=list): vol.All(cv.ensure_list, [cv.entity_id]),
    vol.Optional("device_ids", default=list): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("area_ids", default=list): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("series", default=list): [
        {
            vol.Required("device_key"): cv.string,
            vol.Required("metric"): vol.In(METRICS),
        }
    ],
    vol.Optional("metrics"): vol.All(cv.ensure_list, [vol.In(METRICS)]),
    vol.Optional("range"): vol.In(list(RANGES)),
    vol.Optional("start"): _aware,
    vol.Optional("end"): _aware,
    vol.Optional("buckets", default=DEFAULT_BUCKETS): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=MAX_BUCKETS)
    ),
}


@websocket_api.websocket_command(HISTORY_SCHEMA)
@websocket_api.async_response
async def ws_history(
    hass: HomeAssistant,
    connection: websocket_api.ActiveConnection,
    msg: dict[str, Any],
) -> None:
    """Answer the downsampled history of the asked series over the asked range."""
    if (store := get_store(hass)) is None:
        _send_not_loaded(connection, msg["id"])
        return
    end: datetime = msg.get("end") or dt_util.utcnow()
    start: datetime | None = msg.get("start")
    if start is None:
        start = end - RANGES[msg.get("range", "24h")]
    if start >= end:
        connection.send_error(
            msg["id"],
            ERR_INVALID_RANGE,
            f"The start ({start.isoformat()}) must be before the end ({end.isoformat()})",
            translation_key="invalid_time_range",
            translation_domain=DOMAIN,
            translation_placeholders={
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        )
        return
    chosen = _choose(hass, msg, connection)
    if chosen is None:
        return
    keys = [(entry.device_key, entry.metric) for entry in chosen]
    try:
        if any(entry.entity_id is None for entry in chosen):
            # Series asked by key that no entity shows: name them as the store does.
            stored = {
                (s.device_key, s.metric): _stored_entry(s)
                for s in await hass.async_add_executor_job(store.list_series)
            }
            chosen = [
                stored.get((e.device_key, e.metric), e) if e.entity_id is None else e
                for e in chosen
            ]
        buckets = await hass.async_add_executor_job(
            store.downsample, keys, start, end, msg["buckets"]
        )
    except StoreError as err:
        _send_unavailable(connection, msg["id"], err)
        return
    connection.send_result(
        msg["id"],
        {
            "start": _ms(start),
            "end": _ms(end),
            "buckets": msg["buckets"],
            "series": [
                entry.as_dict()
                | {
                    "points": [
                        [_ms(b.start), b.min, b.mean, b.max, b.count]
                        for b in buckets.get((entry.device_key, entry.metric), ())
                    ]
                }
                for entry in chosen
            ],
        },
    )


def _choose(
    hass: HomeAssistant,
    msg: dict[str, Any],
    connection: websocket_api.ActiveConnection,
) -> list[SeriesEntry] | None:
    """Resolve the asked entities, devices, areas and keys; send the error if any."""
    entries = async_series_entries(hass)
    by_entity = {entry.entity_id: entry for entry in entries}
    by_key = {(entry.device_key, entry.metric): entry for entry in entries}
    metrics = set(msg.get("metrics") or METRICS)
    chosen: dict[tuple[str, str], SeriesEntry] = {}

    def add(found: Iterable[SeriesEntry]) -> None:
        for entry in found:
            chosen.setdefault((entry.device_key, entry.metric), entry)

    for entity_id in msg["entity_ids"]:
        if entity_id not in by_entity:
            _send_unknown(connection, msg["id"], entity_id)
            return None
        add([by_entity[entity_id]])
    for field, ids in (("device_id", msg["device_ids"]), ("area_id", msg["area_ids"])):
        for wanted in ids:
            found = [e for e in entries if getattr(e, field) == wanted]
            if not found:
                _send_unknown(connection, msg["id"], wanted)
                return None
            add(e for e in found if e.metric in metrics)
    for asked in msg["series"]:
        key = (asked["device_key"], asked["metric"])
        add([by_key.get(key) or _store_only(*key)])
    if not chosen:
        _send_unknown(connection, msg["id"], "")
        return None
    if len(chosen) > MAX_SERIES:
        connection.send_error(
            msg["id"],
            ERR_TOO_MANY_SERIES,
            f"{len(chosen)} series asked; at most {MAX_SERIES} per request",
            translation_key="too_many_series",
            translation_domain=DOMAIN,
            translation_placeholders={
                "count": str(len(chosen)),
                "max": str(MAX_SERIES),
            },
        )
        return None
    return list(chosen.values())


def _store_only(device_key: str, metric: str) -> SeriesEntry:
    """Return a series asked by its store key that no entity shows (any more)."""
    return SeriesEntry(
        device_key=device_key,
        metric=metric,
        entity_id=None,
        name=f"{device_key} {metric}",
        device_id=None,
        device_name=None,
        area_id=None,
        area_name=None,
        unit=None,
        device_class=None,
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _send_not_loaded(connection: websocket_api.ActiveConnection, msg_id: int) -> None:
    connection.send_error(
        msg_id,
        ERR_NOT_LOADED,
        "The history store is not open: add or enable a Home Monitor entry first",
        translation_key="store_not_open",
        translation_domain=DOMAIN,
    )


def _send_unknown(
    connection: websocket_api.ActiveConnection, msg_id: int, asked: str
) -> None:
    connection.send_error(
        msg_id,
        ERR_UNKNOWN_SERIES,
        f"No Home Monitor measurement matches {asked!r}"
        if asked
        else "No series asked: give entity_ids, device_ids, area_ids or series",
        translation_key="unknown_series" if asked else "no_series",
        translation_domain=DOMAIN,
        translation_placeholders={"asked": asked} if asked else None,
    )


def _send_unavailable(
    connection: websocket_api.ActiveConnection, msg_id: int, err: StoreError
) -> None:
    connection.send_error(
        msg_id,
        ERR_HISTORY_UNAVAILABLE,
        f"Could not read the history store: {err}",
        translation_key="history_read_failed",
        translation_domain=DOMAIN,
        translation_placeholders={"error": str(err)},
    )


__all__ = ["HISTORY_SCHEMA", "async_register_commands", "async_series_entries"]
