"""Per-tier limits on backtests: how many at once, how many per hour, how long a period.

Pure rules: the caller gathers the user's usage (``QuotaUsage``) and the tier; a breach
raises ``ResourceExhausted`` (with a retry-after) or ``InvalidArgument`` (period too long).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from servicekit.errors import InvalidArgument, ResourceExhausted

HOURLY_WINDOW = dt.timedelta(hours=1)
# When the concurrent limit is hit we cannot know when a running job ends; this is how
# soon a retry is worth trying (jobs report progress about every second).
CONCURRENT_RETRY_AFTER_SECONDS = 15


@dataclass(frozen=True, slots=True)
class TierLimits:
    """What one subscription tier may run."""

    max_concurrent: int
    max_per_hour: int
    max_period_days: int


TIER_LIMITS: dict[str, TierLimits] = {
    "starter": TierLimits(max_concurrent=1, max_per_hour=10, max_period_days=366),
    "pro": TierLimits(max_concurrent=3, max_per_hour=60, max_period_days=5 * 366),
    "elite": TierLimits(max_concurrent=10, max_per_hour=300, max_period_days=10 * 366),
}
# The most restrictive tier: used whenever the real tier cannot be established.
FALLBACK_TIER = "starter"


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """A user's backtests at the moment of a submission."""

    active: int  # queued or running
    submitted_last_hour: int
    oldest_in_window: dt.datetime | None  # created_at of the oldest submission in the hour


def limits_for(tier: str) -> TierLimits:
    """The limits of ``tier`` (unknown tiers get the most restrictive limits)."""
    return TIER_LIMITS.get(tier, TIER_LIMITS[FALLBACK_TIER])


def check_period(tier: str, start: dt.datetime, end: dt.datetime) -> None:
    """Refuse a period longer than the tier allows (INVALID_ARGUMENT on the end time)."""
    limits = limits_for(tier)
    if end - start > dt.timedelta(days=limits.max_period_days):
        raise InvalidArgument(
            "spec.end_time",
            f"the period is {(end - start).days} days; the {tier} tier allows at most "
            f"{limits.max_period_days} days per backtest",
            reason="PERIOD_TOO_LONG",
        )


def check_usage(tier: str, usage: QuotaUsage, now: dt.datetime) -> None:
    """Refuse a submission over the tier's concurrent or hourly limit."""
    limits = limits_for(tier)
    if usage.active >= limits.max_concurrent:
        raise ResourceExhausted(
            f"you have {usage.active} backtests queued or running; the {tier} tier allows "
            f"{limits.max_concurrent} at once. Wait for one to finish or cancel one.",
            retry_after_seconds=CONCURRENT_RETRY_AFTER_SECONDS,
            reason="CONCURRENT_BACKTEST_LIMIT",
        )
    if usage.submitted_last_hour >= limits.max_per_hour:
        retry_after = CONCURRENT_RETRY_AFTER_SECONDS
        if usage.oldest_in_window is not None:
            frees_at = usage.oldest_in_window + HOURLY_WINDOW
            retry_after = max(1, math.ceil((frees_at - now).total_seconds()))
        raise ResourceExhausted(
            f"you submitted {usage.submitted_last_hour} backtests in the last hour; the "
            f"{tier} tier allows {limits.max_per_hour} per hour. Try again in "
            f"{retry_after} seconds.",
            retry_after_seconds=retry_after,
            reason="HOURLY_BACKTEST_LIMIT",
        )
