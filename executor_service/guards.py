"""Loss guards the executor enforces on a running strategy: stop loss and daily loss.

Pure: given the position and P&L, the breach (a reason code and a message) or None. A
breach pauses the strategy (recorded with its reason) and tells the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from servicekit.money import format_decimal, format_usd
from strategies.config import StrategyConfig


@dataclass(frozen=True)
class Breach:
    event_type: str        # notification event type, snake_case
    message: str
    data: dict[str, str]


def check_stop_loss(
    config: StrategyConfig, quantity: Decimal, average_entry: Decimal, price: Decimal
) -> Breach | None:
    limit = config.risk_controls.stop_loss_pct
    if limit is None or quantity <= 0 or average_entry <= 0:
        return None
    loss_pct = (average_entry - price) / average_entry * 100
    if loss_pct < limit:
        return None
    return Breach(
        "stop_loss_triggered",
        f"Stop loss: {config.base_symbol} is {loss_pct:.2f}% below the average entry "
        f"{format_usd(average_entry)} (limit {format_decimal(limit)}%)",
        {"loss_pct": f"{loss_pct:.2f}", "limit_pct": format_decimal(limit),
         "price": format_decimal(price), "average_entry_price": format_decimal(average_entry)},
    )


def check_daily_loss(config: StrategyConfig, pnl_today: Decimal) -> Breach | None:
    """``pnl_today``: realized today plus the open position's unrealized P&L."""
    controls = config.risk_controls
    limits: list[tuple[Decimal, str]] = []
    if controls.max_daily_loss_usd is not None:
        limits.append((controls.max_daily_loss_usd, format_usd(controls.max_daily_loss_usd)))
    allocated = config.capital_allocation.allocated_capital
    if controls.max_daily_loss_pct is not None and allocated:
        amount = allocated * controls.max_daily_loss_pct / 100
        limits.append((amount, f"{format_decimal(controls.max_daily_loss_pct)}% of allocation"))
    for amount, label in limits:
        if -pnl_today >= amount:
            return Breach(
                "daily_loss_limit_breached",
                f"Daily loss {format_usd(-pnl_today)} reached the limit ({label})",
                {"loss_usd": format_decimal(-pnl_today), "limit_usd": format_decimal(amount)},
            )
    return None
