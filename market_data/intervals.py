"""Bar intervals the platform supports, and what they mean in time."""

from __future__ import annotations

from enum import StrEnum

from servicekit.errors import InvalidArgument


class Interval(StrEnum):
    """A bar length. The value is the short form used in requests and files."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"

    @property
    def minutes(self) -> int:
        return _MINUTES[self]

    @property
    def nanoseconds(self) -> int:
        return self.minutes * 60 * 1_000_000_000


_MINUTES = {Interval.M1: 1, Interval.M5: 5, Interval.M15: 15, Interval.H1: 60, Interval.D1: 1440}


def parse_interval(value: str | Interval, field: str = "interval") -> Interval:
    """Accept "1m", "5m", "15m", "1h" or "1d"; anything else is InvalidArgument on ``field``."""
    try:
        return Interval(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(i.value for i in Interval)
        raise InvalidArgument(field, f"unknown interval {value!r} (allowed: {allowed})") from None
