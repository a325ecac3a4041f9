"""Compact encodings: every value and time reads back exactly."""

from datetime import UTC, datetime, timedelta
import math
import random
import struct

import pytest

from custom_components.home_monitor.store.records import (
    decode_value,
    encode_value,
    from_ms,
    to_ms,
)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (0.0, 0),
        (1.0, 10),
        (22.55, 22552),
        (-5.5, -549),
        (7728.0, 77280),
        (0.123456, 1234566),
        (100.0, 1000),
    ],
)
def test_decimal_values_are_scaled_integers(value: float, stored: int) -> None:
    assert encode_value(value) == stored
    assert decode_value(stored) == value


@pytest.mark.parametrize("value", [0.1 + 0.2, math.pi, 1e300, -1e-300, 2.0**60])
def test_other_values_stay_floats(value: float) -> None:
    stored = encode_value(value)
    assert isinstance(stored, float)
    assert decode_value(stored) == value


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="not finite"):
        encode_value(value)


def test_random_values_round_trip_bit_for_bit() -> None:
    rng = random.Random(7)
    values = [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    values += [round(rng.uniform(-50, 50), rng.randint(0, 6)) for _ in range(2000)]
    values += [struct.unpack("<d", rng.randbytes(8))[0] for _ in range(2000)]
    for value in values:
        if not math.isfinite(value):
            continue
        decoded = decode_value(encode_value(value))
        assert struct.pack("<d", decoded) == struct.pack("<d", value + 0.0) or (
            value == 0.0 and decoded == 0.0
        )


def test_times_are_milliseconds_and_read_back_exactly() -> None:
    rng = random.Random(3)
    start = datetime(1990, 1, 1, tzinfo=UTC)
    for _ in range(5000):
        when = start + timedelta(milliseconds=rng.randrange(0, 200 * 365 * 86_400_000))
        ms = to_ms(when)
        assert from_ms(ms) == when
    assert to_ms(datetime(1970, 1, 1, 0, 0, 1, 234567, tzinfo=UTC)) == 1234
