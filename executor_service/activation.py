"""Activation checks: a strategy's config against the limits of the user's tier.

Pure: takes the risk service's effective limits and the config, raises
FAILED_PRECONDITION naming the config field that exceeds a limit. The strategy's own
values are among the limit's candidates; they are left out here, since a config
cannot exceed itself.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from servicekit.errors import FailedPrecondition
from trading.risk.v1 import risk_service_pb2 as rpb
from trading.types.v1 import types_pb2 as tpb

_ASSET_CLASS_NAMES = {
    tpb.ASSET_CLASS_CRYPTO: "crypto",
    tpb.ASSET_CLASS_US_EQUITY: "us_equity",
}


def _ceiling(limit: rpb.EffectiveLimit) -> Decimal | None:
    """The tightest value set by a source other than the strategy itself."""
    values = []
    for candidate in limit.candidates:
        if candidate.source == rpb.LIMIT_SOURCE_STRATEGY or not candidate.value:
            continue
        try:
            values.append(Decimal(candidate.value))
        except InvalidOperation:
            continue
    return min(values) if values else None


def _allowed_classes(limit: rpb.EffectiveLimit) -> set[str] | None:
    if not limit.value:
        return None
    return {part.strip().lower() for part in limit.value.replace(";", ",").split(",") if part}


def _exceeds(field: str, value: str, ceiling: Decimal | None, what: str, tier: str) -> None:
    if not value or ceiling is None:
        return
    if Decimal(value) > ceiling:
        raise FailedPrecondition(
            f"{field} is {value} but your {tier} plan allows at most {ceiling} ({what})",
            field=field,
            reason="TIER_LIMIT_EXCEEDED",
        )


def check_against_limits(
    config: tpb.StrategyConfig, limits: rpb.GetEffectiveLimitsResponse
) -> None:
    """Raise FAILED_PRECONDITION (reason TIER_LIMIT_EXCEEDED) if the config exceeds a limit."""
    tier = tpb.SubscriptionTier.Name(limits.tier).removeprefix("SUBSCRIPTION_TIER_").lower()
    by_name = {limit.name: limit for limit in limits.limits}
    classes = by_name.get("allowed_asset_classes")
    allowed = _allowed_classes(classes) if classes else None
    asset = _ASSET_CLASS_NAMES.get(config.asset_class)
    if allowed is not None and asset not in allowed:
        raise FailedPrecondition(
            f"config.asset_class {asset} is not allowed on your {tier} plan",
            field="config.asset_class",
            reason="TIER_LIMIT_EXCEEDED",
        )
    checks = [
        (
            "config.position_sizing.max_positions",
            str(config.position_sizing.max_positions or ""),
            "max_positions",
            "open positions",
        ),
        (
            "config.capital_allocation.max_capital_per_trade",
            config.capital_allocation.max_capital_per_trade,
            "max_notional_per_order",
            "USD per order",
        ),
        (
            "config.dca.base_order_amount",
            config.dca.base_order_amount,
            "max_notional_per_order",
            "USD per order",
        ),
        (
            "config.risk_controls.max_leverage",
            config.risk_controls.max_leverage,
            "max_leverage",
            "leverage",
        ),
    ]
    for field, value, limit_name, what in checks:
        limit = by_name.get(limit_name)
        if limit is not None:
            _exceeds(field, value, _ceiling(limit), what, tier)
