"""BacktestService over gRPC: protobuf <-> domain and nothing else.

Each method authorises the user the request names (a user may act only for themselves,
a service for anyone), converts the request, calls the domain (``backtests``,
``marketplace``) and converts the answer. Errors are ``servicekit.errors``: the
interceptor maps them to status codes with the field in the trailers.
"""

from __future__ import annotations

import datetime as dt

import grpc

from backtest_service import convert
from backtest_service.backtests import BacktestJobs
from backtest_service.marketplace import Marketplace, parse_min_rating
from backtest_service.peers import TIER_NAMES
from backtest_service.progress import ProgressEvent
from backtest_service.strategy_configs import strategy_type_name
from servicekit.auth import authorize_user, current_caller
from servicekit.errors import InvalidArgument
from servicekit.money import format_decimal
from trading.backtest.v1 import backtest_service_pb2 as pb
from trading.backtest.v1 import backtest_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2


class BacktestServicer(pb_grpc.BacktestServiceServicer):
    def __init__(self, jobs: BacktestJobs, marketplace: Marketplace):
        self._jobs = jobs
        self._marketplace = marketplace

    # -------------------------------------------------------------------------- backtests

    async def SubmitBacktest(self, request: pb.SubmitBacktestRequest, context):
        user_id = authorize_user(request.user_id)
        new = convert.new_backtest_from_spec(
            request.spec, dt.datetime.now(dt.UTC), has_spec=request.HasField("spec")
        )
        # A tier in the request is only a fallback, and only from a service caller.
        claimed = TIER_NAMES.get(request.tier) if current_caller().is_service else None
        tier = await self._jobs.tier_of(user_id, claimed)
        row = await self._jobs.submit(user_id, new, tier=tier)
        return pb.SubmitBacktestResponse(backtest=convert.backtest_message(row))

    async def GetBacktest(self, request: pb.GetBacktestRequest, context):
        user_id = authorize_user(request.user_id)
        backtest_id = convert.parse_uuid(request.backtest_id, "backtest_id")
        row = await self._jobs.get(user_id, backtest_id)
        return pb.GetBacktestResponse(backtest=convert.backtest_message(row))

    async def ListBacktests(self, request: pb.ListBacktestsRequest, context):
        user_id = authorize_user(request.user_id)
        rows, next_cursor = await self._jobs.list_completed(
            user_id,
            limit=request.page.limit,
            cursor=request.page.cursor,
            strategy_id=convert.parse_optional_uuid(request.strategy_id, "strategy_id"),
        )
        return pb.ListBacktestsResponse(
            backtests=[convert.backtest_message(row, details=False) for row in rows],
            next_cursor=next_cursor,
        )

    async def WatchBacktest(self, request: pb.WatchBacktestRequest, context):
        user_id = authorize_user(request.user_id)
        backtest_id = convert.parse_uuid(request.backtest_id, "backtest_id")
        async for update in self._jobs.watch(user_id, backtest_id):
            if isinstance(update, ProgressEvent):
                yield pb.WatchBacktestResponse(
                    progress=pb.BacktestProgress(
                        backtest_id=str(update.backtest_id),
                        status=convert.STATUSES[update.status],
                        progress=update.progress,
                    )
                )
            else:
                yield pb.WatchBacktestResponse(result=convert.backtest_message(update))

    async def CancelBacktest(self, request: pb.CancelBacktestRequest, context):
        user_id = authorize_user(request.user_id)
        backtest_id = convert.parse_uuid(request.backtest_id, "backtest_id")
        row = await self._jobs.cancel(user_id, backtest_id)
        return pb.CancelBacktestResponse(backtest=convert.backtest_message(row))

    # ------------------------------------------------------------------------ marketplace

    async def PublishStrategy(self, request: pb.PublishStrategyRequest, context):
        user_id = authorize_user(request.user_id)
        row = await self._marketplace.publish(user_id, convert.new_listing(request))
        return pb.PublishStrategyResponse(strategy=convert.community_message(row))

    async def ListCommunityStrategies(self, request: pb.ListCommunityStrategiesRequest, context):
        user_id = authorize_user(request.user_id)
        sort = convert.COMMUNITY_SORTS.get(request.sort)
        if sort is None:
            raise InvalidArgument("sort", "is not a known sort order")
        strategy_type = (
            strategy_type_name(request.strategy_type, field="strategy_type")
            if request.strategy_type != types_pb2.STRATEGY_TYPE_UNSPECIFIED
            else None
        )
        rows, next_cursor = await self._marketplace.list(
            user_id,
            verified_only=request.verified_only,
            min_rating=parse_min_rating(request.min_rating),
            strategy_type=strategy_type,
            sort=sort,
            limit=request.page.limit,
            cursor=request.page.cursor,
        )
        return pb.ListCommunityStrategiesResponse(
            strategies=[convert.community_message(row) for row in rows], next_cursor=next_cursor
        )

    async def GetCommunityStrategy(self, request: pb.GetCommunityStrategyRequest, context):
        user_id = authorize_user(request.user_id)
        listing_id = convert.parse_uuid(request.community_strategy_id, "community_strategy_id")
        row = await self._marketplace.get(user_id, listing_id)
        return pb.GetCommunityStrategyResponse(strategy=convert.community_message(row))

    async def RateStrategy(self, request: pb.RateStrategyRequest, context):
        user_id = authorize_user(request.user_id)
        listing_id = convert.parse_uuid(request.community_strategy_id, "community_strategy_id")
        row = await self._marketplace.rate(user_id, listing_id, request.rating)
        return pb.RateStrategyResponse(
            rating_average=format_decimal(row["rating_average"]),
            rating_count=row["rating_count"],
            my_rating=row["my_rating"],
        )

    async def CloneCommunityStrategy(self, request: pb.CloneCommunityStrategyRequest, context):
        user_id = authorize_user(request.user_id)
        listing_id = convert.parse_uuid(request.community_strategy_id, "community_strategy_id")
        config = await self._marketplace.config_to_clone(user_id, listing_id)
        return pb.CloneCommunityStrategyResponse(
            config=convert.config_from_json(config), community_strategy_id=str(listing_id)
        )


def register(server: grpc.aio.Server, servicer: BacktestServicer) -> str:
    """Add the servicer to ``server``; returns the full service name."""
    pb_grpc.add_BacktestServiceServicer_to_server(servicer, server)
    return pb.DESCRIPTOR.services_by_name["BacktestService"].full_name
