"""The pre-trade rules. Each is a small function that returns a Denial (a reason code,
a message, and where a smaller order would pass, the largest quantity that would) or
None when the order passes it.

Rules that guard growth (buying power, sizes, losses) are skipped for orders that only
shrink a position, so a strategy can always get out. The order and the reason codes are
documented in docs/risk.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from risk_service.context import ZERO, TradeContext
from risk_service.kill_switch import SwitchMode
from risk_service.model import AssetClass, OrderType, StrategyStatus
from servicekit.money import format_decimal, format_usd

HUNDRED = Decimal(100)
UTC = ZoneInfo("UTC")
EXCHANGE_TIMEZONE = {AssetClass.US_EQUITY: ZoneInfo("America/New_York"), AssetClass.CRYPTO: UTC}


@dataclass(frozen=True, slots=True)
class Denial:
    reason_code: str
    message: str
    max_quantity: Decimal | None = None


Check = Callable[[TradeContext], Denial | None]


class Orders(Enum):
    """The orders a rule looks at; it is skipped for the others."""

    ALL = "all"
    GROWING = "growing"  # orders that add exposure (on spot: buys)
    SHRINKING = "shrinking"  # orders that only reduce a position (on spot: sells)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    reason_code: str
    check: Check
    applies_to: Orders
    skip_note: str = ""

    def applies(self, grows_position: bool) -> bool:
        if self.applies_to is Orders.ALL:
            return True
        return grows_position == (self.applies_to is Orders.GROWING)


SELLS_SHRINK = "a sell only shrinks a position"


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}%"


def _quantity_within(ctx: TradeContext, budget: Decimal, unit_cost: Decimal) -> Decimal:
    """The largest quantity (in the instrument's precision) whose cost fits ``budget``."""
    if budget <= 0 or unit_cost <= 0:
        return ZERO
    step = Decimal(1).scaleb(-ctx.order.quantity_places)
    return (budget / unit_cost).quantize(step, rounding=ROUND_DOWN)


# --- trading state -----------------------------------------------------------------


def check_kill_switch(ctx: TradeContext) -> Denial | None:
    switch = ctx.kill_switch
    if switch is None:
        return None
    if switch.mode is SwitchMode.HALTED:
        return Denial("TRADING_STATE", f"Trading halted by the {switch.describe()}")
    if ctx.grows_position:
        return Denial(
            "TRADING_STATE",
            f"Only orders that reduce a position may pass under the {switch.describe()}",
        )
    return None


def check_strategy_state(ctx: TradeContext) -> Denial | None:
    status = ctx.strategy.status
    if status is StrategyStatus.ACTIVE:
        return None
    if status is StrategyStatus.REDUCING:
        if ctx.grows_position:
            return Denial(
                "TRADING_STATE", "Strategy is reducing: only orders that shrink a position pass"
            )
        return None
    return Denial("TRADING_STATE", f"Strategy is {status.value}: it cannot trade")


def check_paper_mode(ctx: TradeContext) -> Denial | None:
    if ctx.live and ctx.profile.paper_mode:
        return Denial("PAPER_MODE", "Profile is in paper mode: orders may not go to a live broker")
    return None


def check_asset_class(ctx: TradeContext) -> Denial | None:
    allowed = ctx.limits.value("allowed_asset_classes")
    asset = ctx.order.asset_class
    if allowed is None or asset in allowed:
        return None
    return Denial(
        "ASSET_CLASS_NOT_ALLOWED",
        f"Asset class {asset.value} is not allowed for this account "
        f"(limit from {ctx.limits.describe('allowed_asset_classes')})",
    )


def check_trade_window(ctx: TradeContext) -> Denial | None:
    window = ctx.strategy.trade_window
    if window is None:
        return None
    zone = window.timezone or EXCHANGE_TIMEZONE[ctx.order.asset_class]
    local = ctx.now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if window.start <= window.end:
        inside = window.start <= clock <= window.end
    else:  # overnight, e.g. 22:00-02:00
        inside = clock >= window.start or clock <= window.end
    on_day = not window.days_of_week or local.isoweekday() in window.days_of_week
    if inside and on_day:
        return None
    return Denial(
        "OUTSIDE_TRADE_WINDOW",
        f"Outside the strategy's trade window {window.start:%H:%M}-{window.end:%H:%M} "
        f"({zone.key}); it is {local:%a %H:%M:%S} there",
    )


# --- the order against the book --------------------------------------------------------


def check_short_selling(ctx: TradeContext) -> Denial | None:
    available = ctx.book.held_quantity - ctx.book.reserved_sell_quantity
    if ctx.order.quantity <= available:
        return None
    available = max(available, ZERO)
    return Denial(
        "SHORT_NOT_ALLOWED",
        f"Short selling is not allowed: selling {format_decimal(ctx.order.quantity)} "
        f"{ctx.order.symbol}, {format_decimal(available)} held and not already being sold",
        max_quantity=available,
    )


def check_wash_trade(ctx: TradeContext) -> Denial | None:
    order = ctx.order
    resting = (
        order.limit_price if order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    )
    for other in ctx.strategy.open_orders:
        if other.symbol != order.symbol or other.side is order.side:
            continue
        # A market order (no price) crosses anything on the other side.
        if resting is None or other.limit_price is None:
            crosses = True
        elif order.is_buy:
            crosses = resting >= other.limit_price
        else:
            crosses = resting <= other.limit_price
        if crosses:
            at = f" at {format_usd(other.limit_price)}" if other.limit_price else ""
            return Denial(
                "POTENTIAL_WASH_TRADE",
                f"Potential wash trade: this {order.side.value} would cross the strategy's "
                f"open {other.side.value} order for {order.symbol}{at}",
            )
    return None


def check_buying_power(ctx: TradeContext) -> Denial | None:
    fee_factor = 1 + ctx.fee_pct / HUNDRED
    needs = ctx.order.notional * fee_factor
    available = ctx.account.buying_power - ctx.book.reserved_buy_notional * fee_factor
    if needs <= available:
        return None
    reserved = ""
    if ctx.book.reserved_buy_notional:
        reserved = f" after {format_usd(ctx.book.reserved_buy_notional)} reserved by open orders"
    return Denial(
        "INSUFFICIENT_BUYING_POWER",
        f"Insufficient buying power: order needs {format_usd(needs)}, "
        f"available {format_usd(max(available, ZERO))}{reserved}",
        max_quantity=_quantity_within(ctx, available, ctx.order.price * fee_factor),
    )


def check_max_notional(ctx: TradeContext) -> Denial | None:
    limit = ctx.limits.value("max_notional_per_order")
    if limit is None or ctx.order.notional <= limit:
        return None
    return Denial(
        "NOTIONAL_EXCEEDS_MAX_PER_ORDER",
        f"Order notional {format_usd(ctx.order.notional)} exceeds the maximum per order "
        f"{format_usd(limit)} (limit from {ctx.limits.describe('max_notional_per_order')})",
        max_quantity=_quantity_within(ctx, limit, ctx.order.price),
    )


def check_position_size(ctx: TradeContext) -> Denial | None:
    limit = ctx.limits.value("max_position_pct_equity")
    if limit is None:
        return None
    equity = ctx.account.equity
    projected = ctx.book.symbol_exposure + ctx.order.notional
    if projected * HUNDRED <= limit * equity:
        return None
    budget = limit * equity / HUNDRED - ctx.book.symbol_exposure
    return Denial(
        "POSITION_SIZE_EXCEEDS_PCT_EQUITY",
        f"Position in {ctx.order.symbol} would be {_pct(projected * HUNDRED / equity)} of "
        f"equity, above the {format_decimal(limit)}% limit "
        f"(limit from {ctx.limits.describe('max_position_pct_equity')})",
        max_quantity=_quantity_within(ctx, budget, ctx.order.price),
    )


def check_bot_allocation(ctx: TradeContext) -> Denial | None:
    allocated = ctx.strategy.allocated_capital
    if allocated is None:
        return None
    projected = ctx.book.deployed_capital + ctx.order.notional
    if projected <= allocated:
        return None
    return Denial(
        "BOT_ALLOCATION_EXCEEDED",
        f"Strategy would deploy {format_usd(projected)}, above its allocated capital "
        f"{format_usd(allocated)} ({format_usd(ctx.book.deployed_capital)} already deployed)",
        max_quantity=_quantity_within(ctx, allocated - ctx.book.deployed_capital, ctx.order.price),
    )


def check_max_positions(ctx: TradeContext) -> Denial | None:
    limit = ctx.limits.value("max_positions")
    if limit is None or ctx.order.symbol in ctx.book.open_symbols:
        return None
    if len(ctx.book.open_symbols) < limit:
        return None
    return Denial(
        "MAX_POSITIONS",
        f"Opening {ctx.order.symbol} would make {len(ctx.book.open_symbols) + 1} positions, "
        f"above the limit of {limit} (limit from {ctx.limits.describe('max_positions')})",
    )


def check_leverage(ctx: TradeContext) -> Denial | None:
    limit = ctx.limits.value("max_leverage")
    if limit is None:
        return None
    account = ctx.account
    exposure = (
        account.gross_exposure if account.gross_exposure is not None else ctx.book.strategy_exposure
    ) + ctx.book.reserved_buy_notional
    projected = exposure + ctx.order.notional
    if projected <= limit * account.equity:
        return None
    return Denial(
        "LEVERAGE_EXCEEDED",
        f"Gross exposure would be {(projected / account.equity).quantize(Decimal('0.01'))}x "
        f"equity, above the {format_decimal(limit)}x allowed "
        f"(limit from {ctx.limits.describe('max_leverage')})",
        max_quantity=_quantity_within(ctx, limit * account.equity - exposure, ctx.order.price),
    )


# --- losses: a breach leaves only orders that reduce positions ---------------------------


def _loss_denial(
    ctx: TradeContext,
    scope: str,
    loss: Decimal,
    base: Decimal | None,
    usd_limit_name: str,
    pct_limit_name: str,
) -> Denial | None:
    usd_limit = ctx.limits.value(usd_limit_name)
    if usd_limit is not None and loss > usd_limit:
        return Denial(
            "DAILY_LOSS_LIMIT",
            f"Daily loss of the {scope} {format_usd(loss)} exceeds the {format_usd(usd_limit)} "
            f"limit (from {ctx.limits.describe(usd_limit_name)}); only orders that reduce "
            "positions may pass",
        )
    pct_limit = ctx.limits.value(pct_limit_name)
    if pct_limit is not None and base and base > 0 and loss * HUNDRED > pct_limit * base:
        return Denial(
            "DAILY_LOSS_LIMIT",
            f"Daily loss of the {scope} is {_pct(loss * HUNDRED / base)}, above the "
            f"{format_decimal(pct_limit)}% limit (from {ctx.limits.describe(pct_limit_name)}); "
            "only orders that reduce positions may pass",
        )
    return None


def check_daily_loss_account(ctx: TradeContext) -> Denial | None:
    account = ctx.account
    loss = -(account.realized_pnl_today + account.unrealized_pnl)
    return _loss_denial(
        ctx, "account", loss, account.equity, "max_daily_loss_usd", "max_daily_loss_pct"
    )


def check_daily_loss_strategy(ctx: TradeContext) -> Denial | None:
    strategy = ctx.strategy
    loss = -(strategy.realized_pnl_today + strategy.unrealized_pnl)
    return _loss_denial(
        ctx,
        "strategy",
        loss,
        strategy.allocated_capital,
        "strategy_max_daily_loss_usd",
        "strategy_max_daily_loss_pct",
    )


def _drawdown_denial(
    ctx: TradeContext, scope: str, equity: Decimal | None, peak: Decimal | None, limit_name: str
) -> Denial | None:
    limit = ctx.limits.value(limit_name)
    if limit is None or equity is None or not peak or peak <= 0:
        return None
    drawdown = max(peak - equity, ZERO)
    if drawdown * HUNDRED <= limit * peak:
        return None
    return Denial(
        "MAX_DRAWDOWN",
        f"Drawdown of the {scope} is {_pct(drawdown * HUNDRED / peak)}, above the "
        f"{format_decimal(limit)}% limit (from {ctx.limits.describe(limit_name)}); "
        "only orders that reduce positions may pass",
    )


def check_drawdown_account(ctx: TradeContext) -> Denial | None:
    account = ctx.account
    return _drawdown_denial(ctx, "account", account.equity, account.peak_equity, "max_drawdown_pct")


def check_drawdown_strategy(ctx: TradeContext) -> Denial | None:
    strategy = ctx.strategy
    return _drawdown_denial(
        ctx, "strategy", strategy.equity, strategy.peak_equity, "strategy_max_drawdown_pct"
    )


# Evaluation order: the first failing rule gives the answer's reason and message.
RULES: tuple[Rule, ...] = (
    Rule("kill_switch", "TRADING_STATE", check_kill_switch, Orders.ALL),
    Rule("strategy_state", "TRADING_STATE", check_strategy_state, Orders.ALL),
    Rule("paper_mode", "PAPER_MODE", check_paper_mode, Orders.ALL),
    Rule("asset_class", "ASSET_CLASS_NOT_ALLOWED", check_asset_class, Orders.ALL),
    Rule("trade_window", "OUTSIDE_TRADE_WINDOW", check_trade_window, Orders.ALL),
    Rule(
        "short_selling",
        "SHORT_NOT_ALLOWED",
        check_short_selling,
        Orders.SHRINKING,
        "a buy cannot go short",
    ),
    Rule("wash_trade", "POTENTIAL_WASH_TRADE", check_wash_trade, Orders.ALL),
    Rule(
        "buying_power",
        "INSUFFICIENT_BUYING_POWER",
        check_buying_power,
        Orders.GROWING,
        SELLS_SHRINK,
    ),
    Rule(
        "max_notional_per_order",
        "NOTIONAL_EXCEEDS_MAX_PER_ORDER",
        check_max_notional,
        Orders.GROWING,
        SELLS_SHRINK,
    ),
    Rule(
        "position_size",
        "POSITION_SIZE_EXCEEDS_PCT_EQUITY",
        check_position_size,
        Orders.GROWING,
        SELLS_SHRINK,
    ),
    Rule(
        "bot_allocation",
        "BOT_ALLOCATION_EXCEEDED",
        check_bot_allocation,
        Orders.GROWING,
        SELLS_SHRINK,
    ),
    Rule("max_positions", "MAX_POSITIONS", check_max_positions, Orders.GROWING, SELLS_SHRINK),
    Rule("leverage", "LEVERAGE_EXCEEDED", check_leverage, Orders.GROWING, SELLS_SHRINK),
    Rule(
        "daily_loss_account",
        "DAILY_LOSS_LIMIT",
        check_daily_loss_account,
        Orders.GROWING,
        SELLS_SHRINK,
    ),
    Rule(
        "daily_loss_strategy",
        "DAILY_LOSS_LIMIT",
        check_daily_loss_strategy,
        Orders.GROWING,
        SELLS_SHRINK,
    ),
    Rule("drawdown_account", "MAX_DRAWDOWN", check_drawdown_account, Orders.GROWING, SELLS_SHRINK),
    Rule(
        "drawdown_strategy", "MAX_DRAWDOWN", check_drawdown_strategy, Orders.GROWING, SELLS_SHRINK
    ),
)

# Loss rules: a breach puts the strategy in reducing-only mode.
LOSS_RULES = frozenset(
    {"daily_loss_account", "daily_loss_strategy", "drawdown_account", "drawdown_strategy"}
)

# Checked against the database (the order ledger), after the rules above.
RATE_LIMIT = ("rate_limit", "RATE_LIMIT")
DUPLICATE_CLIENT_ORDER_ID = ("duplicate_client_order_id", "DUPLICATE_CLIENT_ORDER_ID")
