"""The engine runner: a job through the real engine, stored in the proto's JSON shape."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from google.protobuf import json_format

from backtest_service.convert import config_from_json
from backtest_service.engine import EngineSettings, run_backtest
from backtest_service.jobs import ClaimedJob
from backtest_service.runner import EngineRunner, engine_settings
from market_data import load_bars
from strategies.proto_codec import parse_config
from tests.backtest_service.conftest import BUY_AND_HOLD_CONFIG
from tests.backtest_service.requests_kit import grid_config
from trading.backtest.v1 import backtest_service_pb2 as pb

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _job(config: dict, *, timeframe: str = "1d", days: int = 120, **overrides) -> ClaimedJob:
    values = {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "strategy_id": None,
        "kind": "user",
        "config": config,
        "symbol": config["base_symbol"],
        "timeframe": timeframe,
        "start_at": START,
        "end_at": START + dt.timedelta(days=days),
        "initial_capital": Decimal(10_000),
        "data_source": "synthetic",
        "seed": 11,
        "execution": {},
        "attempts": 1,
        "claimed_by": "test",
        **overrides,
    }
    return ClaimedJob(**values)


def test_run_job_when_grid_runs_stores_what_the_engine_computed_in_proto_shape():
    config = json_format.MessageToDict(grid_config(), preserving_proto_field_name=True)
    job = _job(config, timeframe="1h", days=60)
    reports: list[float] = []

    stored = EngineRunner()(job, reports.append)

    # The same run straight through the engine, as an independent reference.
    bars = load_bars("BTC/USD", "1h", job.start_at, job.end_at, source="synthetic", seed=11)
    model = parse_config(config_from_json(config))
    reference = run_backtest(model, bars, EngineSettings()).metrics
    metrics = json_format.ParseDict(stored.metrics, pb.BacktestMetrics())
    assert Decimal(metrics.final_equity) == Decimal(f"{reference.final_equity:.8f}").normalize()
    assert float(metrics.total_return_pct) == round(reference.total_return_pct, 10)
    assert float(metrics.max_drawdown_pct) == abs(round(reference.max_drawdown_pct, 10))
    assert metrics.trade_count == reference.number_of_trades
    assert metrics.periods_per_year == 365 * 24
    assert sum(e.count for e in metrics.exits_by_reason) == reference.number_of_trades
    assert metrics.monthly_returns[0].month == "2024-01"
    # Curve and trades parse as the proto messages the service returns.
    curve = [json_format.ParseDict(p, pb.EquityPoint()) for p in stored.equity_curve]
    assert curve and curve[-1].equity == metrics.final_equity
    trades = [json_format.ParseDict(t, pb.BacktestTrade()) for t in stored.trades]
    assert len(trades) == reference.number_of_trades + reference.open_trades
    assert reports[0] == 0.0 and reports[-1] == 1.0
    assert reports == sorted(reports)


def test_run_job_when_capital_overridden_runs_with_the_jobs_capital():
    job = _job(BUY_AND_HOLD_CONFIG, initial_capital=Decimal(2_500))
    stored = EngineRunner()(job, lambda _fraction: None)
    assert stored.metrics["initial_capital"] == "2500"


def test_engine_settings_when_overrides_given_keeps_defaults_for_the_rest():
    settings = engine_settings({"taker_fee_bps": "7.5"})
    assert settings.taker_fee_bps == 7.5
    assert settings.maker_fee_bps is None  # the asset class default
    assert settings.slippage_bps == EngineSettings().slippage_bps
    assert engine_settings({"slippage_bps": "0"}).slippage_bps == 0.0  # zero is a choice
