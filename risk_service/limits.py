"""Effective limits: the most restrictive of the platform defaults, the subscription
tier, the user's risk tolerance and the strategy's own configuration, each with its source.

The platform, tier and tolerance values come from ``platform_config`` (keys
``default_risk_limits``, ``tier_risk_limits``, ``risk_tolerance_limits``); the strategy's
from its configuration. Numbers take the smallest value set by any source; the allowed
asset classes take the intersection. On a tie the most specific source is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from risk_service.model import AssetClass, RiskTolerance, StrategyLimits, Tier


class LimitSource(StrEnum):
    PLATFORM = "platform"
    TIER = "tier"
    RISK_TOLERANCE = "risk_tolerance"
    STRATEGY = "strategy"


# Most general first: on a tie the later (more specific) source is named.
_SOURCE_ORDER = (
    LimitSource.PLATFORM,
    LimitSource.TIER,
    LimitSource.RISK_TOLERANCE,
    LimitSource.STRATEGY,
)

LimitValue = Decimal | int | frozenset[AssetClass]


@dataclass(frozen=True, slots=True)
class LimitSpec:
    name: str
    unit: str  # "USD", "percent", "count", "ratio", "list"
    kind: type  # Decimal, int or frozenset


LIMIT_SPECS: tuple[LimitSpec, ...] = (
    LimitSpec("max_notional_per_order", "USD", Decimal),
    LimitSpec("max_position_pct_equity", "percent", Decimal),
    LimitSpec("max_positions", "count", int),
    LimitSpec("max_daily_loss_usd", "USD", Decimal),
    LimitSpec("max_daily_loss_pct", "percent", Decimal),
    LimitSpec("max_drawdown_pct", "percent", Decimal),
    LimitSpec("strategy_max_daily_loss_usd", "USD", Decimal),
    LimitSpec("strategy_max_daily_loss_pct", "percent", Decimal),
    LimitSpec("strategy_max_drawdown_pct", "percent", Decimal),
    LimitSpec("max_orders_per_minute", "count", int),
    LimitSpec("max_orders_per_day", "count", int),
    LimitSpec("max_leverage", "ratio", Decimal),
    LimitSpec("allowed_asset_classes", "list", frozenset),
)
_SPECS_BY_NAME = {spec.name: spec for spec in LIMIT_SPECS}

# The strategy's own settings, and the limit each one tightens. Loss and drawdown limits of
# a strategy apply to that strategy's P&L, so they are limits of their own.
_STRATEGY_FIELDS = {
    "max_notional_per_order": "max_notional_per_order",
    "max_positions": "max_positions",
    "strategy_max_daily_loss_usd": "max_daily_loss_usd",
    "strategy_max_daily_loss_pct": "max_daily_loss_pct",
    "strategy_max_drawdown_pct": "max_drawdown_pct",
    "max_orders_per_minute": "max_orders_per_minute",
    "max_orders_per_day": "max_orders_per_day",
    "max_leverage": "max_leverage",
}


class ConfigError(ValueError):
    """The platform configuration in the database cannot be used (fail closed)."""


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    unit: str
    value: LimitValue | None  # None = unlimited
    source: LimitSource | None
    candidates: tuple[tuple[LimitSource, LimitValue], ...]


@dataclass(frozen=True, slots=True)
class EffectiveLimits:
    limits: Mapping[str, Limit]

    def value(self, name: str) -> Any:
        """The effective value of limit ``name`` (None = unlimited)."""
        return self.limits[name].value

    def source(self, name: str) -> LimitSource | None:
        return self.limits[name].source

    def describe(self, name: str) -> str:
        """Where a limit comes from, for messages: "tier", "risk tolerance", ..."""
        source = self.limits[name].source
        return source.value.replace("_", " ") if source else "no limit"


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    """The parsed risk rows of ``platform_config``."""

    defaults: Mapping[str, LimitValue]
    tiers: Mapping[Tier, Mapping[str, LimitValue]]
    tolerances: Mapping[RiskTolerance, Mapping[str, LimitValue]]
    fee_pct: Mapping[AssetClass, Decimal]

    @classmethod
    def from_rows(cls, rows: Mapping[str, Any]) -> PlatformConfig:
        """Parse the jsonb values by key; raises ConfigError naming what is wrong."""
        missing = [
            key
            for key in ("default_risk_limits", "tier_risk_limits", "risk_tolerance_limits")
            if key not in rows
        ]
        if missing:
            raise ConfigError(f"platform_config is missing {', '.join(missing)}")
        tiers = _mapping(rows["tier_risk_limits"], "tier_risk_limits")
        tolerances = _mapping(rows["risk_tolerance_limits"], "risk_tolerance_limits")
        fees = _mapping(rows.get("estimated_fee_pct", {}), "estimated_fee_pct")
        return cls(
            defaults=_parse_limits(rows["default_risk_limits"], "default_risk_limits"),
            tiers={
                tier: _parse_limits(tiers.get(tier.value, {}), f"tier_risk_limits.{tier}")
                for tier in Tier
            },
            tolerances={
                tolerance: _parse_limits(
                    tolerances.get(tolerance.value, {}), f"risk_tolerance_limits.{tolerance}"
                )
                for tolerance in RiskTolerance
            },
            fee_pct={
                asset: _decimal(fees.get(asset.value, "0"), f"estimated_fee_pct.{asset}")
                for asset in AssetClass
            },
        )


def effective_limits(
    config: PlatformConfig,
    tier: Tier,
    risk_tolerance: RiskTolerance,
    strategy: StrategyLimits | None = None,
) -> EffectiveLimits:
    """The limits an order is held to, each the most restrictive of every source."""
    per_source: dict[LimitSource, Mapping[str, LimitValue]] = {
        LimitSource.PLATFORM: config.defaults,
        LimitSource.TIER: config.tiers.get(tier, {}),
        LimitSource.RISK_TOLERANCE: config.tolerances.get(risk_tolerance, {}),
        LimitSource.STRATEGY: _strategy_values(strategy),
    }
    limits = {}
    for spec in LIMIT_SPECS:
        candidates = tuple(
            (source, per_source[source][spec.name])
            for source in _SOURCE_ORDER
            if spec.name in per_source[source]
        )
        value, source = _most_restrictive(spec, candidates)
        limits[spec.name] = Limit(spec.name, spec.unit, value, source, candidates)
    return EffectiveLimits(limits)


def _strategy_values(strategy: StrategyLimits | None) -> dict[str, LimitValue]:
    if strategy is None:
        return {}
    values = {}
    for limit_name, attribute in _STRATEGY_FIELDS.items():
        value = getattr(strategy, attribute)
        if value is not None:
            values[limit_name] = value
    return values


def _most_restrictive(
    spec: LimitSpec, candidates: tuple[tuple[LimitSource, LimitValue], ...]
) -> tuple[LimitValue | None, LimitSource | None]:
    if not candidates:
        return None, None
    if spec.kind is frozenset:
        allowed: frozenset = candidates[0][1]  # type: ignore[assignment]
        for _, value in candidates[1:]:
            allowed = allowed & value  # type: ignore[operator]
        # Named: the most specific source that alone allows exactly this much, else the
        # last one that narrowed it.
        source = next(
            (src for src, value in reversed(candidates) if value == allowed), candidates[-1][0]
        )
        return allowed, source
    best_value, best_source = candidates[0][1], candidates[0][0]
    for source, value in candidates[1:]:
        if value <= best_value:  # type: ignore[operator]
            best_value, best_source = value, source
    return best_value, best_source


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"platform_config {where} must be a JSON object")
    return value


def _parse_limits(raw: Any, where: str) -> dict[str, LimitValue]:
    values: dict[str, LimitValue] = {}
    for name, value in _mapping(raw, where).items():
        spec = _SPECS_BY_NAME.get(name)
        if spec is None:
            raise ConfigError(f"platform_config {where}: unknown limit {name!r}")
        values[name] = _parse_limit(spec, value, f"{where}.{name}")
    return values


def _parse_limit(spec: LimitSpec, value: Any, where: str) -> LimitValue:
    if spec.kind is frozenset:
        try:
            return frozenset(AssetClass(item) for item in value)
        except (TypeError, ValueError):
            raise ConfigError(f"platform_config {where} must list asset classes") from None
    if spec.kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"platform_config {where} must be a non-negative integer")
        return value
    number = _decimal(value, where)
    if number < 0:
        raise ConfigError(f"platform_config {where} must not be negative")
    return number


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"platform_config {where} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ConfigError(f"platform_config {where} must be finite")
    return number
