"""Effective limits and kill-switch precedence, as pure functions."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from risk_service.kill_switch import KillSwitch, SwitchMode, SwitchScope, governing_switch
from risk_service.limits import ConfigError, LimitSource, PlatformConfig, effective_limits
from risk_service.model import AssetClass, RiskTolerance, StrategyLimits, Tier

ROWS = {
    "default_risk_limits": {
        "max_notional_per_order": "1000",
        "max_leverage": "4",
        "allowed_asset_classes": ["us_equity", "crypto"],
    },
    "tier_risk_limits": {
        "starter": {"max_notional_per_order": "500", "allowed_asset_classes": ["us_equity"]},
        "pro": {"max_notional_per_order": "1000", "max_leverage": "2"},
    },
    "risk_tolerance_limits": {"medium": {"max_leverage": "2"}},
    "estimated_fee_pct": {"crypto": "0.25"},
}


def test_effective_limits_when_sources_differ_take_the_smallest_and_name_it():
    limits = effective_limits(PlatformConfig.from_rows(ROWS), Tier.STARTER, RiskTolerance.MEDIUM)
    assert limits.value("max_notional_per_order") == Decimal(500)
    assert limits.source("max_notional_per_order") is LimitSource.TIER
    assert limits.value("allowed_asset_classes") == frozenset({AssetClass.US_EQUITY})


def test_effective_limits_when_tied_name_the_most_specific_source():
    limits = effective_limits(PlatformConfig.from_rows(ROWS), Tier.PRO, RiskTolerance.MEDIUM)
    assert limits.source("max_notional_per_order") is LimitSource.TIER
    assert limits.source("max_leverage") is LimitSource.RISK_TOLERANCE


def test_effective_limits_when_strategy_is_stricter_uses_it():
    strategy = StrategyLimits(max_notional_per_order=Decimal(200), max_orders_per_minute=3)
    limits = effective_limits(
        PlatformConfig.from_rows(ROWS), Tier.PRO, RiskTolerance.MEDIUM, strategy
    )
    assert (limits.value("max_notional_per_order"), limits.source("max_notional_per_order")) == (
        Decimal(200),
        LimitSource.STRATEGY,
    )
    assert limits.value("max_orders_per_minute") == 3


def test_effective_limits_when_strategy_is_looser_keeps_the_platform_limit():
    strategy = StrategyLimits(max_notional_per_order=Decimal(10_000))
    limits = effective_limits(
        PlatformConfig.from_rows(ROWS), Tier.PRO, RiskTolerance.MEDIUM, strategy
    )
    assert limits.value("max_notional_per_order") == Decimal(1000)


def test_effective_limits_when_nobody_sets_one_is_unlimited():
    limits = effective_limits(PlatformConfig.from_rows(ROWS), Tier.PRO, RiskTolerance.MEDIUM)
    assert limits.value("max_positions") is None
    assert limits.source("max_positions") is None


@pytest.mark.parametrize(
    "broken",
    [
        {**ROWS, "default_risk_limits": {"max_leverage": "lots"}},
        {**ROWS, "default_risk_limits": {"max_positions": -1}},
        {**ROWS, "default_risk_limits": {"no_such_limit": 1}},
        {**ROWS, "default_risk_limits": {"allowed_asset_classes": ["options"]}},
        {k: v for k, v in ROWS.items() if k != "tier_risk_limits"},
    ],
)
def test_platform_config_when_broken_raises_config_error(broken):
    with pytest.raises(ConfigError):
        PlatformConfig.from_rows(broken)


USER, OTHER = uuid.uuid4(), uuid.uuid4()
BOT, OTHER_BOT = uuid.uuid4(), uuid.uuid4()


def test_governing_switch_when_several_cover_halted_wins_then_the_broadest():
    switches = [
        KillSwitch(SwitchScope.STRATEGY, SwitchMode.HALTED, "bot", USER, BOT),
        KillSwitch(SwitchScope.PLATFORM, SwitchMode.REDUCING, "platform"),
        KillSwitch(SwitchScope.USER, SwitchMode.HALTED, "user", USER),
    ]
    assert governing_switch(switches, USER, BOT).reason == "user"
    assert governing_switch(switches, USER, OTHER_BOT).reason == "user"
    assert governing_switch(switches, OTHER, BOT).reason == "platform"


def test_governing_switch_when_another_users_strategy_is_switched_does_not_apply():
    switches = [KillSwitch(SwitchScope.STRATEGY, SwitchMode.HALTED, "x", OTHER, BOT)]
    assert governing_switch(switches, USER, BOT) is None
