"""Strategies: CRUD, lifecycle, orders, positions and the performance summary (executor)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from gateway.deps import Session, UserSession
from gateway.proto_models import enum_value, from_json, to_json
from gateway.routers.common import ERROR_RESPONSES, StrategyId
from gateway.schemas import (
    BrokerCredentialsSet,
    BrokerCredentialsUpdate,
    Cursor,
    LifecycleReason,
    Limit,
    OrderPage,
    PerformanceSummaries,
    Positions,
    Strategy,
    StrategyCreate,
    StrategyPage,
    StrategyStatusChoice,
    StrategyTransitions,
    StrategyUpdate,
)
from trading.executor.v1 import executor_service_pb2 as pb
from trading.types.v1 import types_pb2

router = APIRouter(tags=["strategies"], responses=ERROR_RESPONSES)


def _broker(value: str | None) -> pb.Broker.ValueType:
    return enum_value(pb.Broker, value)


async def ensure_own_strategy(session: Session, strategy_id: str) -> pb.Strategy:
    """The user's strategy ``strategy_id``; 404 when it does not exist or is not theirs."""
    reply = await session.executor.GetStrategy(
        pb.GetStrategyRequest(user_id=session.user_id, strategy_id=strategy_id)
    )
    return reply.strategy


@router.post("/v1/strategies", status_code=201, response_model=Strategy)
async def create_strategy(body: StrategyCreate, session: UserSession) -> Any:
    """Create a strategy in status draft from a config validated field by field."""
    reply = await session.executor.CreateStrategy(
        pb.CreateStrategyRequest(
            user_id=session.user_id,
            config=from_json(body.config, types_pb2.StrategyConfig),
            broker=_broker(body.broker),
            live=body.live,
        )
    )
    return to_json(reply.strategy)


@router.get("/v1/strategies", response_model=StrategyPage)
async def list_strategies(
    session: UserSession,
    status: Annotated[StrategyStatusChoice | None, Query()] = None,  # type: ignore[valid-type]
    limit: Annotated[Limit | None, Query()] = None,
    cursor: Annotated[Cursor, Query()] = "",
) -> Any:
    """The user's strategies, optionally of one status."""
    reply = await session.executor.ListStrategies(
        pb.ListStrategiesRequest(
            user_id=session.user_id,
            status=enum_value(pb.StrategyStatus, status),
            page=types_pb2.PageRequest(limit=limit or 0, cursor=cursor),
        )
    )
    return to_json(reply)


@router.get("/v1/strategies/{strategy_id}", response_model=Strategy)
async def get_strategy(strategy_id: StrategyId, session: UserSession) -> Any:
    return to_json(await ensure_own_strategy(session, str(strategy_id)))


@router.put("/v1/strategies/{strategy_id}", response_model=Strategy)
async def update_strategy(
    strategy_id: StrategyId, body: StrategyUpdate, session: UserSession
) -> Any:
    """Replace the config (draft, paused or stopped strategies; 409 on a stale version)."""
    reply = await session.executor.UpdateStrategy(
        pb.UpdateStrategyRequest(
            user_id=session.user_id,
            strategy_id=str(strategy_id),
            config=from_json(body.config, types_pb2.StrategyConfig),
            expected_version=body.expected_version,
        )
    )
    return to_json(reply.strategy)


@router.delete("/v1/strategies/{strategy_id}", status_code=204, response_class=Response)
async def delete_strategy(strategy_id: StrategyId, session: UserSession) -> Response:
    """Delete a strategy that is not active (its orders and fills are kept)."""
    await session.executor.DeleteStrategy(
        pb.DeleteStrategyRequest(user_id=session.user_id, strategy_id=str(strategy_id))
    )
    return Response(status_code=204)


@router.post("/v1/strategies/{strategy_id}/activate", response_model=Strategy)
async def activate_strategy(strategy_id: StrategyId, session: UserSession) -> Any:
    """Draft or stopped -> active, after the tier's limits and a risk score."""
    reply = await session.executor.ActivateStrategy(
        pb.ActivateStrategyRequest(user_id=session.user_id, strategy_id=str(strategy_id))
    )
    return to_json(reply.strategy)


@router.post("/v1/strategies/{strategy_id}/pause", response_model=Strategy)
async def pause_strategy(
    strategy_id: StrategyId, session: UserSession, body: LifecycleReason | None = None
) -> Any:
    reply = await session.executor.PauseStrategy(
        pb.PauseStrategyRequest(
            user_id=session.user_id,
            strategy_id=str(strategy_id),
            reason=body.reason if body else "",
        )
    )
    return to_json(reply.strategy)


@router.post("/v1/strategies/{strategy_id}/resume", response_model=Strategy)
async def resume_strategy(strategy_id: StrategyId, session: UserSession) -> Any:
    reply = await session.executor.ResumeStrategy(
        pb.ResumeStrategyRequest(user_id=session.user_id, strategy_id=str(strategy_id))
    )
    return to_json(reply.strategy)


@router.post("/v1/strategies/{strategy_id}/stop", response_model=Strategy)
async def stop_strategy(
    strategy_id: StrategyId, session: UserSession, body: LifecycleReason | None = None
) -> Any:
    reply = await session.executor.StopStrategy(
        pb.StopStrategyRequest(
            user_id=session.user_id,
            strategy_id=str(strategy_id),
            reason=body.reason if body else "",
        )
    )
    return to_json(reply.strategy)


@router.get("/v1/strategies/{strategy_id}/transitions", response_model=StrategyTransitions)
async def list_transitions(strategy_id: StrategyId, session: UserSession) -> Any:
    """Every status change of the strategy, who made it and why, oldest first."""
    reply = await session.executor.ListStrategyTransitions(
        pb.ListStrategyTransitionsRequest(user_id=session.user_id, strategy_id=str(strategy_id))
    )
    if not reply.transitions:
        await ensure_own_strategy(session, str(strategy_id))
    return to_json(reply)


async def _orders(session: Session, strategy_id: str, limit: int | None, cursor: str) -> Any:
    reply = await session.executor.ListOrders(
        pb.ListOrdersRequest(
            user_id=session.user_id,
            strategy_id=strategy_id,
            page=types_pb2.PageRequest(limit=limit or 0, cursor=cursor),
        )
    )
    # An empty page for someone else's strategy must read as 404, not as "no orders".
    if strategy_id and not reply.orders:
        await ensure_own_strategy(session, strategy_id)
    return to_json(reply)


async def _positions(session: Session, strategy_id: str) -> Any:
    reply = await session.executor.ListPositions(
        pb.ListPositionsRequest(user_id=session.user_id, strategy_id=strategy_id)
    )
    if strategy_id and not reply.positions:
        await ensure_own_strategy(session, strategy_id)
    return to_json(reply)


async def _performance(session: Session, strategy_id: str) -> Any:
    reply = await session.executor.GetPerformanceSummary(
        pb.GetPerformanceSummaryRequest(user_id=session.user_id, strategy_id=strategy_id)
    )
    if strategy_id and not reply.summaries:
        await ensure_own_strategy(session, strategy_id)
    return to_json(reply)


@router.get("/v1/strategies/{strategy_id}/orders", response_model=OrderPage)
async def list_strategy_orders(
    strategy_id: StrategyId,
    session: UserSession,
    limit: Annotated[Limit | None, Query()] = None,
    cursor: Annotated[Cursor, Query()] = "",
) -> Any:
    return await _orders(session, str(strategy_id), limit, cursor)


@router.get("/v1/strategies/{strategy_id}/positions", response_model=Positions)
async def list_strategy_positions(strategy_id: StrategyId, session: UserSession) -> Any:
    return await _positions(session, str(strategy_id))


@router.get("/v1/strategies/{strategy_id}/performance", response_model=PerformanceSummaries)
async def strategy_performance(strategy_id: StrategyId, session: UserSession) -> Any:
    """Risk score, open positions, P&L, fees and counts of one strategy."""
    return await _performance(session, str(strategy_id))


@router.get("/v1/orders", response_model=OrderPage, tags=["orders"])
async def list_orders(
    session: UserSession,
    limit: Annotated[Limit | None, Query()] = None,
    cursor: Annotated[Cursor, Query()] = "",
) -> Any:
    """Orders of every strategy of the user, newest first."""
    return await _orders(session, "", limit, cursor)


@router.get("/v1/positions", response_model=Positions, tags=["orders"])
async def list_positions(session: UserSession) -> Any:
    return await _positions(session, "")


@router.get("/v1/performance", response_model=PerformanceSummaries, tags=["orders"])
async def performance(session: UserSession) -> Any:
    """The performance summary of every strategy of the user."""
    return await _performance(session, "")


@router.put("/v1/broker-credentials", response_model=BrokerCredentialsSet, tags=["profile"])
async def set_broker_credentials(body: BrokerCredentialsUpdate, session: UserSession) -> Any:
    """Store broker API keys, encrypted at rest; they are never returned."""
    reply = await session.executor.SetBrokerCredentials(
        pb.SetBrokerCredentialsRequest(
            user_id=session.user_id,
            broker=_broker(body.broker),
            api_key_id=body.api_key_id,
            api_secret=body.api_secret,
        )
    )
    return to_json(reply)
