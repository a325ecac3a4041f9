"""Generated junk thrown at both actions: a validation error or a sane answer, nothing else."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.home_monitor.const import DOMAIN, vol
from custom_components.home_monitor.models import Metric
from custom_components.home_monitor.store import HistoryStore
from tests import test_services

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
)
_junk = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
    ),
    max_leaves=6,
)
_times = st.one_of(
    _junk,
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?\Z"
    ),
)
_query = {
    "device_id": _junk,
    "area": _junk,
    "metric": st.one_of(_junk, st.sampled_from([str(m) for m in Metric])),
    "start": _times,
    "end": _times,
}
_get_args = st.fixed_dictionaries(
    {}, optional={**_query, "limit": st.one_of(_junk, st.integers(0, 20_000))}
)
_paths = st.one_of(
    _junk,
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.text(alphabet="w/.\0\\ ~:", max_size=20).map(lambda p: f"www/{p}"),
)
_export_args = st.fixed_dictionaries({"path": _paths}, optional=_query)

# The actions' own tests' store: two devices, 2,098 readings.
store = test_services.store

_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    """Call the action; return its answer, or None for a validation error."""
    try:
        return await hass.services.async_call(
            DOMAIN, service, data, blocking=True, return_response=True
        )
    except (ServiceValidationError, vol.Invalid) as err:
        message = str(err)
    assert len(message) < 2000
    return None


@_SETTINGS
@given(data=_get_args)
async def test_get_history_answers_junk_sanely(
    hass: HomeAssistant, store: HistoryStore, data: dict[str, Any]
) -> None:
    response = await _call(hass, "get_history", data)
    if response is not None:
        assert 0 <= response["count"] <= 10_000
        assert isinstance(response["truncated"], bool)
        assert response["count"] == len(response["readings"])


def _check_tree(config: Path, top: set[str], response: dict[str, Any] | None) -> None:
    www = config / "www"
    if response is not None:
        written = Path(response["path"])
        assert written.is_file()
        assert written.is_relative_to(www)
        assert 0 <= response["rows"] <= 2098
    # Nothing is ever written outside the allowed folder, and no temporary
    # file is left behind.
    assert {p.name for p in config.iterdir()} <= top
    assert not [p for p in www.rglob("*") if p.name.endswith(".partial")]


@_SETTINGS
@given(data=_export_args)
async def test_export_history_answers_junk_sanely(
    hass: HomeAssistant, store: HistoryStore, data: dict[str, Any]
) -> None:
    config = Path(hass.config.config_dir)
    top = await hass.async_add_executor_job(lambda: {p.name for p in config.iterdir()})
    response = await _call(hass, "export_history", data)
    await hass.async_add_executor_job(_check_tree, config, top, response)


# rename_device: every name is refused with a translated error or stored exactly.

device_id = test_services.device_id
# Quotes, an emoji with a joiner, right-to-left text with its direction marks.
EXACT_NAMES = [
    'The "big" O\'Brien sensor',
    "Bébé 👩‍👧 room",
    "\u200fغرفة المعيشة\u200e",
    "x" * 100,
]


async def _rename(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "rename_device", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("", "name_empty"),
        ("   ", "name_empty"),
        ("\t\n ", "name_empty"),
        ("\u3000", "name_empty"),  # an ideographic space is whitespace too
        (None, "name_empty"),
        (42, "name_empty"),
        (["Hall"], "name_empty"),
        ("x" * 101, "name_too_long"),
        ("two\nlines", "name_control_characters"),
        ("tab\there", "name_control_characters"),
        ("nul\0", "name_control_characters"),
        ("del\x7f", "name_control_characters"),
        ("c1\x85", "name_control_characters"),
    ],
)
async def test_bad_names_are_refused(
    hass: HomeAssistant, store: HistoryStore, device_id: str, name: object, key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _rename(hass, device_id=device_id, name=name)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert "\n" not in str(err.value)
    device = dr.async_get(hass).async_get(device_id)
    assert device is not None
    assert device.name_by_user is None


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"device_id": "nope", "name": "Hall"}, "unknown_device"),
        ({"device_id": ["x"], "name": "Hall"}, "unknown_device"),
        ({"name": "Hall", "rewrite_history": "perhaps"}, "invalid_rewrite_history"),
        ({"name": "Hall", "rewrite_history": 2}, "invalid_rewrite_history"),
    ],
)
async def test_bad_rename_calls_are_refused(
    hass: HomeAssistant,
    store: HistoryStore,
    device_id: str,
    data: dict[str, Any],
    key: str,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _rename(hass, **{"device_id": device_id} | data)
    assert err.value.translation_key == key


async def test_a_device_of_another_integration_cannot_be_renamed(
    hass: HomeAssistant, store: HistoryStore
) -> None:
    entry = MockConfigEntry(domain="other")
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("other", "x")}, name="Lamp"
    )
    with pytest.raises(ServiceValidationError) as err:
        await _rename(hass, device_id=device.id, name="Hall")
    assert err.value.translation_key == "unknown_device"
    renamed = dr.async_get(hass).async_get(device.id)
    assert renamed is not None
    assert renamed.name_by_user is None


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize("name", EXACT_NAMES)
async def test_names_are_stored_and_exported_exactly(
    hass: HomeAssistant, store: HistoryStore, device_id: str, name: str
) -> None:
    response = await _rename(
        hass, device_id=device_id, name=name, rewrite_history="true"
    )
    assert response["name"] == name
    assert response["relabelled"] == 1999
    device = dr.async_get(hass).async_get(device_id)
    assert device is not None
    assert device.name_by_user == name

    rows = (
        await hass.services.async_call(
            DOMAIN,
            "get_history",
            {"device_id": device_id, "limit": 5},
            blocking=True,
            return_response=True,
        )
    )["readings"]  # type: ignore[index]
    assert {(row["name"], row["current_name"]) for row in rows} == {(name, name)}

    path = Path(hass.config.path("www", "names.csv"))
    await hass.services.async_call(
        DOMAIN,
        "export_history",
        {"path": str(path), "device_id": device_id},
        blocking=True,
    )
    exported = await hass.async_add_executor_job(_read_csv, path)
    assert len(exported) == 1999
    assert {(row["name"], row["current_name"]) for row in exported} == {(name, name)}


_names = st.one_of(_junk, st.text(max_size=120))


@_SETTINGS
@given(name=_names, rewrite=st.one_of(st.booleans(), _junk))
async def test_rename_answers_junk_sanely(
    hass: HomeAssistant, store: HistoryStore, device_id: str, name: Any, rewrite: Any
) -> None:
    response = await _call(
        hass,
        "rename_device",
        {"device_id": device_id, "name": name, "rewrite_history": rewrite},
    )
    if response is not None:
        assert isinstance(name, str)
        assert response["name"] == name
        assert response["complete"] is True
        devices = {
            device.device_key: device
            for device in await hass.async_add_executor_job(store.reader.devices)
        }
        assert devices[test_services.DEVICE].name == name
