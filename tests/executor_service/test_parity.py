"""Parity: the executor over the replayed feed places exactly the orders the backtest
engine places for the same strategy and bars (bar, side, type, quantity, price).

The executor runs its bot on the paper exchange (matching in the engine's phases with the
shared fill model) with an account holding exactly the strategy's capital; risk allows
every order (what risk refuses is not the engine's business). The engine runs the same
config over the same feed bars, per bar, with the paper exchange's costs."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import pytest

from backtest_service.engine.settings import Costs
from executor_service.feed import feed_bars
from strategies.proto_codec import parse_config
from tests.executor_service.configs import dca_config, grid_config
from tests.executor_service.flow_kit import executor_service, stop_seeded_bots, wait_for
from tests.executor_service.parity_kit import (
    STEP,
    assert_same_orders,
    engine_orders,
    engine_run,
    stepped,
)
from tests.executor_service.test_flow import create_and_activate
from tests.testkit.services import channel_to, user_metadata
from trading.executor.v1 import executor_service_pb2 as pb
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as tpb

BARS = 300
CAPITAL = Decimal(5000)
SEED = 42
# The paper exchange's defaults (fee 10 bps taker and maker, slippage 5 bps, a tenth of
# a bar's volume), as the engine's costs.
COSTS = Costs(maker_fee=0.001, taker_fee=0.001, slippage=0.0005, max_volume_share=0.1)


def tight_grid() -> tpb.StrategyConfig:
    config = grid_config()
    config.grid.lower_price, config.grid.upper_price = "2460", "2540"
    return config


def buy_and_hold() -> tpb.StrategyConfig:
    config = grid_config("hold")
    config.ClearField("grid")
    config.strategy_type = tpb.STRATEGY_TYPE_BUY_AND_HOLD
    config.risk_controls.take_profit_pct = "0.5"
    return config


def dca_tight() -> tpb.StrategyConfig:
    # Safety orders 0.05% apart: on this feed some fill in the very bar whose open filled
    # the base order (bars 1 and 151), as the engine lets reactions to an open fill trade.
    config = dca_config()
    config.dca.price_deviation_pct = "0.05"
    return config


def signal(strategy_type: int, **indicators) -> tpb.StrategyConfig:
    config = dca_config("signal")
    config.ClearField("dca")
    config.strategy_type = strategy_type
    config.risk_controls.take_profit_pct = "0.3"
    config.technical_indicators.CopyFrom(tpb.TechnicalIndicators(**indicators))
    return config


CASES = {
    "dca": dca_config,
    "dca_same_bar_safety_fills": dca_tight,
    "spot_grid": tight_grid,
    "buy_and_hold": buy_and_hold,
    "sma_crossover": lambda: signal(
        tpb.STRATEGY_TYPE_SMA_CROSSOVER, sma_fast_period=5, sma_slow_period=20
    ),
    "rsi_reversion": lambda: signal(
        tpb.STRATEGY_TYPE_RSI_REVERSION,
        rsi_period=14,
        rsi_buy_threshold="35",
        rsi_sell_threshold="65",
    ),
}


async def executor_run(database, fake_risk, user, config, *, until_paused=False):
    """The executor's orders of the run (bars 0..BARS) and its fills, from the ledger."""
    connection = await asyncpg.connect(database.admin_dsn)
    await stop_seeded_bots(connection)
    try:
        async with executor_service(
            database,
            fake_risk.port,
            1,
            feed_seed=SEED,
            paper_starting_cash=CAPITAL,
            outbox_poll_seconds=0.5,
            performance_refresh_seconds=5.0,
        ) as executor:
            channel = channel_to(executor)
            stub = pb_grpc.ExecutorServiceStub(channel)
            strategy = await create_and_activate(stub, user, config)
            if until_paused:
                await wait_for(
                    connection,
                    "select status from trading_strategies where id = $1",
                    lambda status: status == "paused",
                    90,
                    strategy,
                )
            else:
                await wait_for(
                    connection,
                    "select count(*) from trading_strategies where id = $1"
                    " and last_bar_at >= timestamptz '2026-01-05' + make_interval(mins => $2)",
                    lambda n: n == 1,
                    90,
                    strategy,
                    BARS,
                )
            await stub.StopStrategy(
                pb.StopStrategyRequest(user_id=str(user), strategy_id=strategy),
                metadata=user_metadata(user),
                timeout=5,
            )
            await channel.close()
        rows = await connection.fetch(
            """
            select (extract(epoch from bar_at - timestamptz '2026-01-05') / 60)::int as bar,
                   side, order_type, quantity, limit_price
            from bot_orders where strategy_id = $1
              and bar_at <= timestamptz '2026-01-05' + make_interval(mins => $2)
            """,
            strategy,
            BARS,
        )
        fills = await connection.fetch(
            "select (extract(epoch from f.bar_at - timestamptz '2026-01-05') / 60)::int as bar,"
            " f.side, f.quantity, f.price, o.tag from bot_fills f join bot_orders o"
            " on o.id = f.order_id where f.strategy_id = $1",
            strategy,
        )
        orders = [
            (
                r["bar"],
                r["side"],
                r["order_type"],
                stepped(r["quantity"]),
                stepped(r["limit_price"]),
            )
            for r in rows
        ]
        return orders, fills
    finally:
        await connection.close()


@pytest.mark.parametrize("case", sorted(CASES))
async def test_executor_when_replaying_the_feed_places_the_engines_orders(
    case, database, fake_risk, user_a
):
    config = CASES[case]()
    config.capital_allocation.allocated_capital = str(CAPITAL)
    ours, _ = await executor_run(database, fake_risk, user_a, config)
    parsed = parse_config(config)
    bars = feed_bars(config.base_symbol, parsed.timeframe.interval, SEED).slice(0, BARS + 1)
    theirs = engine_orders(parsed, bars, COSTS)
    assert len(theirs) >= 2, "the case must trade"
    assert_same_orders(ours, theirs)


@pytest.mark.parametrize(
    ("tag", "controls"),
    [
        ("stop_loss", {"stop_loss_pct": "0.5"}),  # breached at bar 35 (seed 42)
        ("daily_loss", {"max_daily_loss_usd": "5"}),  # breached at bar 22
    ],
)
async def test_stop_loss_when_breached_executor_exits_at_next_open_where_engine_fills_the_stop(
    tag, controls, database, fake_risk, user_a
):
    # Where the two differ, on purpose. The engine rests the stop and fills it inside
    # the bar that trades through it, at the stop (or a lower open) less slippage, and
    # the DCA then starts its next deal. The executor holds the stop (risk refuses a
    # resting stop beside the take profit): it learns of the breach when that bar closes,
    # sends a market sell of the same quantity decided at that bar, which fills at the
    # next bar's open less slippage, and the strategy is paused. Before the breach the
    # orders are the same.
    config = dca_config(**controls)
    config.capital_allocation.allocated_capital = str(CAPITAL)
    ours, fills = await executor_run(database, fake_risk, user_a, config, until_paused=True)
    parsed = parse_config(config)
    bars = feed_bars(config.base_symbol, parsed.timeframe.interval, SEED).slice(0, BARS + 1)
    theirs, log = engine_run(parsed, bars, COSTS)
    stop = next(f for f in log.fills if f.tag == tag)
    breach = stop.bar_index
    assert_same_orders([o for o in ours if o[0] < breach], [o for o in theirs if o[0] < breach])
    assert [o for o in ours if o[0] >= breach] == [
        (breach, "sell", "market", stepped(stop.quantity), None)
    ]
    exit_fill = next(f for f in fills if f["tag"] == tag)
    assert exit_fill["bar"] == breach + 1 == max(f["bar"] for f in fills)
    assert abs(exit_fill["quantity"] - stepped(stop.quantity)) <= STEP
    next_open = float(bars.open[breach + 1])
    assert abs(float(exit_fill["price"]) - next_open * (1 - COSTS.slippage)) <= 1e-8
