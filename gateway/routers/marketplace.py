"""The community marketplace: browse, publish (rate limited), rate 1-5, clone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.deps import UserSession, rate_limited
from gateway.proto_models import enum_value, to_json
from gateway.routers.common import ERROR_RESPONSES, CommunityStrategyId
from gateway.routers.strategies import ensure_own_strategy
from gateway.schemas import (
    CloneRequest,
    CommunitySortChoice,
    CommunityStrategy,
    CommunityStrategyPage,
    Cursor,
    Limit,
    PositiveDecimal,
    PublishRequest,
    RatingRequest,
    RatingSummary,
    Strategy,
    StrategyTypeChoice,
)
from trading.backtest.v1 import backtest_service_pb2 as pb
from trading.executor.v1 import executor_service_pb2 as executor_pb
from trading.types.v1 import types_pb2

router = APIRouter(
    prefix="/v1/marketplace/strategies", tags=["marketplace"], responses=ERROR_RESPONSES
)


@router.get("", response_model=CommunityStrategyPage)
async def list_community_strategies(
    session: UserSession,
    verified_only: bool = False,
    min_rating: Annotated[PositiveDecimal | None, Query()] = None,
    sort: Annotated[CommunitySortChoice | None, Query()] = None,  # type: ignore[valid-type]
    strategy_type: Annotated[StrategyTypeChoice | None, Query()] = None,  # type: ignore[valid-type]
    limit: Annotated[Limit | None, Query()] = None,
    cursor: Annotated[Cursor, Query()] = "",
) -> Any:
    """Published strategies, by default highest rated first."""
    reply = await session.backtest.ListCommunityStrategies(
        pb.ListCommunityStrategiesRequest(
            user_id=session.user_id,
            verified_only=verified_only,
            min_rating=min_rating or "",
            sort=enum_value(pb.CommunitySort, sort),
            strategy_type=enum_value(types_pb2.StrategyType, strategy_type),
            page=types_pb2.PageRequest(limit=limit or 0, cursor=cursor),
        )
    )
    return to_json(reply)


@router.get("/{community_strategy_id}", response_model=CommunityStrategy)
async def get_community_strategy(
    community_strategy_id: CommunityStrategyId, session: UserSession
) -> Any:
    reply = await session.backtest.GetCommunityStrategy(
        pb.GetCommunityStrategyRequest(
            user_id=session.user_id, community_strategy_id=str(community_strategy_id)
        )
    )
    return to_json(reply.strategy)


@router.post(
    "",
    status_code=202,
    response_model=CommunityStrategy,
    dependencies=[rate_limited("publishes")],
)
async def publish_strategy(body: PublishRequest, session: UserSession) -> Any:
    """Publish a copy of one of your strategies. It is verified by the service's own
    backtest over a standard period (verification_status pending until then)."""
    strategy = await ensure_own_strategy(session, body.strategy_id)
    reply = await session.backtest.PublishStrategy(
        pb.PublishStrategyRequest(
            user_id=session.user_id,
            strategy_id=strategy.strategy_id,
            config=strategy.config,
            name=body.name or "",
            description=body.description or "",
        )
    )
    return to_json(reply.strategy)


@router.put("/{community_strategy_id}/rating", response_model=RatingSummary)
async def rate_strategy(
    community_strategy_id: CommunityStrategyId, body: RatingRequest, session: UserSession
) -> Any:
    """Rate 1-5; your later rating replaces your earlier one. The average is the database's."""
    reply = await session.backtest.RateStrategy(
        pb.RateStrategyRequest(
            user_id=session.user_id,
            community_strategy_id=str(community_strategy_id),
            rating=body.rating,
        )
    )
    return to_json(reply)


@router.post("/{community_strategy_id}/clone", status_code=201, response_model=Strategy)
async def clone_strategy(
    community_strategy_id: CommunityStrategyId,
    session: UserSession,
    body: CloneRequest | None = None,
) -> Any:
    """Copy a listing into your own strategies (a new draft)."""
    # Two steps, both as the user: the listing's config, then a strategy of their own.
    listing = await session.backtest.CloneCommunityStrategy(
        pb.CloneCommunityStrategyRequest(
            user_id=session.user_id, community_strategy_id=str(community_strategy_id)
        )
    )
    config = types_pb2.StrategyConfig()
    config.CopyFrom(listing.config)
    if body is not None and body.name:
        config.name = body.name
    created = await session.executor.CreateStrategy(
        executor_pb.CreateStrategyRequest(user_id=session.user_id, config=config)
    )
    return to_json(created.strategy)
