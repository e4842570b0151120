"""Bad submissions are refused with INVALID_ARGUMENT naming the field; good ones queue."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from servicekit.errors import field_of, reason_of
from tests.backtest_service.requests_kit import (
    buy_and_hold_config,
    grid_config,
    spec,
    submit_request,
    ts,
)
from tests.testkit.services import user_metadata
from trading.backtest.v1 import backtest_service_pb2 as pb


def _end_before_start(s: pb.BacktestSpec) -> None:
    s.end_time.CopyFrom(ts(dt.datetime(2023, 12, 1, tzinfo=dt.UTC)))


def _unknown_symbol(s: pb.BacktestSpec) -> None:
    s.config.base_symbol = "NOPE/USD"


def _empty_data(s: pb.BacktestSpec) -> None:
    # An equity over a weekend: Saturday 00:00 to Monday 00:00 UTC holds no session.
    s.config.CopyFrom(buy_and_hold_config("AAPL"))
    s.start_time.CopyFrom(ts(dt.datetime(2024, 1, 6, tzinfo=dt.UTC)))
    s.end_time.CopyFrom(ts(dt.datetime(2024, 1, 8, tzinfo=dt.UTC)))


def _grid_lower_above_upper(s: pb.BacktestSpec) -> None:
    s.config.CopyFrom(grid_config())
    s.config.grid.lower_price = "60000"


def _grid_lower_equal_upper(s: pb.BacktestSpec) -> None:
    s.config.CopyFrom(grid_config())
    s.config.grid.lower_price = s.config.grid.upper_price


def _zero_grid_count(s: pb.BacktestSpec) -> None:
    s.config.CopyFrom(grid_config())
    s.config.grid.grid_count = 0


def _negative_capital(s: pb.BacktestSpec) -> None:
    s.initial_capital = "-100"


def _negative_config_capital(s: pb.BacktestSpec) -> None:
    s.config.capital_allocation.allocated_capital = "-5"


def _no_start(s: pb.BacktestSpec) -> None:
    s.ClearField("start_time")


def _bad_fee(s: pb.BacktestSpec) -> None:
    s.execution.taker_fee_bps = "-1"


@pytest.mark.parametrize(
    ("break_spec", "field"),
    [
        (_end_before_start, "spec.end_time"),
        (_unknown_symbol, "spec.config.base_symbol"),
        (_empty_data, "spec.end_time"),
        (_grid_lower_above_upper, "spec.config.grid.lower_price"),
        (_grid_lower_equal_upper, "spec.config.grid.lower_price"),
        (_zero_grid_count, "spec.config.grid.grid_count"),
        (_negative_capital, "spec.initial_capital"),
        (_negative_config_capital, "spec.config.capital_allocation.allocated_capital"),
        (_no_start, "spec.start_time"),
        (_bad_fee, "spec.execution.taker_fee_bps"),
    ],
)
async def test_submit_backtest_when_request_is_bad_is_invalid_argument_naming_the_field(
    stub, user_a, break_spec, field
):
    backtest_spec = spec()
    break_spec(backtest_spec)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.SubmitBacktest(
            submit_request(user_a, backtest_spec), metadata=user_metadata(user_a), timeout=10
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_of(raised.value) == field
    assert field in raised.value.details()


async def test_submit_backtest_when_period_holds_no_bars_says_empty_data(stub, user_a):
    backtest_spec = spec()
    _empty_data(backtest_spec)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.SubmitBacktest(
            submit_request(user_a, backtest_spec), metadata=user_metadata(user_a), timeout=10
        )
    assert reason_of(raised.value) == "EMPTY_DATA"


async def test_submit_backtest_when_valid_returns_at_once_with_a_queued_job(stub, user_a):
    response = await stub.SubmitBacktest(
        submit_request(user_a), metadata=user_metadata(user_a), timeout=10
    )
    backtest = response.backtest
    assert backtest.status == pb.BACKTEST_STATUS_QUEUED
    assert backtest.progress == 0
    assert backtest.symbol == "BTC/USD"
    assert backtest.spec.initial_capital == "10000"  # from the config's allocation
    assert backtest.risk_score_status == pb.RISK_SCORE_STATUS_PENDING
    fetched = await stub.GetBacktest(
        pb.GetBacktestRequest(user_id=str(user_a), backtest_id=backtest.backtest_id),
        metadata=user_metadata(user_a),
        timeout=10,
    )
    assert fetched.backtest.backtest_id == backtest.backtest_id
    assert fetched.backtest.spec.config == backtest.spec.config


async def test_submit_backtest_when_user_names_someone_else_is_permission_denied(
    stub, user_a, user_b
):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.SubmitBacktest(
            submit_request(user_b), metadata=user_metadata(user_a), timeout=10
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert field_of(raised.value) == "user_id"


async def test_get_backtest_when_it_is_another_users_is_not_found(stub, user_a, user_b):
    response = await stub.SubmitBacktest(
        submit_request(user_a), metadata=user_metadata(user_a), timeout=10
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetBacktest(
            pb.GetBacktestRequest(user_id=str(user_b), backtest_id=response.backtest.backtest_id),
            metadata=user_metadata(user_b),
            timeout=10,
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
