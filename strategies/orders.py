"""What a strategy says to its broker, and what the broker tells it back.

A strategy emits intents: place an order (market, limit or stop), amend or cancel one,
or record a rejected signal (rejections are data, not errors). The broker (the backtest
engine's fill model, or the live executor's broker) reports fills. Prices and quantities
are floats here; the executor turns them into Decimal strings at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass

BUY = "buy"
SELL = "sell"

MARKET = "market"  # decided on a bar's close, fills at the next bar's open
LIMIT = "limit"  # rests at ``price``; fills when a bar trades through it
STOP = "stop"  # sell stop: becomes a market order when a bar trades at or below ``price``


class Tag:
    """Why an order exists; exits are counted by the tag of the order that closed them."""

    ENTRY = "entry"
    SAFETY = "safety"
    GRID_BUY = "grid_buy"
    GRID_SELL = "grid_sell"
    SIGNAL_EXIT = "signal_exit"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    DAILY_LOSS = "daily_loss"


class Reason:
    """Why a signal was rejected."""

    CAPITAL = "capital"
    MAX_POSITIONS = "max_positions"
    TRADE_WINDOW = "trade_window"
    DAILY_LOSS = "daily_loss"
    HALTED = "halted"


RISK_REASONS = frozenset(
    {Reason.MAX_POSITIONS, Reason.TRADE_WINDOW, Reason.DAILY_LOSS, Reason.HALTED}
)
RISK_EXIT_TAGS = frozenset({Tag.STOP_LOSS, Tag.DAILY_LOSS, Tag.TAKE_PROFIT})


@dataclass(slots=True)
class PlaceOrder:
    """A new order. ``lot``: for buys the lot it opens or adds to; for sells the lot it
    closes (0 = the whole position, pro rata)."""

    order_id: int
    side: str
    kind: str
    quantity: float
    price: float  # limit or stop price; NaN for market orders
    tag: str
    lot: int = 0


@dataclass(slots=True)
class AmendOrder:
    """Change a resting order's quantity and price in place (keeps its id)."""

    order_id: int
    quantity: float
    price: float
    tag: str


@dataclass(slots=True)
class CancelOrder:
    order_id: int


@dataclass(slots=True)
class Rejection:
    """A signal the strategy did not act on, and why (see ``Reason``)."""

    reason: str
    tag: str


Intent = PlaceOrder | AmendOrder | CancelOrder | Rejection


@dataclass(slots=True)
class Fill:
    """An execution of (part of) an order; ``done`` once nothing of the order remains."""

    order_id: int
    side: str
    quantity: float
    price: float
    fee: float
    bar_index: int
    done: bool
