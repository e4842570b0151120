"""Valid strategy configs for the executor's tests (DCA on BTC/USD, spot grid on ETH/USD)."""

from trading.types.v1 import types_pb2 as tpb


def dca_config(name: str = "BTC DCA", **risk_controls) -> tpb.StrategyConfig:
    return tpb.StrategyConfig(
        name=name,
        strategy_type=tpb.STRATEGY_TYPE_DCA,
        risk_level=tpb.RISK_LEVEL_MEDIUM,
        base_symbol="BTC/USD",
        asset_class=tpb.ASSET_CLASS_CRYPTO,
        time_horizon=tpb.TIME_HORIZON_SWING,
        automation_level=tpb.AUTOMATION_LEVEL_FULLY_AUTO,
        timeframe=tpb.TIMEFRAME_1M,
        capital_allocation=tpb.CapitalAllocation(
            allocated_capital="5000", max_capital_per_trade="1000"
        ),
        position_sizing=tpb.PositionSizing(
            method=tpb.POSITION_SIZING_METHOD_FIXED_AMOUNT, fixed_amount="500", max_positions=1
        ),
        risk_controls=tpb.RiskControls(max_leverage="1", **risk_controls),
        dca=tpb.DcaSettings(
            base_order_amount="500",
            safety_order_amount="500",
            max_safety_orders=3,
            price_deviation_pct="0.2",
            step_scale="1",
            volume_scale="1",
            take_profit_pct="0.3",
        ),
    )


def grid_config(name: str = "ETH grid") -> tpb.StrategyConfig:
    return tpb.StrategyConfig(
        name=name,
        strategy_type=tpb.STRATEGY_TYPE_SPOT_GRID,
        risk_level=tpb.RISK_LEVEL_LOW,
        base_symbol="ETH/USD",
        asset_class=tpb.ASSET_CLASS_CRYPTO,
        time_horizon=tpb.TIME_HORIZON_INTRADAY,
        automation_level=tpb.AUTOMATION_LEVEL_FULLY_AUTO,
        timeframe=tpb.TIMEFRAME_1M,
        capital_allocation=tpb.CapitalAllocation(allocated_capital="5000"),
        position_sizing=tpb.PositionSizing(max_positions=5),
        risk_controls=tpb.RiskControls(max_leverage="1"),
        grid=tpb.GridSettings(
            lower_price="2400",
            upper_price="2600",
            grid_mode=tpb.GRID_MODE_ARITHMETIC,
            grid_count=10,
            quantity_per_grid="0.1",
        ),
    )
