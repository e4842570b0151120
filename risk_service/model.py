"""The risk domain's vocabulary: orders, accounts, strategies and profiles as plain data.

Everything here is built by ``validation`` from a request (or by ``store`` from rows) and
read by the rules; nothing here knows about protobuf or the database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class AssetClass(StrEnum):
    US_EQUITY = "us_equity"
    CRYPTO = "crypto"


class StrategyStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    REDUCING = "reducing"
    DRAFT = "draft"
    ERROR = "error"


class Tier(StrEnum):
    STARTER = "starter"
    PRO = "pro"
    ELITE = "elite"


class RiskTolerance(StrEnum):
    CONSERVATIVE = "conservative"
    MEDIUM = "medium"
    AGGRESSIVE = "aggressive"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """The order to check. ``price`` is what it is expected to execute at."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    price: Decimal
    asset_class: AssetClass
    limit_price: Decimal | None = None
    # Decimal places a quantity of this instrument may have (rounding max_allowed_quantity).
    quantity_places: int = 0

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price

    @property
    def is_buy(self) -> bool:
        return self.side is Side.BUY

    def with_quantity(self, quantity: Decimal) -> OrderRequest:
        return replace(self, quantity=quantity)


@dataclass(frozen=True, slots=True)
class Holding:
    """An open position of the strategy (long when quantity > 0)."""

    symbol: str
    quantity: Decimal
    average_entry_price: Decimal
    market_price: Decimal | None = None

    def market_value(self) -> Decimal:
        return abs(self.quantity) * (self.market_price or self.average_entry_price)

    def cost_basis(self) -> Decimal:
        return abs(self.quantity) * self.average_entry_price


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order of the strategy still working at the broker."""

    symbol: str
    side: Side
    quantity: Decimal
    # None for market and stop orders (no resting price).
    limit_price: Decimal | None = None
    reference_price: Decimal | None = None

    def reserved_notional(self, fallback_price: Decimal) -> Decimal:
        price = self.limit_price or self.reference_price or fallback_price
        return self.quantity * price


@dataclass(frozen=True, slots=True)
class Account:
    cash: Decimal
    buying_power: Decimal
    equity: Decimal
    realized_pnl_today: Decimal
    unrealized_pnl: Decimal
    peak_equity: Decimal
    # All positions of the account; None = only the strategy's are known.
    gross_exposure: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TradeWindow:
    """When the strategy may trade; ``timezone`` None = the exchange's."""

    start: dt.time
    end: dt.time
    days_of_week: frozenset[int] = frozenset()
    timezone: ZoneInfo | None = None


@dataclass(frozen=True, slots=True)
class StrategyLimits:
    """The limits a strategy's own configuration sets (None = not set)."""

    max_notional_per_order: Decimal | None = None
    max_positions: int | None = None
    max_daily_loss_usd: Decimal | None = None
    max_daily_loss_pct: Decimal | None = None
    max_drawdown_pct: Decimal | None = None
    max_orders_per_minute: int | None = None
    max_orders_per_day: int | None = None
    max_leverage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Strategy:
    strategy_id: uuid.UUID
    user_id: uuid.UUID
    status: StrategyStatus
    positions: tuple[Holding, ...] = ()
    open_orders: tuple[OpenOrder, ...] = ()
    realized_pnl_today: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    equity: Decimal | None = None
    peak_equity: Decimal | None = None
    allocated_capital: Decimal | None = None
    trade_window: TradeWindow | None = None
    limits: StrategyLimits = field(default_factory=StrategyLimits)
    fractional_enabled: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: uuid.UUID
    tier: Tier = Tier.STARTER
    risk_tolerance: RiskTolerance = RiskTolerance.MEDIUM
    paper_mode: bool = True
    updated_at: dt.datetime | None = None
