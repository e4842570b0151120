"""The risk peer against the real risk service (in-process, same database): a completed
backtest of a realistic strategy gets the risk score the risk service computes, and the
figures sent to risk are at the wire's fixed precision."""

from __future__ import annotations

import logging
from decimal import Decimal

import grpc
import pytest

from backtest_service.peers import RISK_METRIC_PLACES, risk_metric
from risk_service.config import RiskSettings
from risk_service.server import build as build_risk
from tests.backtest_service.conftest import backtest_service, running_worker, wait_for_status
from tests.backtest_service.requests_kit import buy_and_hold_config, spec, submit_request
from tests.testkit.services import channel_to, service_metadata, start_service, user_metadata
from trading.backtest.v1 import backtest_service_pb2 as pb
from trading.backtest.v1 import backtest_service_pb2_grpc as pb_grpc
from trading.risk.v1 import risk_service_pb2 as risk_pb
from trading.risk.v1 import risk_service_pb2_grpc as risk_grpc
from trading.types.v1 import types_pb2


def dca_config() -> types_pb2.StrategyConfig:
    """A DCA bot as a user would set one up: safety orders, take profit, a stop loss."""
    config = buy_and_hold_config("BTC/USD")
    config.name = "BTC DCA"
    config.strategy_type = types_pb2.STRATEGY_TYPE_DCA
    config.timeframe = types_pb2.TIMEFRAME_1H
    config.dca.CopyFrom(
        types_pb2.DcaSettings(
            base_order_amount="500",
            safety_order_amount="500",
            max_safety_orders=5,
            price_deviation_pct="2",
            step_scale="1.5",
            volume_scale="1.5",
            take_profit_pct="2",
        )
    )
    config.risk_controls.stop_loss_pct = "15"
    return config


@pytest.fixture
async def real_risk(database):
    """The real risk service on port 0, on the test's database."""
    async with start_service(
        RiskSettings, database, name="risk", role="risk_service", build=build_risk
    ) as app:
        yield f"127.0.0.1:{app.port}"


async def test_completed_backtest_when_scored_by_the_real_risk_service_stores_its_score(
    database, backtest_pool, peers, user_a, real_risk, caplog
):
    caplog.set_level(logging.WARNING, logger="backtest_service.peers")
    request = submit_request(user_a, spec(dca_config(), days=90))
    async with (
        backtest_service(database, peers, risk_address=real_risk) as app,
        channel_to(app) as channel,
    ):
        stub = pb_grpc.BacktestServiceStub(channel)
        submitted = await stub.SubmitBacktest(request, metadata=user_metadata(user_a), timeout=10)
        backtest_id = submitted.backtest.backtest_id
        async with running_worker(backtest_pool, database, peers, risk_address=real_risk):
            row = await wait_for_status(backtest_pool, backtest_id, {"completed", "failed"})
        got = await stub.GetBacktest(
            pb.GetBacktestRequest(user_id=str(user_a), backtest_id=backtest_id),
            metadata=user_metadata(user_a),
            timeout=10,
        )
    assert row["status"] == "completed", row["error"]
    backtest = got.backtest
    assert backtest.metrics.trade_count > 0  # a run with trades, not an empty one
    assert not [r.message for r in caplog.records if "CalculateRiskScore" in r.message]
    assert backtest.risk_score_status == pb.RISK_SCORE_STATUS_SCORED, backtest.risk_score_note
    assert backtest.risk_score != ""

    # The stored score is the risk service's own answer for this config and these metrics.
    async with grpc.aio.insecure_channel(real_risk) as channel:
        direct = await risk_grpc.RiskServiceStub(channel).CalculateRiskScore(
            risk_pb.CalculateRiskScoreRequest(
                config=dca_config(),
                backtest=risk_pb.BacktestMetrics(
                    max_drawdown_pct=risk_metric(backtest.metrics.max_drawdown_pct),
                    annualized_volatility_pct=risk_metric(backtest.metrics.volatility_pct),
                    sharpe_ratio=risk_metric(backtest.metrics.sharpe_ratio),
                ),
            ),
            metadata=service_metadata(),
            timeout=10,
        )
    assert Decimal(backtest.risk_score) == Decimal(direct.exact_score)
    drawdown = next(f for f in direct.factors if f.name == "max_drawdown")
    assert Decimal(drawdown.value) == Decimal(backtest.metrics.max_drawdown_pct).quantize(
        Decimal(1).scaleb(-RISK_METRIC_PLACES)
    )


@pytest.mark.parametrize(
    ("stored", "sent"),
    [
        ("23.4567890123", "23.456789"),  # the engine's 10 places, rounded
        ("0.0000005", "0"),  # half-even: exactly half rounds to the even digit
        ("0.0000015", "0.000002"),
        ("-1.2345675", "-1.234568"),  # a signed Sharpe keeps its sign
        ("12", "12"),
        ("123456789012.5", "1000000"),  # a ratio of a near-flat curve is bounded
        ("-123456789012.5", "-1000000"),
        ("", ""),
        ("NaN", ""),
        ("not a number", ""),
    ],
)
def test_risk_metric_when_stored_at_any_precision_is_sent_at_six_places(stored, sent):
    assert risk_metric(stored) == sent
    assert RISK_METRIC_PLACES == 6
