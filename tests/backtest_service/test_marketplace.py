"""The community marketplace over gRPC: publish, list, rate (exactly, concurrently), clone."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import asyncpg
import grpc
import pytest

from servicekit.errors import field_of
from tests.backtest_service.conftest import backtest_service
from tests.backtest_service.requests_kit import buy_and_hold_config, grid_config
from tests.testkit.services import channel_to, create_user, user_metadata
from trading.backtest.v1 import backtest_service_pb2 as pb
from trading.backtest.v1 import backtest_service_pb2_grpc as pb_grpc


async def publish(stub, author, config=None, name="") -> pb.CommunityStrategy:
    response = await stub.PublishStrategy(
        pb.PublishStrategyRequest(
            user_id=str(author), config=config or grid_config(), name=name, description="d"
        ),
        metadata=user_metadata(author),
        timeout=10,
    )
    return response.strategy


async def rate(stub, user, listing_id: str, rating: int) -> pb.RateStrategyResponse:
    return await stub.RateStrategy(
        pb.RateStrategyRequest(user_id=str(user), community_strategy_id=listing_id, rating=rating),
        metadata=user_metadata(user),
        timeout=30,
    )


async def test_publish_strategy_when_valid_is_listed_unverified_with_a_queued_verification(
    stub, database, user_a, user_b
):
    listing = await publish(stub, user_a, name="My grid")

    assert listing.name == "My grid"
    assert not listing.is_verified
    assert listing.verification_status == pb.VERIFICATION_STATUS_PENDING
    assert listing.config == grid_config()
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        job = await conn.fetchrow(
            "select b.kind, b.status, b.timeframe, b.data_source, b.user_id "
            "from public.community_strategies c join public.backtests b "
            "on b.id = c.verification_backtest_id where c.id = $1",
            listing.community_strategy_id,
        )
    finally:
        await conn.close()
    assert (job["kind"], job["status"], job["data_source"]) == (
        "verification",
        "queued",
        "synthetic",
    )
    # Another user sees it in the marketplace.
    seen = await stub.GetCommunityStrategy(
        pb.GetCommunityStrategyRequest(
            user_id=str(user_b), community_strategy_id=listing.community_strategy_id
        ),
        metadata=user_metadata(user_b),
        timeout=10,
    )
    assert seen.strategy.name == "My grid"


async def test_publish_strategy_when_config_is_bad_is_invalid_argument_naming_the_field(
    stub, user_a
):
    config = grid_config()
    config.grid.grid_count = 0
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await publish(stub, user_a, config=config)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_of(raised.value) == "config.grid.grid_count"


async def test_rate_strategy_when_100_users_rate_concurrently_average_and_count_are_exact(
    stub, database, user_a
):
    listing = await publish(stub, user_a)
    listing_id = listing.community_strategy_id
    raters = [await create_user(database) for _ in range(100)]
    chooser = random.Random(4)
    ratings = [chooser.randint(1, 5) for _ in raters]

    answers = await asyncio.gather(
        *(rate(stub, user, listing_id, value) for user, value in zip(raters, ratings, strict=True))
    )
    assert [a.my_rating for a in answers] == ratings

    # Half of them change their mind, concurrently with each other.
    changed = [chooser.randint(1, 5) for _ in raters[:50]]
    await asyncio.gather(
        *(
            rate(stub, user, listing_id, value)
            for user, value in zip(raters[:50], changed, strict=True)
        )
    )
    final = changed + ratings[50:]

    got = await stub.GetCommunityStrategy(
        pb.GetCommunityStrategyRequest(user_id=str(user_a), community_strategy_id=listing_id),
        metadata=user_metadata(user_a),
        timeout=10,
    )
    assert got.strategy.rating_count == 100
    assert Decimal(got.strategy.rating_average) == Decimal(sum(final)) / 100
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        stored = await conn.fetchrow(
            "select c.rating_sum, c.rating_count, "
            "(select count(*) from public.strategy_ratings r where r.community_strategy_id = c.id) "
            "as rows from public.community_strategies c where c.id = $1",
            listing_id,
        )
    finally:
        await conn.close()
    assert (stored["rating_sum"], stored["rating_count"], stored["rows"]) == (sum(final), 100, 100)


async def test_rate_strategy_when_rating_out_of_range_is_invalid_argument(stub, user_a, user_b):
    listing = await publish(stub, user_a)
    for bad in (0, 6, -1):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await rate(stub, user_b, listing.community_strategy_id, bad)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_of(raised.value) == "rating"


async def test_rate_strategy_when_author_rates_own_is_failed_precondition(stub, user_a):
    listing = await publish(stub, user_a)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await rate(stub, user_a, listing.community_strategy_id, 5)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_list_community_strategies_when_filtered_and_sorted_pages_through_them(
    stub, database, user_a, user_b
):
    ids = [
        (
            await publish(stub, user_a, config=buy_and_hold_config(), name=f"s{i}")
        ).community_strategy_id
        for i in range(5)
    ]
    for listing_id, value in zip(ids, [3, 5, 1, 4, 2], strict=True):
        await rate(stub, user_b, listing_id, value)

    pages, cursor = [], ""
    while True:
        response = await stub.ListCommunityStrategies(
            pb.ListCommunityStrategiesRequest(
                user_id=str(user_b),
                sort=pb.COMMUNITY_SORT_RATING,
                page={"limit": 2, "cursor": cursor},
            ),
            metadata=user_metadata(user_b),
            timeout=10,
        )
        pages.append([s.name for s in response.strategies])
        cursor = response.next_cursor
        if not cursor:
            break
    assert pages == [["s1", "s3"], ["s0", "s4"], ["s2"]]

    at_least_four = await stub.ListCommunityStrategies(
        pb.ListCommunityStrategiesRequest(user_id=str(user_b), min_rating="4"),
        metadata=user_metadata(user_b),
        timeout=10,
    )
    assert [s.name for s in at_least_four.strategies] == ["s1", "s3"]
    assert [s.my_rating for s in at_least_four.strategies] == [5, 4]
    verified = await stub.ListCommunityStrategies(
        pb.ListCommunityStrategiesRequest(user_id=str(user_b), verified_only=True),
        metadata=user_metadata(user_b),
        timeout=10,
    )
    assert list(verified.strategies) == []  # nothing verified: no worker ran


async def test_clone_community_strategy_when_public_returns_its_config(stub, user_a, user_b):
    listing = await publish(stub, user_a)
    cloned = await stub.CloneCommunityStrategy(
        pb.CloneCommunityStrategyRequest(
            user_id=str(user_b), community_strategy_id=listing.community_strategy_id
        ),
        metadata=user_metadata(user_b),
        timeout=10,
    )
    assert cloned.config == grid_config()


async def test_database_when_a_user_sets_is_verified_refuses_it(stub, database, user_a):
    listing = await publish(stub, user_a)
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                "select set_config('request.jwt.claims', $1, true), "
                "set_config('role', 'authenticated', true)",
                f'{{"sub": "{user_a}", "role": "authenticated"}}',
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "update public.community_strategies set is_verified = true, "
                    "verification_status = 'verified', verified_at = now() where id = $1",
                    listing.community_strategy_id,
                )
    finally:
        await conn.close()


async def test_publish_strategy_when_verification_run_completes_lists_it_verified_with_metrics(
    database, peers, user_a, user_b
):
    async with (
        backtest_service(database, peers, worker_enabled=True) as app,
        channel_to(app) as channel,
    ):
        stub = pb_grpc.BacktestServiceStub(channel)
        listing = await publish(stub, user_a, config=buy_and_hold_config(), name="Holder")
        request = pb.GetCommunityStrategyRequest(
            user_id=str(user_b), community_strategy_id=listing.community_strategy_id
        )
        for _ in range(600):
            got = (
                await stub.GetCommunityStrategy(request, metadata=user_metadata(user_b))
            ).strategy
            if got.verification_status != pb.VERIFICATION_STATUS_PENDING:
                break
            await asyncio.sleep(0.05)
        verified = await stub.ListCommunityStrategies(
            pb.ListCommunityStrategiesRequest(
                user_id=str(user_b), verified_only=True, sort=pb.COMMUNITY_SORT_RETURN
            ),
            metadata=user_metadata(user_b),
            timeout=10,
        )

    assert got.is_verified and got.verification_status == pb.VERIFICATION_STATUS_VERIFIED
    assert got.verification_metrics.final_equity
    assert got.verification_metrics.periods_per_year == 365 * 24  # the standard 1h year
    assert got.risk_score == "42.25"  # the risk service's score, shown with the listing
    assert [s.community_strategy_id for s in verified.strategies] == [listing.community_strategy_id]
    # The run is the service's own: standard period, never in the author's list.
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        run = await conn.fetchrow(
            "select kind, start_at, end_at, seed from public.backtests where id = $1",
            got.verification_backtest_id,
        )
    finally:
        await conn.close()
    assert run["kind"] == "verification"
    assert (run["end_at"] - run["start_at"]).days == 365
