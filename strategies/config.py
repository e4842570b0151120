"""The strategy configuration, field for field as ``trading.types.v1.StrategyConfig``.

Money, prices and percentages are ``Decimal`` (``None`` where the wire string is empty,
meaning "not set"); enums are ``None`` where the wire value is UNSPECIFIED. Build one
from the wire with ``strategies.proto_codec.config_from_proto`` or from JSON with
``config_from_dict``; check it with ``strategies.validation.validate_config``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from market_data.intervals import Interval


class StrategyType(StrEnum):
    DCA = "dca"
    SPOT_GRID = "spot_grid"
    RSI_REVERSION = "rsi_reversion"
    SMA_CROSSOVER = "sma_crossover"
    BUY_AND_HOLD = "buy_and_hold"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AssetClass(StrEnum):
    CRYPTO = "crypto"
    US_EQUITY = "us_equity"


class TimeHorizon(StrEnum):
    INTRADAY = "intraday"
    SWING = "swing"
    LONG_TERM = "long_term"


class AutomationLevel(StrEnum):
    MANUAL = "manual"
    SEMI_AUTO = "semi_auto"
    FULLY_AUTO = "fully_auto"


class Timeframe(StrEnum):
    """Proto names TIMEFRAME_1M..TIMEFRAME_1D; values are the market_data interval strings."""

    TF_1M = "1m"
    TF_5M = "5m"
    TF_15M = "15m"
    TF_1H = "1h"
    TF_1D = "1d"

    @property
    def interval(self) -> Interval:
        return Interval(self.value)


class PositionSizingMethod(StrEnum):
    PCT_EQUITY = "pct_equity"
    FIXED_AMOUNT = "fixed_amount"


class GridMode(StrEnum):
    ARITHMETIC = "arithmetic"
    GEOMETRIC = "geometric"


@dataclass(frozen=True, slots=True)
class CapitalAllocation:
    allocated_capital: Decimal | None = None
    max_capital_per_trade: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PositionSizing:
    method: PositionSizingMethod | None = None
    pct_equity: Decimal | None = None
    fixed_amount: Decimal | None = None
    max_positions: int = 0


@dataclass(frozen=True, slots=True)
class RiskControls:
    stop_loss_pct: Decimal | None = None
    take_profit_pct: Decimal | None = None
    max_daily_loss_usd: Decimal | None = None
    max_daily_loss_pct: Decimal | None = None
    max_drawdown_pct: Decimal | None = None
    max_orders_per_minute: int = 0
    max_orders_per_day: int = 0
    max_leverage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TradeWindow:
    enabled: bool = False
    start_time: str = ""
    end_time: str = ""
    days_of_week: tuple[int, ...] = ()
    timezone: str = ""


@dataclass(frozen=True, slots=True)
class TechnicalIndicators:
    rsi_period: int = 0
    rsi_buy_threshold: Decimal | None = None
    rsi_sell_threshold: Decimal | None = None
    sma_fast_period: int = 0
    sma_slow_period: int = 0


@dataclass(frozen=True, slots=True)
class DcaSettings:
    base_order_amount: Decimal | None = None
    safety_order_amount: Decimal | None = None
    max_safety_orders: int = 0
    price_deviation_pct: Decimal | None = None
    step_scale: Decimal | None = None
    volume_scale: Decimal | None = None
    take_profit_pct: Decimal | None = None
    rsi_entry_filter: bool = False


@dataclass(frozen=True, slots=True)
class GridSettings:
    lower_price: Decimal | None = None
    upper_price: Decimal | None = None
    grid_mode: GridMode | None = None
    grid_count: int = 0
    quantity_per_grid: Decimal | None = None
    trailing_enabled: bool = False


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    name: str = ""
    strategy_type: StrategyType | None = None
    risk_level: RiskLevel | None = None
    base_symbol: str = ""
    asset_class: AssetClass | None = None
    time_horizon: TimeHorizon | None = None
    automation_level: AutomationLevel | None = None
    timeframe: Timeframe | None = None
    capital_allocation: CapitalAllocation = field(default_factory=CapitalAllocation)
    position_sizing: PositionSizing = field(default_factory=PositionSizing)
    risk_controls: RiskControls = field(default_factory=RiskControls)
    trade_window: TradeWindow = field(default_factory=TradeWindow)
    technical_indicators: TechnicalIndicators = field(default_factory=TechnicalIndicators)
    dca: DcaSettings = field(default_factory=DcaSettings)
    grid: GridSettings = field(default_factory=GridSettings)
    fractional_enabled: bool = False
    description: str = ""

    def resolved_asset_class(self) -> AssetClass:
        """The asset class, inferred from the symbol's shape when unspecified."""
        if self.asset_class is not None:
            return self.asset_class
        return AssetClass.CRYPTO if "/" in self.base_symbol else AssetClass.US_EQUITY

    def fractional(self) -> bool:
        """Whether quantities may be fractional (always for crypto)."""
        return self.fractional_enabled or self.resolved_asset_class() is AssetClass.CRYPTO
