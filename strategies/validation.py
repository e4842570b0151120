"""The domain rules of a strategy config; a broken rule is InvalidArgument on its dotted path."""

from __future__ import annotations

import re
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servicekit.errors import InvalidArgument
from strategies.config import AssetClass, PositionSizingMethod, StrategyConfig, StrategyType

MAX_GRID_COUNT = 500
MAX_SAFETY_ORDERS = 50
MAX_INDICATOR_PERIOD = 10_000
_HUNDRED = Decimal(100)
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SYMBOL = re.compile(r"^([A-Z0-9]{2,10}/[A-Z]{3,5}|[A-Z][A-Z0-9.]{0,9})$")


def validate_config(config: StrategyConfig, prefix: str = "") -> None:
    """Raise InvalidArgument (field = ``prefix`` + dotted path) for the first broken rule."""
    for rule in (
        _identity,
        _capital,
        _sizing,
        _risk_controls,
        _trade_window,
        _indicators,
        _dca,
        _grid,
    ):
        error = rule(config)
        if error is not None:
            field, message = error
            raise InvalidArgument(prefix + field, message)


Problem = tuple[str, str] | None


def _identity(c: StrategyConfig) -> Problem:
    if not c.name.strip():
        return "name", "is required"
    if len(c.name) > 100:
        return "name", "must be at most 100 characters"
    if c.strategy_type is None:
        return "strategy_type", "is required"
    if not _SYMBOL.match(c.base_symbol):
        return "base_symbol", "must be a crypto pair like BTC/USD or a ticker like AAPL"
    is_pair = "/" in c.base_symbol
    if c.asset_class is not None and is_pair != (c.asset_class is AssetClass.CRYPTO):
        return "asset_class", f"does not match the symbol {c.base_symbol}"
    if len(c.description) > 2000:
        return "description", "must be at most 2000 characters"
    return None


def _capital(c: StrategyConfig) -> Problem:
    allocation = c.capital_allocation
    if allocation.allocated_capital is None:
        return "capital_allocation.allocated_capital", "is required"
    if allocation.allocated_capital <= 0:
        return "capital_allocation.allocated_capital", "must be positive"
    cap = allocation.max_capital_per_trade
    if cap is not None and cap <= 0:
        return "capital_allocation.max_capital_per_trade", "must be positive"
    return None


def _sizing(c: StrategyConfig) -> Problem:
    s = c.position_sizing
    if s.method is PositionSizingMethod.PCT_EQUITY and s.pct_equity is None:
        return "position_sizing.pct_equity", "is required when method is PCT_EQUITY"
    if s.pct_equity is not None and not (0 < s.pct_equity <= _HUNDRED):
        return "position_sizing.pct_equity", "must be in (0, 100]"
    if s.method is PositionSizingMethod.FIXED_AMOUNT and s.fixed_amount is None:
        return "position_sizing.fixed_amount", "is required when method is FIXED_AMOUNT"
    if s.fixed_amount is not None and s.fixed_amount <= 0:
        return "position_sizing.fixed_amount", "must be positive"
    if not 0 <= s.max_positions <= 1000:
        return "position_sizing.max_positions", "must be between 0 (default) and 1000"
    return None


def _risk_controls(c: StrategyConfig) -> Problem:
    r = c.risk_controls
    for name in ("stop_loss_pct", "max_daily_loss_pct", "max_drawdown_pct"):
        value = getattr(r, name)
        if value is not None and not (0 < value < _HUNDRED):
            return f"risk_controls.{name}", "must be in (0, 100)"
    for name in ("take_profit_pct", "max_daily_loss_usd"):
        value = getattr(r, name)
        if value is not None and value <= 0:
            return f"risk_controls.{name}", "must be positive"
    for name in ("max_orders_per_minute", "max_orders_per_day"):
        if getattr(r, name) < 0:
            return f"risk_controls.{name}", "must not be negative"
    if r.max_leverage is not None and r.max_leverage != 1:
        return "risk_controls.max_leverage", "must be 1: spot strategies do not use leverage"
    return None


def _trade_window(c: StrategyConfig) -> Problem:
    w = c.trade_window
    if not w.enabled:
        return None
    for name in ("start_time", "end_time"):
        if not _HH_MM.match(getattr(w, name)):
            return f"trade_window.{name}", "must be HH:MM (24h)"
    if w.start_time == w.end_time:
        return "trade_window.end_time", "must differ from start_time"
    if any(not 1 <= d <= 7 for d in w.days_of_week) or len(set(w.days_of_week)) != len(
        w.days_of_week
    ):
        return "trade_window.days_of_week", "must be distinct ISO weekdays 1 (Mon) .. 7 (Sun)"
    try:
        ZoneInfo(w.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return "trade_window.timezone", f"unknown time zone {w.timezone!r}"
    return None


def _indicators(c: StrategyConfig) -> Problem:
    t = c.technical_indicators
    uses_rsi = c.strategy_type is StrategyType.RSI_REVERSION or (
        c.strategy_type is StrategyType.DCA and c.dca.rsi_entry_filter
    )
    if uses_rsi:
        if not 2 <= t.rsi_period <= MAX_INDICATOR_PERIOD:
            return "technical_indicators.rsi_period", f"must be in [2, {MAX_INDICATOR_PERIOD}]"
        if t.rsi_buy_threshold is None or not 0 < t.rsi_buy_threshold < _HUNDRED:
            return "technical_indicators.rsi_buy_threshold", "must be in (0, 100)"
    if c.strategy_type is StrategyType.RSI_REVERSION:
        sell = t.rsi_sell_threshold
        if sell is None or not 0 < sell < _HUNDRED:
            return "technical_indicators.rsi_sell_threshold", "must be in (0, 100)"
        if sell <= t.rsi_buy_threshold:  # type: ignore[operator]
            return "technical_indicators.rsi_sell_threshold", "must be above rsi_buy_threshold"
    if c.strategy_type is StrategyType.SMA_CROSSOVER:
        if not 1 <= t.sma_fast_period <= MAX_INDICATOR_PERIOD:
            return "technical_indicators.sma_fast_period", f"must be in [1, {MAX_INDICATOR_PERIOD}]"
        if not t.sma_fast_period < t.sma_slow_period <= MAX_INDICATOR_PERIOD:
            return "technical_indicators.sma_slow_period", "must be above sma_fast_period"
    return None


def _dca(c: StrategyConfig) -> Problem:
    if c.strategy_type is not StrategyType.DCA:
        return None
    d = c.dca
    if d.base_order_amount is None or d.base_order_amount <= 0:
        return "dca.base_order_amount", "must be positive"
    if not 0 <= d.max_safety_orders <= MAX_SAFETY_ORDERS:
        return "dca.max_safety_orders", f"must be between 0 and {MAX_SAFETY_ORDERS}"
    if d.max_safety_orders > 0:
        if d.safety_order_amount is None or d.safety_order_amount <= 0:
            return "dca.safety_order_amount", "must be positive when safety orders are used"
        if d.price_deviation_pct is None or not 0 < d.price_deviation_pct < _HUNDRED:
            return "dca.price_deviation_pct", "must be in (0, 100)"
    for name in ("step_scale", "volume_scale"):
        value = getattr(d, name)
        if value is not None and not 0 < value <= 10:
            return f"dca.{name}", "must be in (0, 10]"
    if d.take_profit_pct is not None and d.take_profit_pct <= 0:
        return "dca.take_profit_pct", "must be positive"
    if d.take_profit_pct is None and c.risk_controls.take_profit_pct is None:
        return "dca.take_profit_pct", "is required (or risk_controls.take_profit_pct)"
    return None


def _grid(c: StrategyConfig) -> Problem:
    if c.strategy_type is not StrategyType.SPOT_GRID:
        return None
    g = c.grid
    if g.lower_price is None or g.lower_price <= 0:
        return "grid.lower_price", "must be positive"
    if g.upper_price is None or g.upper_price <= 0:
        return "grid.upper_price", "must be positive"
    if g.lower_price >= g.upper_price:
        return "grid.lower_price", "must be below grid.upper_price"
    if not 2 <= g.grid_count <= MAX_GRID_COUNT:
        return "grid.grid_count", f"must be between 2 and {MAX_GRID_COUNT}"
    if g.quantity_per_grid is not None and g.quantity_per_grid <= 0:
        return "grid.quantity_per_grid", "must be positive"
    return None
