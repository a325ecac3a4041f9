"""Compact encodings of reading fields.

Timestamps are integer milliseconds since the Unix epoch (UTC). A value is
stored as a scaled decimal integer when one with at most six decimals gives
back exactly the same float: ``mantissa * 10 + decimals``, so 22.55 is stored
as 22552 (two bytes in SQLite's record format), 1.0 as 10 and 0.0 as 0. Any
other float is stored as an 8-byte REAL. Decoding tells the two apart by the
SQLite storage class, so every value reads back bit for bit.
"""

from datetime import UTC, datetime, timedelta
import math

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
MAX_DECIMALS = 6
# Ten entries so any last digit decodes, even one this version never writes.
_POWERS = tuple(10**decimals for decimals in range(10))
_EXACT_INT_LIMIT = 2**53


def to_ms(when: datetime) -> int:
    """Return milliseconds since the epoch; `when` must be timezone aware."""
    return (when - EPOCH) // ONE_MS


def from_ms(ms: int) -> datetime:
    """Return the UTC datetime of milliseconds since the epoch.

    The float division is exact to the millisecond until the year 2242 (its
    error stays under half a microsecond, which `fromtimestamp` rounds away),
    and three times faster than adding a timedelta.
    """
    return datetime.fromtimestamp(ms / 1000, UTC)


def encode_value(value: float) -> int | float:
    """Return the compact stored form of a finite value.

    Raises ValueError for NaN and infinities, TypeError for non-numbers.
    """
    if not math.isfinite(value):
        raise ValueError("value is not finite")
    for decimals, power in enumerate(_POWERS[: MAX_DECIMALS + 1]):
        mantissa: int = round(value * power)
        if mantissa / power == value:
            if abs(mantissa) < _EXACT_INT_LIMIT:
                return mantissa * 10 + decimals
            break
    return float(value)


def decode_value(stored: float) -> float:
    """Return the value a stored form stands for."""
    if isinstance(stored, int):
        decoded: float = (stored // 10) / _POWERS[stored % 10]
        return decoded
    return stored
