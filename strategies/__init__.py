"""Strategy logic shared by the backtest engine and the live executor.

Public API:
- ``StrategyConfig`` and its parts (``strategies.config``), ``validate_config``,
  ``parse_config``/``config_from_proto``/``config_to_proto``/``config_from_dict``/
  ``config_to_dict`` (``strategies.proto_codec``);
- ``build_strategy(config) -> Strategy``: a fresh state machine for one run;
- ``LiveRunner``: drives a strategy bar by bar (``begin_bar``, ``on_fill``, ``end_bar``);
- order intents and fills: ``PlaceOrder``, ``AmendOrder``, ``CancelOrder``, ``Rejection``,
  ``Fill`` (``strategies.orders``).
"""

from strategies.base import Strategy
from strategies.buy_and_hold import BuyAndHold
from strategies.config import StrategyConfig, StrategyType
from strategies.dca import Dca
from strategies.grid import SpotGrid
from strategies.live import LiveRunner
from strategies.orders import AmendOrder, CancelOrder, Fill, PlaceOrder, Rejection
from strategies.signal_strategies import RsiReversion, SmaCrossover
from strategies.validation import validate_config

_TYPES: dict[StrategyType, type[Strategy]] = {
    StrategyType.DCA: Dca,
    StrategyType.SPOT_GRID: SpotGrid,
    StrategyType.RSI_REVERSION: RsiReversion,
    StrategyType.SMA_CROSSOVER: SmaCrossover,
    StrategyType.BUY_AND_HOLD: BuyAndHold,
}


def build_strategy(config: StrategyConfig) -> Strategy:
    """Validate ``config`` (InvalidArgument naming the field) and build its strategy."""
    validate_config(config)
    return _TYPES[config.strategy_type](config)  # type: ignore[index]


__all__ = [
    "AmendOrder",
    "CancelOrder",
    "Fill",
    "LiveRunner",
    "PlaceOrder",
    "Rejection",
    "Strategy",
    "StrategyConfig",
    "StrategyType",
    "build_strategy",
    "validate_config",
]
