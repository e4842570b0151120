"""What a valid backtest submission is: pure checks that name the offending field.

The strategy config itself is validated by ``strategies.config`` (the same model the
executor uses); these checks cover what only a backtest has: the period, the capital,
the bars the period must hold, and the execution costs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from servicekit.errors import InvalidArgument
from servicekit.money import parse_decimal

TIMEFRAME_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
# Fewer bars than this cannot produce a single decision and its fill.
MIN_BARS = 2
# The engine's realistic defaults apply to any field left empty.
EXECUTION_FIELDS = ("maker_fee_bps", "taker_fee_bps", "slippage_bps", "max_volume_share")
MAX_BPS = Decimal(1000)  # 10 %: anything above is a typo, not a market


def check_period(
    start: dt.datetime | None, end: dt.datetime | None, timeframe: str, now: dt.datetime
) -> None:
    """The period must be ordered, in the past, and long enough to hold bars."""
    if start is None:
        raise InvalidArgument("spec.start_time", "is required")
    if end is None:
        raise InvalidArgument("spec.end_time", "is required")
    if end <= start:
        raise InvalidArgument("spec.end_time", "must be after spec.start_time")
    if end > now:
        raise InvalidArgument("spec.end_time", "must not be in the future")
    bar_seconds = TIMEFRAME_SECONDS[timeframe]
    if (end - start).total_seconds() < MIN_BARS * bar_seconds:
        raise InvalidArgument(
            "spec.end_time",
            f"the period holds no data: at least {MIN_BARS} {timeframe} bars are needed "
            f"between spec.start_time and spec.end_time",
            reason="EMPTY_DATA",
        )


def parse_capital(value: str, field: str) -> Decimal:
    """Starting capital: a positive decimal."""
    capital = parse_decimal(value, field, positive=True, allow_zero=False, max_places=8)
    assert capital is not None  # required=True
    return capital


def parse_execution(values: dict[str, str]) -> dict[str, str]:
    """Execution cost overrides, each a non-negative decimal; empty ones are dropped."""
    parsed: dict[str, str] = {}
    for name in EXECUTION_FIELDS:
        text = values.get(name, "")
        field = f"spec.execution.{name}"
        number = parse_decimal(text, field, positive=True, required=False)
        if number is None:
            continue
        if name == "max_volume_share" and not Decimal(0) < number <= 1:
            raise InvalidArgument(field, "must be above 0 and at most 1")
        if name.endswith("_bps") and number > MAX_BPS:
            raise InvalidArgument(field, f"must be at most {MAX_BPS} basis points")
        parsed[name] = str(number)
    return parsed
