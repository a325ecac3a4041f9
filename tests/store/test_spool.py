"""The spool: bounded, first in first out, saved and loaded intact."""

from pathlib import Path

import pytest

from custom_components.home_monitor.store.spool import RECORD, Spool, SpoolFileError

CONTEXT = ("hue:b:1", "hue", "Hall", "Hall", "°C")
OTHER = ("amazon:a:G1", "amazon", "Office", "", "")


def _fill(spool: Spool, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        context = CONTEXT if number % 2 else OTHER
        spool.add(context, "temperature", 1_000 * number, 1, number / 10)


def test_records_come_back_in_order_across_chunks() -> None:
    spool = Spool(100_000)
    _fill(spool, 10_000)
    assert spool.count == 10_000
    records = spool.peek(10_000)
    assert [record[2] for record in records] == [1_000 * n for n in range(10_000)]
    assert records[1] == (CONTEXT, "temperature", 1_000, 1, 0.1)
    spool.drop(4_500)
    assert spool.peek(1)[0][2] == 4_500_000
    spool.drop(5_500)
    assert spool.count == 0
    assert spool.peek(5) == []


def test_past_the_bound_the_oldest_are_dropped() -> None:
    spool = Spool(1_000)
    _fill(spool, 1_500)
    assert spool.trim() == 500
    assert spool.count == 1_000
    assert spool.peek(1)[0][2] == 500_000
    assert spool.trim() == 0


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    spool = Spool(10_000)
    _fill(spool, 5_000)
    spool.drop(1_234)
    path = tmp_path / "history.db.spool"
    spool.save(path, {"devices": [["k", "hue", "n", None, None, None]]})
    loaded, extra = Spool.load(path, 10_000)
    assert loaded.count == 3_766
    assert loaded.peek(5_000) == spool.peek(5_000)
    assert extra == {"devices": [["k", "hue", "n", None, None, None]]}
    assert not path.with_name("history.db.spool.partial").exists()


def test_extreme_delays_are_clamped() -> None:
    spool = Spool(10)
    spool.add(CONTEXT, "motion", 0, 2**40, 1.0)
    spool.add(CONTEXT, "motion", 1, -(2**40), 0.0)
    assert [record[3] for record in spool.peek(2)] == [2**31 - 1, -(2**31 - 1)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"NOTSPOOL", "not a spool file"),
        (b"HMSPOOL1\x05\x00\x00\x00{bad}", "bad header"),
        (b'HMSPOOL1\x0b\x00\x00\x00{"count":1}', "bad header"),
    ],
)
def test_damaged_files_are_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "spool"
    path.write_bytes(content)
    with pytest.raises(SpoolFileError, match=message):
        Spool.load(path, 100)


def test_truncated_or_inconsistent_files_are_refused(tmp_path: Path) -> None:
    spool = Spool(100)
    _fill(spool, 10)
    path = tmp_path / "spool"
    spool.save(path, {})
    data = path.read_bytes()
    path.write_bytes(data[:-3])
    with pytest.raises(SpoolFileError, match="count does not match"):
        Spool.load(path, 100)
    bad_record = RECORD.pack(7, 0, 0, 0, 0.0)
    path.write_bytes(data[: -RECORD.size] + bad_record)
    with pytest.raises(SpoolFileError, match="missing context"):
        Spool.load(path, 100)
