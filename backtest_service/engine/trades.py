"""Round trips (trades) from fills: each lot is a trade, from its first buy to its last sell.

A sell names the lot it closes (grid: the lot bought one level below) or 0 for the
whole position, shared pro rata between the open lots (signal exits, stops, take
profits, DCA deals). Profit is net of the fees of both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

from backtest_service.engine.simulator import FillRecord
from strategies.orders import BUY


@dataclass(slots=True)
class Trade:
    lot: int
    entry_bar: int
    exit_bar: int  # -1 while open
    quantity: float  # bought in total
    entry_price: float  # average buy price
    exit_price: float  # average sell price (last close for open trades)
    pnl: float  # net of fees
    fees: float
    exit_reason: str  # tag of the order that closed it, "open" if still open

    @property
    def is_open(self) -> bool:
        return self.exit_bar < 0

    @property
    def return_pct(self) -> float:
        cost = self.quantity * self.entry_price
        return 100.0 * self.pnl / cost if cost > 0 else 0.0


class _Lot:
    __slots__ = ("bought", "cost", "entry_bar", "fees", "held", "proceeds", "sold")

    def __init__(self, entry_bar: int):
        self.entry_bar = entry_bar
        self.bought = self.cost = self.fees = self.held = self.proceeds = self.sold = 0.0


def build_trades(fills: list[FillRecord], last_close: float, last_bar: int) -> list[Trade]:
    """Closed trades in the order they closed, then the still open ones."""
    open_lots: dict[int, _Lot] = {}
    trades: list[Trade] = []
    for fill in fills:
        if fill.side == BUY:
            lot = open_lots.get(fill.lot)
            if lot is None:
                lot = open_lots[fill.lot] = _Lot(fill.bar_index)
            lot.bought += fill.quantity
            lot.held += fill.quantity
            lot.cost += fill.quantity * fill.price
            lot.fees += fill.fee
            continue
        if fill.lot in open_lots:
            shares = {fill.lot: 1.0}
        else:
            held = sum(lot.held for lot in open_lots.values())
            shares = {key: lot.held / held for key, lot in open_lots.items()} if held else {}
        for key, share in shares.items():
            lot = open_lots[key]
            quantity = fill.quantity * share
            lot.held -= quantity
            lot.sold += quantity
            lot.proceeds += quantity * fill.price
            lot.fees += fill.fee * share
            if lot.held <= 1e-9 * max(1.0, lot.bought):
                trades.append(_closed(key, lot, fill))
                del open_lots[key]
    for key, lot in open_lots.items():
        value = lot.proceeds + lot.held * last_close
        trades.append(
            Trade(
                key,
                lot.entry_bar,
                -1,
                lot.bought,
                lot.cost / lot.bought,
                value / lot.bought,
                value - lot.cost - lot.fees,
                lot.fees,
                "open",
            )
        )
    return trades


def _closed(key: int, lot: _Lot, fill: FillRecord) -> Trade:
    return Trade(
        key,
        lot.entry_bar,
        fill.bar_index,
        lot.bought,
        lot.cost / lot.bought,
        lot.proceeds / lot.sold,
        lot.proceeds - lot.cost - lot.fees,
        lot.fees,
        fill.tag,
    )
