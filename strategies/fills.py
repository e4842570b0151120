"""The fill rules shared by the backtest engine and the executor's paper exchange.

At what price, with what fee, and how much of an order one bar can fill:

- Market orders (decided on a bar's close) fill at the next bar's open, plus slippage
  (buys pay more, sells get less), taker fee.
- Limit orders fill when a later bar trades through the price (low <= buy price,
  high >= sell price) at the limit price, or at the open when the bar opens beyond it
  (a better price); maker fee, no slippage.
- Sell stops trigger when a bar's low reaches the stop; they fill at the stop, or at the
  open when the bar gaps below it, minus slippage; taker fee. (Buy stops, which only the
  paper exchange takes, mirror this on the high side.)
- One order may take at most ``max_volume_share`` of a bar's volume; the rest waits for
  later bars (limit orders keep resting, market and triggered stop orders fill at the
  next opens). Bars without volume data (NaN) are not capped.

Floats, as the engine computes; the paper exchange rounds the results to its Decimal
steps at its edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from strategies.orders import BUY


@dataclass(frozen=True, slots=True)
class Costs:
    """Costs as fractions (10 bps = 0.001)."""

    maker_fee: float
    taker_fee: float
    slippage: float
    max_volume_share: float


class FillModel:
    def __init__(self, costs: Costs):
        self.costs = costs
        self._buy_slip = 1.0 + costs.slippage
        self._sell_slip = 1.0 - costs.slippage

    def market_price(self, side: str, open_: float) -> float:
        return open_ * (self._buy_slip if side == BUY else self._sell_slip)

    def limit_price(self, side: str, limit: float, open_: float) -> float:
        return min(limit, open_) if side == BUY else max(limit, open_)

    def stop_price(self, stop: float, open_: float) -> float:
        """A sell stop's fill."""
        return min(stop, open_) * self._sell_slip

    def buy_stop_price(self, stop: float, open_: float) -> float:
        return max(stop, open_) * self._buy_slip

    def fee_rate(self, taker: bool) -> float:
        return self.costs.taker_fee if taker else self.costs.maker_fee

    def volume_cap(self, volume: float) -> float:
        """The most one order may fill in a bar with this volume (inf when unknown)."""
        if math.isnan(volume):
            return math.inf
        return volume * self.costs.max_volume_share
