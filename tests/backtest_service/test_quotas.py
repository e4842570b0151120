"""Per-tier limits: concurrent, hourly, period length."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from backtest_service import quotas
from backtest_service.quotas import QuotaUsage
from servicekit.errors import InvalidArgument, ResourceExhausted

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_check_usage_when_concurrent_limit_reached_raises_resource_exhausted_with_retry():
    limit = quotas.limits_for("starter").max_concurrent
    usage = QuotaUsage(active=limit, submitted_last_hour=limit, oldest_in_window=NOW)
    with pytest.raises(ResourceExhausted) as raised:
        quotas.check_usage("starter", usage, NOW)
    assert raised.value.reason == "CONCURRENT_BACKTEST_LIMIT"
    assert raised.value.retry_after_seconds == quotas.CONCURRENT_RETRY_AFTER_SECONDS
    assert "starter tier allows" in raised.value.message


def test_check_usage_when_hourly_limit_reached_retry_after_is_when_the_oldest_leaves_the_hour():
    limit = quotas.limits_for("pro").max_per_hour
    oldest = NOW - dt.timedelta(minutes=50)
    usage = QuotaUsage(active=0, submitted_last_hour=limit, oldest_in_window=oldest)
    with pytest.raises(ResourceExhausted) as raised:
        quotas.check_usage("pro", usage, NOW)
    assert raised.value.reason == "HOURLY_BACKTEST_LIMIT"
    assert raised.value.retry_after_seconds == 10 * 60


def test_check_usage_when_under_every_limit_passes():
    quotas.check_usage(
        "elite", QuotaUsage(active=1, submitted_last_hour=5, oldest_in_window=NOW), NOW
    )


def test_check_period_when_longer_than_tier_allows_raises_invalid_argument_on_end_time():
    start = NOW - dt.timedelta(days=quotas.limits_for("starter").max_period_days + 1)
    with pytest.raises(InvalidArgument) as raised:
        quotas.check_period("starter", start, NOW)
    assert raised.value.field == "spec.end_time"
    quotas.check_period("elite", start, NOW)


def test_limits_for_when_tier_unknown_uses_the_most_restrictive():
    assert quotas.limits_for("platinum") == quotas.limits_for(quotas.FALLBACK_TIER)
    tiers = [quotas.limits_for(t) for t in ("starter", "pro", "elite")]
    assert all(a.max_concurrent <= b.max_concurrent for a, b in itertools.pairwise(tiers))
