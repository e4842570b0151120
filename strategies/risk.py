"""Risk controls every strategy type applies, as plain numbers read once from the config."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from strategies.config import PositionSizingMethod, StrategyConfig

# Capital checks keep this headroom for fees and slippage, so an order that passes the
# check can be paid for when it fills.
COST_HEADROOM = 0.005


def _fraction(value: Decimal | None) -> float:
    return math.nan if value is None else float(value) / 100.0


def _amount(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True, slots=True)
class RiskParams:
    """Stop loss / take profit (fractions of the average entry), daily loss, sizing."""

    capital: float
    stop_loss: float  # NaN = none
    take_profit: float
    daily_loss_usd: float
    daily_loss_fraction: float
    sizing_method: PositionSizingMethod | None
    sizing_fraction: float
    sizing_amount: float
    max_per_trade: float
    max_positions: int  # 0 = the type's default
    quantity_step: float

    @classmethod
    def from_config(cls, config: StrategyConfig) -> RiskParams:
        r = config.risk_controls
        s = config.position_sizing
        return cls(
            capital=float(config.capital_allocation.allocated_capital or 0),
            stop_loss=_fraction(r.stop_loss_pct),
            take_profit=_fraction(r.take_profit_pct),
            daily_loss_usd=_amount(r.max_daily_loss_usd),
            daily_loss_fraction=_fraction(r.max_daily_loss_pct),
            sizing_method=s.method,
            sizing_fraction=_fraction(s.pct_equity),
            sizing_amount=_amount(s.fixed_amount),
            max_per_trade=_amount(config.capital_allocation.max_capital_per_trade),
            max_positions=s.max_positions,
            quantity_step=1e-8 if config.fractional() else 1.0,
        )

    @property
    def has_daily_loss(self) -> bool:
        return not (math.isnan(self.daily_loss_usd) and math.isnan(self.daily_loss_fraction))

    def daily_loss_limit(self, day_start_equity: float) -> float:
        """USD the strategy may lose in a day (the tighter of the two limits)."""
        limits = [self.daily_loss_usd, day_start_equity * self.daily_loss_fraction]
        return min(x for x in limits if not math.isnan(x))

    def entry_notional(self, equity: float, default_fraction: float) -> float:
        """USD for one new position, before the capital check."""
        if self.sizing_method is PositionSizingMethod.FIXED_AMOUNT:
            notional = self.sizing_amount
        elif self.sizing_method is PositionSizingMethod.PCT_EQUITY:
            notional = equity * self.sizing_fraction
        else:
            notional = equity * default_fraction
        return self.capped(notional)

    def capped(self, notional: float) -> float:
        if math.isnan(self.max_per_trade):
            return notional
        return min(notional, self.max_per_trade)

    def round_quantity(self, quantity: float) -> float:
        """Down to the quantity step (whole shares for equities unless fractional)."""
        step = self.quantity_step
        if quantity <= 0:
            return 0.0
        return math.floor(quantity / step + 1e-9) * step
