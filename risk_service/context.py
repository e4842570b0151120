"""What the rules look at: the order, the account, the strategy, the limits, and the
figures derived from them once per order (the strategy's book)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from risk_service.kill_switch import KillSwitch
from risk_service.limits import EffectiveLimits
from risk_service.model import Account, OrderRequest, Profile, Side, Strategy

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Book:
    """The strategy's positions and open orders, summed for the order's symbol."""

    held_quantity: Decimal  # of the order's symbol
    reserved_sell_quantity: Decimal  # open sells of the order's symbol
    symbol_exposure: Decimal  # market value held + open buys, of the order's symbol
    reserved_buy_notional: Decimal  # every open buy of the strategy
    deployed_capital: Decimal  # cost basis of positions + open buys
    open_symbols: frozenset[str]  # symbols held or being bought
    strategy_exposure: Decimal  # market value of every position of the strategy

    @classmethod
    def of(cls, order: OrderRequest, strategy: Strategy) -> Book:
        held = sum((p.quantity for p in strategy.positions if p.symbol == order.symbol), start=ZERO)
        buys = [o for o in strategy.open_orders if o.side is Side.BUY]
        sells_here = [
            o for o in strategy.open_orders if o.side is Side.SELL and o.symbol == order.symbol
        ]
        reserved_buys = sum((o.reserved_notional(order.price) for o in buys), start=ZERO)
        symbol_buys = sum(
            (o.reserved_notional(order.price) for o in buys if o.symbol == order.symbol),
            start=ZERO,
        )
        symbol_value = sum(
            (p.market_value() for p in strategy.positions if p.symbol == order.symbol),
            start=ZERO,
        )
        return cls(
            held_quantity=held,
            reserved_sell_quantity=sum((o.quantity for o in sells_here), start=ZERO),
            symbol_exposure=symbol_value + symbol_buys,
            reserved_buy_notional=reserved_buys,
            deployed_capital=sum((p.cost_basis() for p in strategy.positions), start=ZERO)
            + reserved_buys,
            open_symbols=frozenset(p.symbol for p in strategy.positions if p.quantity != 0)
            | frozenset(o.symbol for o in buys),
            strategy_exposure=sum((p.market_value() for p in strategy.positions), start=ZERO),
        )


@dataclass(frozen=True, slots=True)
class TradeContext:
    order: OrderRequest
    account: Account
    strategy: Strategy
    profile: Profile
    limits: EffectiveLimits
    book: Book
    # The most severe kill switch covering the order, if any.
    kill_switch: KillSwitch | None
    live: bool  # the order would go to a live broker
    fee_pct: Decimal
    now: dt.datetime

    @property
    def grows_position(self) -> bool:
        """Spot only: a buy adds exposure, a sell only ever shrinks it."""
        return self.order.is_buy
