"""Backtests: submit (rate limited per user), get, list, cancel, and a progress stream."""

from __future__ import annotations

from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Query
from sse_starlette.event import ServerSentEvent

from gateway.deps import Settings, UserSession, rate_limited
from gateway.errors import ApiError, renamed_field
from gateway.proto_models import enum_value, from_json, to_json
from gateway.routers.common import ERROR_RESPONSES, BacktestId
from gateway.routers.strategies import ensure_own_strategy
from gateway.schemas import Backtest, BacktestPage, BacktestSubmit, Cursor, Limit
from gateway.sse import EVENT_STREAM_RESPONSE, event, event_stream_response, open_stream
from trading.backtest.v1 import backtest_service_pb2 as pb
from trading.types.v1 import types_pb2

router = APIRouter(prefix="/v1/backtests", tags=["backtests"], responses=ERROR_RESPONSES)


async def _spec(body: BacktestSubmit, session) -> pb.BacktestSpec:
    if body.strategy_id is None and body.config is None:
        raise ApiError(400, "config: give a strategy_id or a config", field="config")
    spec = pb.BacktestSpec(
        initial_capital=body.initial_capital or "",
        seed=body.seed or 0,
        timeframe=enum_value(types_pb2.Timeframe, body.timeframe),
        data_source=enum_value(pb.DataSource, body.data_source),
    )
    if body.strategy_id is not None:
        # The config of the user's own strategy, read with the user's token (404 otherwise).
        strategy = await ensure_own_strategy(session, body.strategy_id)
        spec.strategy_id = strategy.strategy_id
        spec.config.CopyFrom(strategy.config)
    if body.config is not None:
        spec.config.CopyFrom(from_json(body.config, types_pb2.StrategyConfig))
    if body.start_time is not None:
        spec.start_time.FromDatetime(body.start_time)
    if body.end_time is not None:
        spec.end_time.FromDatetime(body.end_time)
    if body.execution is not None:
        spec.execution.CopyFrom(from_json(body.execution, pb.ExecutionSettings))
    return spec


@router.post("", status_code=202, response_model=Backtest, dependencies=[rate_limited("backtests")])
async def submit_backtest(body: BacktestSubmit, session: UserSession) -> Any:
    """Queue a backtest of a strategy of the user (or of a config); returns at once."""
    spec = await _spec(body, session)
    try:
        reply = await session.backtest.SubmitBacktest(
            pb.SubmitBacktestRequest(user_id=session.user_id, spec=spec)
        )
    except grpc.RpcError as error:
        # The body is the spec itself: its fields have no "spec." in front.
        raise renamed_field(error, "spec.") from None
    return to_json(reply.backtest)


@router.get("", response_model=BacktestPage)
async def list_backtests(
    session: UserSession,
    strategy_id: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[Limit | None, Query()] = None,
    cursor: Annotated[Cursor, Query()] = "",
) -> Any:
    """The user's backtests, newest first (summaries: no equity curve or trades)."""
    reply = await session.backtest.ListBacktests(
        pb.ListBacktestsRequest(
            user_id=session.user_id,
            strategy_id=strategy_id,
            page=types_pb2.PageRequest(limit=limit or 0, cursor=cursor),
        )
    )
    return to_json(reply)


@router.get("/{backtest_id}", response_model=Backtest)
async def get_backtest(backtest_id: BacktestId, session: UserSession) -> Any:
    """One backtest with its metrics, equity curve and trades once completed."""
    reply = await session.backtest.GetBacktest(
        pb.GetBacktestRequest(user_id=session.user_id, backtest_id=str(backtest_id))
    )
    return to_json(reply.backtest)


@router.post("/{backtest_id}/cancel", response_model=Backtest)
async def cancel_backtest(backtest_id: BacktestId, session: UserSession) -> Any:
    """Cancel a queued or running backtest. Safe to repeat: a backtest that has already
    finished (completed, failed or cancelled) is returned unchanged with 200; its
    `status` says whether the cancel took effect. No equity curve or trades here."""
    reply = await session.backtest.CancelBacktest(
        pb.CancelBacktestRequest(user_id=session.user_id, backtest_id=str(backtest_id))
    )
    return to_json(reply.backtest)


def _render_watch(message: pb.WatchBacktestResponse) -> ServerSentEvent | None:
    kind = message.WhichOneof("event")
    if kind == "progress":
        return event("progress", to_json(message.progress))
    if kind == "result":
        result = pb.Backtest()
        result.CopyFrom(message.result)
        # The curve and the trades can be large: GET the backtest for them.
        del result.equity_curve[:]
        del result.trades[:]
        return event("result", to_json(result), event_id=result.backtest_id)
    return None


@router.get("/{backtest_id}/events", responses=EVENT_STREAM_RESPONSE)
async def watch_backtest(backtest_id: BacktestId, session: UserSession, settings: Settings):
    """Server-sent events: `progress` ({backtest_id, status, progress 0..1}) while the job
    runs, then one `result` (the backtest in its final state, without curve and trades);
    an `error` event if the stream fails."""
    call = session.backtest.WatchBacktest(
        pb.WatchBacktestRequest(user_id=session.user_id, backtest_id=str(backtest_id))
    )
    first = await open_stream(call)
    return event_stream_response(call, first, _render_watch, settings)
