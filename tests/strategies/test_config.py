"""The strategy config: validation names the field; proto and dict round trips are exact."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from servicekit.errors import InvalidArgument
from strategies import build_strategy
from strategies.config import (
    CapitalAllocation,
    DcaSettings,
    GridMode,
    GridSettings,
    PositionSizing,
    PositionSizingMethod,
    RiskControls,
    RiskLevel,
    StrategyType,
    TechnicalIndicators,
    Timeframe,
    TradeWindow,
)
from strategies.proto_codec import (
    config_from_dict,
    config_from_proto,
    config_to_dict,
    config_to_proto,
    parse_config,
)
from strategies.validation import validate_config
from tests.strategies.handmade import config

GRID = GridSettings(
    lower_price=Decimal("20000"),
    upper_price=Decimal("60000"),
    grid_count=10,
    grid_mode=GridMode.GEOMETRIC,
)


def full_config():
    return config(
        name="full",
        strategy_type=StrategyType.DCA,
        risk_level=RiskLevel.MEDIUM,
        timeframe=Timeframe.TF_15M,
        capital_allocation=CapitalAllocation(Decimal("5000.50"), Decimal("1000")),
        position_sizing=PositionSizing(PositionSizingMethod.PCT_EQUITY, Decimal("12.5"), None, 3),
        risk_controls=RiskControls(stop_loss_pct=Decimal("7"), max_daily_loss_usd=Decimal("250")),
        trade_window=TradeWindow(True, "09:30", "16:00", (1, 2, 3, 4, 5), "America/New_York"),
        technical_indicators=TechnicalIndicators(14, Decimal("30"), Decimal("70"), 5, 20),
        dca=DcaSettings(
            Decimal("100"),
            Decimal("50"),
            4,
            Decimal("1.5"),
            Decimal("1.2"),
            Decimal("1.5"),
            Decimal("2"),
            True,
        ),
        grid=GRID,
        description="every field set",
    )


def grid_config(**grid):
    return config(strategy_type=StrategyType.SPOT_GRID, grid=dataclasses.replace(GRID, **grid))


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (grid_config(lower_price=Decimal("60000")), "grid.lower_price"),
        (grid_config(lower_price=Decimal("70000")), "grid.lower_price"),
        (grid_config(grid_count=0), "grid.grid_count"),
        (grid_config(quantity_per_grid=Decimal("-1")), "grid.quantity_per_grid"),
        (
            config(
                strategy_type=StrategyType.BUY_AND_HOLD,
                capital_allocation=CapitalAllocation(Decimal("-5")),
            ),
            "capital_allocation.allocated_capital",
        ),
        (config(strategy_type=None), "strategy_type"),
        (config(strategy_type=StrategyType.BUY_AND_HOLD, name=" "), "name"),
        (config(strategy_type=StrategyType.BUY_AND_HOLD, base_symbol="btc usd"), "base_symbol"),
        (
            config(
                strategy_type=StrategyType.SMA_CROSSOVER,
                technical_indicators=TechnicalIndicators(sma_fast_period=20, sma_slow_period=5),
            ),
            "technical_indicators.sma_slow_period",
        ),
        (config(strategy_type=StrategyType.DCA), "dca.base_order_amount"),
        (
            config(
                strategy_type=StrategyType.BUY_AND_HOLD,
                risk_controls=RiskControls(stop_loss_pct=Decimal("150")),
            ),
            "risk_controls.stop_loss_pct",
        ),
        (
            config(
                strategy_type=StrategyType.BUY_AND_HOLD,
                trade_window=TradeWindow(True, "9:30", "16:00", (), "UTC"),
            ),
            "trade_window.start_time",
        ),
        (
            config(
                strategy_type=StrategyType.BUY_AND_HOLD,
                trade_window=TradeWindow(True, "09:30", "16:00", (), "Mars/Base"),
            ),
            "trade_window.timezone",
        ),
        (
            config(
                strategy_type=StrategyType.BUY_AND_HOLD,
                position_sizing=PositionSizing(PositionSizingMethod.PCT_EQUITY),
            ),
            "position_sizing.pct_equity",
        ),
    ],
)
def test_validate_config_when_a_rule_breaks_raises_invalid_argument_naming_the_field(bad, field):
    with pytest.raises(InvalidArgument) as raised:
        validate_config(bad)
    assert raised.value.field == field


def test_build_strategy_when_config_is_bad_raises_invalid_argument():
    with pytest.raises(InvalidArgument) as raised:
        build_strategy(grid_config(grid_count=0))
    assert raised.value.field == "grid.grid_count"


def test_validate_config_when_prefix_given_prepends_it():
    with pytest.raises(InvalidArgument) as raised:
        validate_config(grid_config(grid_count=1), "config.")
    assert raised.value.field == "config.grid.grid_count"


def test_config_to_proto_when_decoded_again_gives_the_same_config():
    original = full_config()
    message = config_to_proto(original)
    assert message.strategy_type != 0 and message.timeframe != 0
    assert message.capital_allocation.allocated_capital == "5000.5"
    assert config_from_proto(message) == original


def test_config_from_proto_when_enums_unspecified_gives_none():
    message = config_to_proto(config(strategy_type=StrategyType.BUY_AND_HOLD))
    decoded = config_from_proto(message)
    assert decoded.risk_level is None and decoded.grid.grid_mode is None


def test_parse_config_when_decimal_malformed_names_its_dotted_path():
    message = config_to_proto(grid_config())
    message.grid.lower_price = "twenty"
    with pytest.raises(InvalidArgument) as raised:
        parse_config(message, "config.")
    assert raised.value.field == "config.grid.lower_price"


def test_parse_config_when_grid_is_inverted_names_lower_price():
    message = config_to_proto(grid_config())
    message.grid.lower_price = "90000"
    with pytest.raises(InvalidArgument) as raised:
        parse_config(message)
    assert raised.value.field == "grid.lower_price"


def test_config_to_dict_when_read_back_gives_the_same_config():
    original = full_config()
    data = config_to_dict(original)
    assert data["capital_allocation"]["allocated_capital"] == "5000.5"
    assert data["strategy_type"] == "dca"
    assert config_from_dict(data) == original


def test_config_from_dict_when_key_unknown_names_it():
    with pytest.raises(InvalidArgument) as raised:
        config_from_dict({"grid": {"lowest": "1"}})
    assert raised.value.field == "grid.lowest"
