"""The get_history and export_history actions, through Home Assistant."""

from collections.abc import AsyncGenerator
import csv
from datetime import timedelta
import errno
from http import HTTPStatus
from pathlib import Path
import threading
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.home_monitor import services
from custom_components.home_monitor.const import CONF_SOURCE, DOMAIN, SOURCE_HUE
from custom_components.home_monitor.history import (
    async_acquire_store,
    async_release_store,
)
from custom_components.home_monitor.models import DeviceRecord, Metric, Reading
from custom_components.home_monitor.store import HistoryStore

DEVICE = "hue:bridge1:sensor1"
OTHER = "amazon:acct:G1"


@pytest.fixture
async def store(hass: HomeAssistant) -> AsyncGenerator[HistoryStore]:
    """Set up the integration and open the shared store with readings of two devices."""
    assert await async_setup_component(hass, DOMAIN, {})
    www = Path(hass.config.path("www"))
    await hass.async_add_executor_job(www.mkdir)
    hass.config.allowlist_external_dirs = {str(www)}
    store = await async_acquire_store(hass, "entry")
    now = dt_util.utcnow().replace(microsecond=0)
    store.upsert_device(DeviceRecord(DEVICE, "hue", "Hall sensor", location="Hall"))
    store.enqueue(
        Reading(
            DEVICE, Metric.TEMPERATURE, 20 + i / 10, "°C", now - timedelta(minutes=i)
        )
        for i in range(1, 2000)
    )
    store.enqueue(
        Reading(OTHER, Metric.PM25, float(i), "µg/m³", now - timedelta(hours=i))
        for i in range(1, 100)
    )
    assert await hass.async_add_executor_job(store.flush, 10)
    yield store
    await async_release_store(hass, "entry")


@pytest.fixture
def device_id(hass: HomeAssistant, store: HistoryStore) -> str:
    """Return the Home Assistant device id of the Hue sensor."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_SOURCE: SOURCE_HUE})
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, DEVICE)},
        name="Hall sensor",
    )
    return device.id


async def _get(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "get_history", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def test_get_history_of_one_device_and_metric(
    hass: HomeAssistant, device_id: str
) -> None:
    response = await _get(hass, device_id=device_id, metric="temperature")
    readings = response["readings"]
    # The default span is the last day: 1439 of the minutely readings.
    assert response["count"] == len(readings) == 1000
    assert response["truncated"] is True
    first = readings[0]
    assert first["device_key"] == DEVICE
    assert (first["name"], first["location"], first["unit"]) == (
        "Hall sensor",
        "Hall",
        "°C",
    )
    times = [row["measured_at"] for row in readings]
    assert times == sorted(times)


async def test_get_history_time_range_and_limit(
    hass: HomeAssistant, device_id: str
) -> None:
    now = dt_util.utcnow()
    response = await _get(
        hass,
        device_id=device_id,
        start=(now - timedelta(hours=2)).isoformat(),
        end=(now - timedelta(hours=1)).isoformat(),
        limit=5000,
    )
    assert response["count"] == 60
    assert response["truncated"] is False
    local = await _get(hass, start="2000-01-01 00:00:00", end="2000-01-02 00:00:00")
    assert local["readings"] == []


async def test_get_history_of_everything(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    response = await _get(hass, metric="pm25", limit=10)
    assert [row["device_key"] for row in response["readings"]] == [OTHER] * 10
    assert response["readings"][0]["value"] == 23.0


async def test_export_history_writes_csv(hass: HomeAssistant, device_id: str) -> None:
    response = await hass.services.async_call(
        DOMAIN,
        "export_history",
        {"path": "www/history.csv", "device_id": device_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    path = Path(hass.config.path("www", "history.csv"))
    assert response == {"path": str(path), "rows": 1999}
    rows = await hass.async_add_executor_job(
        lambda: list(csv.DictReader(path.open(encoding="utf-8")))
    )
    assert len(rows) == 1999
    assert rows[0]["device_key"] == DEVICE
    assert rows[0]["name"] == "Hall sensor"


async def test_export_history_without_response(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "export_history",
        {"path": hass.config.path("www", "all.csv"), "metric": "pm25"},
        blocking=True,
    )
    text = await hass.async_add_executor_job(
        Path(hass.config.path("www", "all.csv")).read_text, "utf-8"
    )
    assert len(text.splitlines()) == 100


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        (
            {"device_id": "nope"},
            "unknown_device",
            "Device nope is not a Home Monitor device",
        ),
        (
            {"metric": "radon"},
            "unknown_metric",
            "Unknown measurement radon; use one of:",
        ),
        (
            {"start": "yesterday"},
            "invalid_time",
            "start must be a date and time, not yesterday",
        ),
        (
            {"start": "2026-01-02T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00"},
            "invalid_time_range",
            "must be before the end",
        ),
        ({"start": "2026-02-30 00:00:00"}, "invalid_time", "not 2026-02-30"),
        ({"end": "2026-01-01 25:00:00"}, "invalid_time", "not 2026-01-01 25"),
        ({"start": "0000-01-01 00:00:00"}, "invalid_time", "not 0000-01-01"),
        ({"start": "0001-01-01T00:00:00+02:00"}, "invalid_time", "not 0001"),
        ({"end": "9999-12-31T23:00:00-05:00"}, "invalid_time", "not 9999"),
        ({"end": "0001-01-01T00:00:00Z"}, "invalid_time_range", "before the end"),
        ({"start": 1767225600}, "invalid_time", "not 1767225600"),
        ({"start": ["2026-01-01"]}, "invalid_time", "not ['2026-01-01']"),
        ({"metric": ["pm25"]}, "unknown_metric", "Unknown measurement ['pm25']"),
        ({"metric": {"a": 1}}, "unknown_metric", "Unknown measurement {'a': 1}"),
        ({"device_id": ["x"]}, "unknown_device", "Device ['x'] is not"),
        ({"limit": 0}, "invalid_limit", "whole number from 1 to 10000, not 0"),
        ({"limit": "many"}, "invalid_limit", "not many"),
        ({"limit": 10_001}, "invalid_limit", "not 10001"),
        ({"limit": 2.7}, "invalid_limit", "not 2.7"),
        ({"limit": "2.7"}, "invalid_limit", "not 2.7"),
        ({"limit": True}, "invalid_limit", "not True"),
        ({"limit": False}, "invalid_limit", "not False"),
        ({"limit": float("nan")}, "invalid_limit", "not nan"),
        ({"limit": [5]}, "invalid_limit", "not [5]"),
        ({"limit": "9" * 5000}, "invalid_limit", "not 999"),
    ],
)
async def test_get_history_bad_arguments(
    hass: HomeAssistant,
    store: HistoryStore,
    data: dict[str, Any],
    key: str,
    message: str,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _get(hass, **data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert message in str(err.value)
    assert len(str(err.value)) < 1000


async def test_year_one_in_a_zone_east_of_utc_is_refused(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    await hass.config.async_set_time_zone("Asia/Tokyo")
    with pytest.raises(ServiceValidationError) as err:
        await _get(hass, start="0001-01-01 00:00:00")
    assert err.value.translation_key == "invalid_time"


@pytest.mark.parametrize("limit", [5, 5.0, "5", " 5 "])
async def test_whole_number_limits_are_accepted(
    hass: HomeAssistant, store: HistoryStore, limit: object
) -> None:
    assert (await _get(hass, metric="pm25", limit=limit))["count"] == 5


async def test_a_device_of_another_integration_is_refused(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    entry = MockConfigEntry(domain="other")
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("other", "x")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await _get(hass, device_id=device.id)
    assert err.value.translation_key == "unknown_device"


async def test_export_outside_allowed_folders_is_refused(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "export_history", {"path": "/etc/history.csv"}, blocking=True
        )
    assert err.value.translation_key == "export_path_not_allowed"
    assert "may not write to /etc/history.csv" in str(err.value)


async def test_allowed_path_is_checked_off_the_event_loop(
    hass: HomeAssistant, store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = hass.config.is_allowed_path
    threads: list[int] = []

    def _is_allowed_path(path: str) -> bool:
        threads.append(threading.get_ident())
        return real(path)

    monkeypatch.setattr(hass.config, "is_allowed_path", _is_allowed_path)
    await hass.services.async_call(
        DOMAIN, "export_history", {"path": "www/h.csv"}, blocking=True
    )
    assert threads
    assert hass.loop_thread_id not in threads


async def test_missing_folders_inside_an_allowed_folder_are_created(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    response = await hass.services.async_call(
        DOMAIN,
        "export_history",
        {"path": "www/reports/2026/h.csv", "metric": "pm25"},
        blocking=True,
        return_response=True,
    )
    assert response == {"path": hass.config.path("www/reports/2026/h.csv"), "rows": 99}


async def test_the_documented_example_works_on_a_fresh_install(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    # A fresh install has no www folder, but it is an allowed one.
    www = Path(hass.config.path("www"))
    await hass.async_add_executor_job(www.rmdir)
    await hass.services.async_call(
        DOMAIN, "export_history", {"path": str(www / "history.csv")}, blocking=True
    )
    assert await hass.async_add_executor_job((www / "history.csv").is_file)


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("www", "export_path_is_directory"),
        ("www/", "export_path_is_directory"),
        ("", "export_path_invalid"),
        ("www/a\0b.csv", "export_path_invalid"),
        ("www/" + "h" * 100_000 + ".csv", "export_path_invalid"),
        ("www/" + "h" * 250 + ".csv", "export_path_invalid"),
        ("www/" + "d/" * 3000 + "h.csv", "export_path_invalid"),
        (["www/h.csv"], "export_path_invalid"),
        ({"path": "www/h.csv"}, "export_path_invalid"),
        (42, "export_path_invalid"),
    ],
    ids=[
        "directory",
        "directory-slash",
        "empty",
        "nul",
        "100kb-name",
        "name-too-long-with-temp-suffix",
        "path-too-long",
        "list",
        "dict",
        "number",
    ],
)
async def test_unusable_export_paths_are_refused_and_leave_nothing(
    hass: HomeAssistant, store: HistoryStore, path: object, key: str
) -> None:
    config = Path(hass.config.config_dir)
    before = await hass.async_add_executor_job(_files, config)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "export_history", {"path": path}, blocking=True
        )
    assert err.value.translation_key == key
    assert len(str(err.value)) < 1000
    assert await hass.async_add_executor_job(_files, config) == before


async def test_a_failed_export_leaves_no_file_or_folder(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    config = Path(hass.config.config_dir)
    await hass.async_add_executor_job(store.reader.close)
    for suffix in ("", "-wal", "-shm"):
        await hass.async_add_executor_job(
            lambda s=suffix: Path(f"{store.path}{s}").unlink(missing_ok=True)
        )
    before = await hass.async_add_executor_job(_files, config)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "export_history", {"path": "www/new/deeper/h.csv"}, blocking=True
        )
    assert err.value.translation_key == "history_read_failed"
    assert await hass.async_add_executor_job(_files, config) == before


@pytest.mark.parametrize("path", ["www/taken/h.csv", "www/taken/sub/h.csv"])
async def test_a_file_in_the_way_of_a_folder_is_a_bad_path(
    hass: HomeAssistant, store: HistoryStore, path: str
) -> None:
    await hass.async_add_executor_job(
        Path(hass.config.path("www", "taken")).write_text, "x"
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "export_history", {"path": path}, blocking=True
        )
    assert err.value.translation_key == "export_path_invalid"


async def test_a_full_disk_fails_the_export_and_leaves_nothing(
    hass: HomeAssistant, store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def _full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(services, "export_csv", _full)
    config = Path(hass.config.config_dir)
    before = await hass.async_add_executor_job(_files, config)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "export_history", {"path": "www/new/h.csv"}, blocking=True
        )
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "export_failed"
    assert "No space left on device" in str(err.value)
    assert await hass.async_add_executor_job(_files, config) == before


async def test_actions_need_an_open_store(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(ServiceValidationError) as err:
        await _get(hass)
    assert err.value.translation_key == "store_not_open"
    assert "add or enable a Home Monitor entry" in str(err.value)


async def test_read_failures_are_reported(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    await hass.async_add_executor_job(store.reader.close)
    for suffix in ("", "-wal", "-shm"):
        await hass.async_add_executor_job(
            lambda s=suffix: Path(f"{store.path}{s}").unlink(missing_ok=True)
        )
    with pytest.raises(HomeAssistantError) as err:
        await _get(hass)
    assert err.value.translation_key == "history_read_failed"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "export_history", {"path": "www/x.csv"}, blocking=True
        )
    assert err.value.translation_key == "history_read_failed"


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("get_history", {"start": "2026-02-30 00:00:00"}),
        ("get_history", {"end": "0001-01-01T00:00:00Z"}),
        ("get_history", {"metric": ["pm25"]}),
        ("get_history", {"limit": 2.7}),
        ("export_history", {"path": "www/a\0b.csv"}),
        ("export_history", {"path": "www"}),
        ("export_history", {"path": "www/" + "h" * 100_000}),
    ],
)
@pytest.mark.usefixtures("store")
async def test_bad_calls_over_http_are_answered_with_400(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    service: str,
    data: dict[str, Any],
) -> None:
    assert await async_setup_component(hass, "api", {})
    client = await hass_client()
    response = await client.post(
        f"/api/services/{DOMAIN}/{service}?return_response", json=data
    )
    assert response.status == HTTPStatus.BAD_REQUEST
    assert "Error" not in caplog.text
