"""A strategy configuration (protobuf) into the inputs of the risk score and of the
worst-case commitment. Malformed fields raise InvalidArgument naming them
(``config.dca.step_scale``)."""

from __future__ import annotations

from decimal import Decimal

from risk_service.commitment import (
    DcaPlan,
    GridMode,
    GridPlan,
    WorstCase,
    dca_worst_case,
    grid_worst_case,
)
from risk_service.score import ScoreInputs, StrategyKind
from risk_service.validation import ASSET_CLASSES, MONEY_PLACES, enum_value, optional_decimal
from servicekit.errors import InvalidArgument
from servicekit.money import parse_decimal
from trading.risk.v1 import risk_service_pb2 as pb
from trading.types.v1 import types_pb2 as types

HUNDRED = Decimal(100)
MAX_SAFETY_ORDERS = 100
MAX_GRID_LEVELS = 500
STRATEGY_KINDS = {
    types.STRATEGY_TYPE_DCA: StrategyKind.DCA,
    types.STRATEGY_TYPE_SPOT_GRID: StrategyKind.SPOT_GRID,
    types.STRATEGY_TYPE_RSI_REVERSION: StrategyKind.RSI_REVERSION,
    types.STRATEGY_TYPE_SMA_CROSSOVER: StrategyKind.SMA_CROSSOVER,
    types.STRATEGY_TYPE_BUY_AND_HOLD: StrategyKind.BUY_AND_HOLD,
}


def _required(value: str, field: str, *, allow_zero: bool = False) -> Decimal:
    number = parse_decimal(value, field, positive=True, allow_zero=allow_zero, max_places=9)
    assert number is not None
    return number


def _scale(value: str, field: str) -> Decimal:
    """A multiplier: empty = 1, else at least 1 (scales never shrink orders or steps)."""
    number = optional_decimal(value, field, allow_zero=False)
    if number is None:
        return Decimal(1)
    if number < 1 or number > 10:
        raise InvalidArgument(field, "must be between 1 and 10")
    return number


def strategy_kind(config: types.StrategyConfig) -> StrategyKind:
    return enum_value(STRATEGY_KINDS, config.strategy_type, "config.strategy_type", "StrategyType")


def allocated_capital(config: types.StrategyConfig) -> Decimal | None:
    return optional_decimal(
        config.capital_allocation.allocated_capital, "config.capital_allocation.allocated_capital"
    )


def dca_plan(config: types.StrategyConfig) -> DcaPlan:
    dca = config.dca
    if not 0 <= dca.max_safety_orders <= MAX_SAFETY_ORDERS:
        raise InvalidArgument("config.dca.max_safety_orders", f"must be 0 to {MAX_SAFETY_ORDERS}")
    deviation = _required(dca.price_deviation_pct, "config.dca.price_deviation_pct")
    if deviation >= HUNDRED:
        raise InvalidArgument("config.dca.price_deviation_pct", "must be below 100")
    return DcaPlan(
        base_order_amount=_required(dca.base_order_amount, "config.dca.base_order_amount"),
        safety_order_amount=_required(
            dca.safety_order_amount, "config.dca.safety_order_amount", allow_zero=True
        ),
        max_safety_orders=dca.max_safety_orders,
        price_deviation_pct=deviation,
        step_scale=_scale(dca.step_scale, "config.dca.step_scale"),
        volume_scale=_scale(dca.volume_scale, "config.dca.volume_scale"),
    )


def grid_plan(config: types.StrategyConfig) -> GridPlan:
    grid = config.grid
    lower = _required(grid.lower_price, "config.grid.lower_price")
    upper = _required(grid.upper_price, "config.grid.upper_price")
    if upper <= lower:
        raise InvalidArgument("config.grid.upper_price", "must be above the lower price")
    if not 2 <= grid.grid_count <= MAX_GRID_LEVELS:
        raise InvalidArgument("config.grid.grid_count", f"must be 2 to {MAX_GRID_LEVELS}")
    mode = (
        GridMode.GEOMETRIC if grid.grid_mode == types.GRID_MODE_GEOMETRIC else GridMode.ARITHMETIC
    )
    if grid.grid_mode not in (
        types.GRID_MODE_UNSPECIFIED,
        types.GRID_MODE_ARITHMETIC,
        types.GRID_MODE_GEOMETRIC,
    ):
        raise InvalidArgument(
            "config.grid.grid_mode", f"has an unknown GridMode value {grid.grid_mode}"
        )
    quantity = optional_decimal(
        grid.quantity_per_grid, "config.grid.quantity_per_grid", allow_zero=False
    )
    return GridPlan(lower, upper, grid.grid_count, mode, quantity)


def worst_case(config: types.StrategyConfig, reference_price: str) -> WorstCase | None:
    """The worst case of a DCA or grid configuration; None for other strategy types."""
    kind = strategy_kind(config)
    reference = optional_decimal(reference_price, "reference_price", allow_zero=False)
    if kind is StrategyKind.DCA:
        return dca_worst_case(dca_plan(config), allocated_capital(config), reference)
    if kind is StrategyKind.SPOT_GRID:
        return grid_worst_case(grid_plan(config), allocated_capital(config), reference)
    return None


def _position_pct(config: types.StrategyConfig, kind: StrategyKind) -> Decimal:
    sizing = config.position_sizing
    allocation = allocated_capital(config)
    if sizing.method == types.POSITION_SIZING_METHOD_PCT_EQUITY:
        pct = _required(sizing.pct_equity, "config.position_sizing.pct_equity")
        if pct > HUNDRED:
            raise InvalidArgument("config.position_sizing.pct_equity", "must be at most 100")
        return pct
    if sizing.method == types.POSITION_SIZING_METHOD_FIXED_AMOUNT:
        amount = _required(sizing.fixed_amount, "config.position_sizing.fixed_amount")
        return min(amount * HUNDRED / allocation, HUNDRED) if allocation else HUNDRED
    if sizing.method != types.POSITION_SIZING_METHOD_UNSPECIFIED:
        raise InvalidArgument(
            "config.position_sizing.method", f"has an unknown value {sizing.method}"
        )
    if kind is StrategyKind.DCA and allocation:
        base = _required(config.dca.base_order_amount, "config.dca.base_order_amount")
        return min(base * HUNDRED / allocation, HUNDRED)
    if kind is StrategyKind.SPOT_GRID and config.grid.grid_count >= 2:
        return HUNDRED / config.grid.grid_count
    return HUNDRED  # unknown sizing: the whole capital may go into one position


def score_inputs(
    config: types.StrategyConfig, backtest: pb.BacktestMetrics | None, worst: WorstCase | None
) -> ScoreInputs:
    kind = strategy_kind(config)
    asset = enum_value(ASSET_CLASSES, config.asset_class, "config.asset_class", "AssetClass")
    controls = config.risk_controls
    leverage = optional_decimal(
        controls.max_leverage, "config.risk_controls.max_leverage", allow_zero=False
    )
    stop_loss = optional_decimal(
        controls.stop_loss_pct, "config.risk_controls.stop_loss_pct", allow_zero=False
    )
    limit_drawdown = optional_decimal(
        controls.max_drawdown_pct, "config.risk_controls.max_drawdown_pct"
    )
    if config.position_sizing.max_positions < 0:
        raise InvalidArgument("config.position_sizing.max_positions", "must not be negative")
    drawdown = volatility = sharpe = None
    if backtest is not None:
        drawdown = optional_decimal(backtest.max_drawdown_pct, "backtest.max_drawdown_pct")
        if drawdown is not None and drawdown > HUNDRED:
            raise InvalidArgument("backtest.max_drawdown_pct", "must be at most 100")
        volatility = optional_decimal(
            backtest.annualized_volatility_pct, "backtest.annualized_volatility_pct"
        )
        # Signed; the same precision as every decimal on this wire (the backtest service
        # and the gateway send 6 places).
        sharpe = parse_decimal(
            backtest.sharpe_ratio, "backtest.sharpe_ratio", max_places=MONEY_PLACES, required=False
        )
    return ScoreInputs(
        strategy_kind=kind,
        asset_class=asset,
        position_pct=_position_pct(config, kind),
        max_positions=config.position_sizing.max_positions or 1,
        leverage=max(leverage or Decimal(1), Decimal(1)),
        stop_loss_pct=stop_loss,
        max_drawdown_limit_pct=limit_drawdown,
        backtest_drawdown_pct=drawdown,
        backtest_volatility_pct=volatility,
        backtest_sharpe=sharpe,
        commitment_pct_of_allocation=worst.pct_of_allocation if worst else None,
        has_worst_case=worst is not None,
    )
