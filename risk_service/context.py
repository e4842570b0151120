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
        symbol = order.symbol
        held = symbol_value = deployed = strategy_exposure = ZERO
        open_symbols = set()
        for p in strategy.positions:
            value = p.market_value()
            strategy_exposure += value
            deployed += p.cost_basis()
            if p.symbol == symbol:
                held += p.quantity
                symbol_value += value
            if p.quantity != 0:
                open_symbols.add(p.symbol)
        reserved_buys = symbol_buys = reserved_sells = ZERO
        for o in strategy.open_orders:
            if o.side is Side.BUY:
                notional = o.reserved_notional(order.price)
                reserved_buys += notional
                open_symbols.add(o.symbol)
                if o.symbol == symbol:
                    symbol_buys += notional
            elif o.symbol == symbol:
                reserved_sells += o.quantity
        return cls(
            held_quantity=held,
            reserved_sell_quantity=reserved_sells,
            symbol_exposure=symbol_value + symbol_buys,
            reserved_buy_notional=reserved_buys,
            deployed_capital=deployed + reserved_buys,
            open_symbols=frozenset(open_symbols),
            strategy_exposure=strategy_exposure,
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
