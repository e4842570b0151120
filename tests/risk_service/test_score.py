"""The risk score and the worst-case commitment: exact figures, and monotone in what
should only ever raise the score (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk_service.commitment import DcaPlan, GridMode, GridPlan, dca_worst_case, grid_worst_case
from risk_service.model import AssetClass
from risk_service.score import ScoreInputs, StrategyKind, risk_score
from servicekit.errors import field_of
from tests.testkit.services import user_metadata
from trading.risk.v1 import risk_service_pb2 as pb
from trading.types.v1 import types_pb2 as types

percent = st.decimals(min_value=0, max_value=100, places=2)
inputs = st.builds(
    ScoreInputs,
    strategy_kind=st.sampled_from(StrategyKind),
    asset_class=st.sampled_from(AssetClass),
    position_pct=percent,
    max_positions=st.integers(1, 50),
    leverage=st.decimals(min_value=1, max_value=10, places=2),
    stop_loss_pct=st.none() | st.decimals(min_value=Decimal("0.01"), max_value=50, places=2),
    max_drawdown_limit_pct=st.none() | percent,
    backtest_drawdown_pct=st.none() | percent,
    backtest_volatility_pct=st.none() | percent,
    backtest_sharpe=st.none() | st.decimals(min_value=-5, max_value=5, places=2),
    commitment_pct_of_allocation=st.none() | st.decimals(min_value=0, max_value=500, places=2),
    has_worst_case=st.booleans(),
)


@given(inputs, percent)
def test_score_when_backtest_drawdown_deepens_never_lowers(base, deeper_by):
    shallow = replace(base, backtest_drawdown_pct=base.backtest_drawdown_pct or Decimal(0))
    deeper = replace(
        shallow, backtest_drawdown_pct=min(shallow.backtest_drawdown_pct + deeper_by, Decimal(100))
    )
    assert risk_score(deeper).exact_score >= risk_score(shallow).exact_score


@given(inputs, percent)
def test_score_when_position_size_grows_never_lowers(base, larger_by):
    larger = replace(base, position_pct=base.position_pct + larger_by)
    assert risk_score(larger).exact_score >= risk_score(base).exact_score


@given(inputs)
def test_score_when_stop_loss_removed_never_lowers(base):
    assert risk_score(replace(base, stop_loss_pct=None)).exact_score >= risk_score(base).exact_score


@given(inputs)
def test_score_is_between_0_and_100_and_the_sum_of_its_factors(base):
    score = risk_score(base)
    assert 0 <= score.score <= 100
    assert score.exact_score == sum(f.contribution for f in score.factors)
    assert all(0 <= f.contribution <= f.weight for f in score.factors)


def test_score_when_same_inputs_is_the_same():
    base = ScoreInputs(StrategyKind.DCA, AssetClass.CRYPTO, Decimal(10), 1)
    assert risk_score(base) == risk_score(base)


def test_dca_worst_case_when_scaled_commits_every_safety_order():
    plan = DcaPlan(
        base_order_amount=Decimal(100),
        safety_order_amount=Decimal(100),
        max_safety_orders=3,
        price_deviation_pct=Decimal(2),
        step_scale=Decimal(2),
        volume_scale=Decimal(2),
    )
    worst = dca_worst_case(plan, allocated_capital=Decimal(500), reference_price=Decimal(100))
    # 100 + 100 + 200 + 400; safety orders at -2%, -6%, -14%.
    assert worst.total_commitment == Decimal("800.00")
    assert [level.price_drop_pct for level in worst.levels] == [0, 2, 6, 14]
    assert worst.max_price_drop_pct == Decimal("14.00")
    assert worst.lowest_price_covered == Decimal(86)
    assert worst.exceeds_allocation
    assert worst.pct_of_allocation == Decimal("160.00")


def test_grid_worst_case_when_every_level_fills_commits_them_all():
    plan = GridPlan(Decimal(100), Decimal(200), 3, GridMode.ARITHMETIC, Decimal(1))
    worst = grid_worst_case(plan, allocated_capital=Decimal(1000))
    assert worst.total_commitment == Decimal("450.00")
    assert worst.lowest_price_covered == Decimal(100)
    assert not worst.exceeds_allocation


def test_grid_worst_case_when_geometric_levels_have_equal_ratios():
    plan = GridPlan(Decimal(100), Decimal(400), 3, GridMode.GEOMETRIC, Decimal(1))
    prices = [level.price for level in grid_worst_case(plan, None).levels]
    assert [round(p, 6) for p in prices] == [100, 200, 400]


DCA_CONFIG = types.StrategyConfig(
    strategy_type=types.STRATEGY_TYPE_DCA,
    asset_class=types.ASSET_CLASS_CRYPTO,
    base_symbol="BTC/USD",
    capital_allocation=types.CapitalAllocation(allocated_capital="1000"),
    dca=types.DcaSettings(
        base_order_amount="100",
        safety_order_amount="100",
        max_safety_orders=3,
        price_deviation_pct="2",
        step_scale="2",
        volume_scale="2",
    ),
)
USER = "00000000-0000-4000-8000-000000000001"


async def test_calculate_risk_score_over_grpc_explains_every_factor(shared_stub):
    with_stop = types.StrategyConfig()
    with_stop.CopyFrom(DCA_CONFIG)
    with_stop.risk_controls.stop_loss_pct = "5"
    reply = await shared_stub.CalculateRiskScore(
        pb.CalculateRiskScoreRequest(
            config=with_stop,
            reference_price="50000",
            backtest=pb.BacktestMetrics(max_drawdown_pct="20", sharpe_ratio="1.1"),
        ),
        metadata=user_metadata(USER),
        timeout=5,
    )
    names = {factor.name for factor in reply.factors}
    assert names == {
        "max_drawdown",
        "volatility",
        "position_size",
        "leverage",
        "stop_loss",
        "concentration",
        "strategy_type",
        "sharpe",
        "worst_case_commitment",
    }
    assert Decimal(reply.exact_score) == sum(Decimal(f.contribution) for f in reply.factors)
    assert reply.score == round(Decimal(reply.exact_score))
    assert reply.level in (types.RISK_LEVEL_LOW, types.RISK_LEVEL_MEDIUM, types.RISK_LEVEL_HIGH)
    assert reply.worst_case.total_commitment == "800"
    without_stop = await shared_stub.CalculateRiskScore(
        pb.CalculateRiskScoreRequest(
            config=DCA_CONFIG,
            reference_price="50000",
            backtest=pb.BacktestMetrics(max_drawdown_pct="20", sharpe_ratio="1.1"),
        ),
        metadata=user_metadata(USER),
        timeout=5,
    )
    assert Decimal(without_stop.exact_score) > Decimal(reply.exact_score)


async def test_worst_case_commitment_over_grpc(shared_stub):
    reply = await shared_stub.GetWorstCaseCommitment(
        pb.GetWorstCaseCommitmentRequest(config=DCA_CONFIG, reference_price="50000"),
        metadata=user_metadata(USER),
        timeout=5,
    )
    worst = reply.worst_case
    assert (worst.total_commitment, worst.max_price_drop_pct) == ("800", "14")
    assert worst.lowest_price_covered == "43000"
    assert worst.exceeds_allocation is False
    assert [level.amount for level in worst.levels] == ["100", "100", "200", "400"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: setattr(c.dca, "price_deviation_pct", "-1"), "config.dca.price_deviation_pct"),
        (lambda c: setattr(c.dca, "step_scale", "9"), "config.dca.step_scale"),
        (
            lambda c: setattr(c, "strategy_type", types.STRATEGY_TYPE_RSI_REVERSION),
            "config.strategy_type",
        ),
        (lambda c: setattr(c.dca, "base_order_amount", "NaN"), "config.dca.base_order_amount"),
    ],
)
async def test_worst_case_commitment_when_config_malformed_names_the_field(
    shared_stub, mutate, field
):
    config = types.StrategyConfig()
    config.CopyFrom(DCA_CONFIG)
    mutate(config)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shared_stub.GetWorstCaseCommitment(
            pb.GetWorstCaseCommitmentRequest(config=config),
            metadata=user_metadata(USER),
            timeout=5,
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_of(raised.value) == field


@pytest.mark.parametrize("field", ["max_drawdown_pct", "annualized_volatility_pct", "sharpe_ratio"])
async def test_calculate_risk_score_when_backtest_metric_has_ten_places_names_the_field(
    shared_stub, field
):
    async def score(value: str) -> pb.CalculateRiskScoreResponse:
        return await shared_stub.CalculateRiskScore(
            pb.CalculateRiskScoreRequest(
                config=DCA_CONFIG, backtest=pb.BacktestMetrics(**{field: value})
            ),
            metadata=user_metadata(USER),
            timeout=5,
        )

    assert (await score("12.123456789")).exact_score  # nine places: the wire's precision
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await score("12.1234567891")
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_of(raised.value) == f"backtest.{field}"
