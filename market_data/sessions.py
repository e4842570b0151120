"""Bar open times: 24/7 for crypto, regular US sessions (09:30-16:00 New York) for equities."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from market_data.intervals import Interval
from market_data.symbols import AssetClass

NEW_YORK = ZoneInfo("America/New_York")
SESSION_OPEN = time(9, 30)
SESSION_MINUTES = 390  # 09:30-16:00; exchange holidays are not modelled


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_ns(moment: datetime) -> int:
    return int(as_utc(moment).timestamp()) * 1_000_000_000 + as_utc(moment).microsecond * 1000


def bar_open_times(
    asset_class: AssetClass, interval: Interval, start: datetime, end: datetime
) -> np.ndarray:
    """Open times (int64 ns UTC) of the bars that start in [start, end)."""
    if asset_class is AssetClass.CRYPTO:
        return _continuous(interval, start, end)
    return _equity_sessions(interval, start, end)


def bars_per_year(asset_class: AssetClass, interval: Interval) -> float:
    """Bars in a year: 365 days of 24h for crypto, 252 sessions of 6.5h for equities."""
    if asset_class is AssetClass.CRYPTO:
        return 365.0 * 1440.0 / interval.minutes
    if interval is Interval.D1:
        return 252.0
    return 252.0 * -(-SESSION_MINUTES // interval.minutes)


def _continuous(interval: Interval, start: datetime, end: datetime) -> np.ndarray:
    step = interval.nanoseconds
    first = -(-to_ns(start) // step) * step  # align to the interval
    return np.arange(first, to_ns(end), step, dtype=np.int64)


def _equity_sessions(interval: Interval, start: datetime, end: datetime) -> np.ndarray:
    start_ns, end_ns = to_ns(start), to_ns(end)
    per_session = 1 if interval is Interval.D1 else -(-SESSION_MINUTES // interval.minutes)
    offsets = np.arange(per_session, dtype=np.int64) * interval.nanoseconds
    opens = [
        to_ns(datetime.combine(day, SESSION_OPEN, NEW_YORK))
        for day in _weekdays(as_utc(start).date() - timedelta(days=1), as_utc(end).date())
    ]
    if not opens:
        return np.empty(0, np.int64)
    stamps = (np.asarray(opens, np.int64)[:, None] + offsets[None, :]).ravel()
    return stamps[(stamps >= start_ns) & (stamps < end_ns)]


def _weekdays(first: date, last: date) -> list[date]:
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days
