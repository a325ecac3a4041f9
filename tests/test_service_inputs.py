"""Generated junk thrown at both actions: a validation error or a sane answer, nothing else."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from hypothesis import HealthCheck, given, settings, strategies as st

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
