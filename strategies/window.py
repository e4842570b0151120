"""The trade window: when a strategy may open positions (decided at each bar's close)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from strategies.config import TradeWindow

NS_PER_DAY = 86_400 * 1_000_000_000


class WindowRule:
    """Answers "is this moment inside the window?" for one moment or for many at once.

    Days are ISO weekdays in the window's time zone; start < end is a same-day window,
    start > end wraps past midnight (e.g. 22:00-02:00). The end minute is excluded.
    """

    def __init__(self, window: TradeWindow):
        self.enabled = window.enabled
        self._zone = ZoneInfo(window.timezone or "UTC")
        self._start = _minutes(window.start_time) if window.enabled else 0
        self._end = _minutes(window.end_time) if window.enabled else 0
        self._days = frozenset(window.days_of_week or range(1, 8))

    def contains(self, moment_ns: int) -> bool:
        """One moment (ns since epoch, UTC)."""
        if not self.enabled:
            return True
        local = datetime.fromtimestamp(moment_ns / 1e9, UTC).astimezone(self._zone)
        return self._inside(local.isoweekday(), local.hour * 60 + local.minute)

    def mask(self, moments_ns: np.ndarray) -> np.ndarray:
        """Many moments at once (same answers as ``contains``)."""
        if not self.enabled:
            return np.ones(len(moments_ns), dtype=bool)
        local = pd.DatetimeIndex(pd.to_datetime(moments_ns, utc=True)).tz_convert(self._zone)
        minute = np.asarray(local.hour * 60 + local.minute)
        weekday = np.asarray(local.dayofweek) + 1
        in_days = np.isin(weekday, sorted(self._days))
        if self._start < self._end:
            return in_days & (minute >= self._start) & (minute < self._end)
        return in_days & ((minute >= self._start) | (minute < self._end))

    def _inside(self, weekday: int, minute: int) -> bool:
        if weekday not in self._days:
            return False
        if self._start < self._end:
            return self._start <= minute < self._end
        return minute >= self._start or minute < self._end


def _minutes(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return int(hours) * 60 + int(minutes)
