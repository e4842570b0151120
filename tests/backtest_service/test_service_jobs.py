"""Jobs through gRPC: quotas, watch across replicas, cancel, the recent-completed list."""

from __future__ import annotations

import asyncio
import datetime as dt

import grpc
import pytest

from tests.backtest_service.conftest import backtest_service, running_worker, wait_for_status
from tests.backtest_service.fakes import closed_port_address
from tests.backtest_service.requests_kit import submit_request
from tests.backtest_service.test_worker import SteppingRunner
from tests.testkit.services import channel_to, service_metadata, user_metadata
from trading.backtest.v1 import backtest_service_pb2 as pb
from trading.backtest.v1 import backtest_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2


def _trailer(error: grpc.aio.AioRpcError, key: str) -> str | None:
    return dict(error.trailing_metadata() or ()).get(key)


async def _submit(stub, user, metadata=None, **fields):
    request = submit_request(user)
    for name, value in fields.items():
        setattr(request, name, value)
    response = await stub.SubmitBacktest(
        request, metadata=metadata or user_metadata(user), timeout=10
    )
    return response.backtest


async def test_submit_backtest_when_tier_concurrency_is_used_up_is_resource_exhausted(
    stub, peers, user_a
):
    peers.risk.tier = types_pb2.SUBSCRIPTION_TIER_STARTER  # one at a time
    await _submit(stub, user_a)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _submit(stub, user_a)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _trailer(raised.value, "error-reason") == "CONCURRENT_BACKTEST_LIMIT"
    assert int(_trailer(raised.value, "retry-after")) > 0
    assert "starter tier allows 1 at once" in raised.value.details()
    assert peers.risk.authorizations[0].startswith("Bearer ")  # tier asked of risk


async def test_submit_backtest_when_submitted_concurrently_admits_exactly_the_tier_limit(
    stub, peers, user_a
):
    peers.risk.tier = types_pb2.SUBSCRIPTION_TIER_PRO  # three at a time
    outcomes = await asyncio.gather(
        *(_submit(stub, user_a) for _ in range(12)), return_exceptions=True
    )
    admitted = [o for o in outcomes if isinstance(o, pb.Backtest)]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(admitted) == 3
    assert {e.code() for e in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}


async def test_submit_backtest_when_risk_is_unreachable_applies_the_most_restrictive_tier(
    database, peers, user_a
):
    async with (
        backtest_service(database, peers, risk_address=closed_port_address()) as app,
        channel_to(app) as channel,
    ):
        stub = pb_grpc.BacktestServiceStub(channel)
        await _submit(stub, user_a)
        # A user's own claim to a higher tier is not trusted...
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _submit(stub, user_a, tier=types_pb2.SUBSCRIPTION_TIER_ELITE)
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        # ...the gateway's (a service caller) is, when risk cannot be asked.
        await _submit(
            stub, user_a, metadata=service_metadata(), tier=types_pb2.SUBSCRIPTION_TIER_ELITE
        )


async def test_watch_backtest_when_worker_is_another_replica_streams_progress_then_result(
    stub, database, backtest_pool, peers, user_a
):
    runner = SteppingRunner(steps=5, hold=True)
    backtest = await _submit(stub, user_a)
    events: list[pb.WatchBacktestResponse] = []
    stream = stub.WatchBacktest(
        pb.WatchBacktestRequest(user_id=str(user_a), backtest_id=backtest.backtest_id),
        metadata=user_metadata(user_a),
        timeout=60,
    )
    # Read the first event before any worker exists: the job is still queued.
    events.append(await stream.read())
    # The worker has its own pool: it is another replica as far as the service knows.
    async with running_worker(backtest_pool, database, peers, runner=runner):
        while (event := await stream.read()) is not grpc.aio.EOF:
            events.append(event)
            if event.HasField("progress") and event.progress.progress > 0:
                runner.gate.set()
        # The notification follows the stored result; give the worker time to send it.
        for _ in range(200):
            if peers.notifications.backtests:
                break
            await asyncio.sleep(0.05)
    progress = [e.progress for e in events if e.HasField("progress")]
    assert progress[0].status == pb.BACKTEST_STATUS_QUEUED
    assert any(p.status == pb.BACKTEST_STATUS_RUNNING and p.progress > 0 for p in progress)
    assert [p.progress for p in progress] == sorted(p.progress for p in progress)
    final = events[-1]
    assert final.HasField("result")
    assert final.result.status == pb.BACKTEST_STATUS_COMPLETED
    assert final.result.metrics.total_return_pct == "1.5"
    assert final.result.risk_score == "42.25"
    assert final.result.risk_score_status == pb.RISK_SCORE_STATUS_SCORED
    [scored] = peers.risk.score_requests
    assert scored.config.name == "Hold"
    [notice] = peers.notifications.backtests
    assert notice.backtest_id == backtest.backtest_id
    assert notice.idempotency_key == f"backtest:{backtest.backtest_id}"
    assert notice.total_return_pct == "1.5"


async def test_completed_run_when_risk_is_unreachable_is_stored_without_a_score_saying_so(
    stub, database, backtest_pool, peers, user_a
):
    peers.risk.risk_up = False
    backtest = await _submit(stub, user_a)
    async with running_worker(backtest_pool, database, peers, runner=SteppingRunner(steps=1)):
        await wait_for_status(backtest_pool, backtest.backtest_id, {"completed"})
    got = await stub.GetBacktest(
        pb.GetBacktestRequest(user_id=str(user_a), backtest_id=backtest.backtest_id),
        metadata=user_metadata(user_a),
        timeout=10,
    )
    assert got.backtest.status == pb.BACKTEST_STATUS_COMPLETED
    assert got.backtest.risk_score == ""
    assert got.backtest.risk_score_status == pb.RISK_SCORE_STATUS_UNAVAILABLE
    assert "risk service" in got.backtest.risk_score_note


async def test_cancel_backtest_when_queued_cancels_it_and_watch_ends_with_cancelled(stub, user_a):
    backtest = await _submit(stub, user_a)
    cancelled = await stub.CancelBacktest(
        pb.CancelBacktestRequest(user_id=str(user_a), backtest_id=backtest.backtest_id),
        metadata=user_metadata(user_a),
        timeout=10,
    )
    assert cancelled.backtest.status == pb.BACKTEST_STATUS_CANCELLED
    events = [
        e
        async for e in stub.WatchBacktest(
            pb.WatchBacktestRequest(user_id=str(user_a), backtest_id=backtest.backtest_id),
            metadata=user_metadata(user_a),
            timeout=10,
        )
    ]
    assert [e.result.status for e in events] == [pb.BACKTEST_STATUS_CANCELLED]
    # Cancelling again is harmless: the same cancelled backtest, nothing rewritten.
    again = await stub.CancelBacktest(
        pb.CancelBacktestRequest(user_id=str(user_a), backtest_id=backtest.backtest_id),
        metadata=user_metadata(user_a),
        timeout=10,
    )
    assert again.backtest == cancelled.backtest


async def test_cancel_backtest_when_already_completed_returns_it_unchanged(
    stub, database, backtest_pool, peers, user_a
):
    backtest = await _submit(stub, user_a)
    async with running_worker(backtest_pool, database, peers, runner=SteppingRunner(steps=1)):
        await wait_for_status(backtest_pool, backtest.backtest_id, {"completed"})
    read = "select * from public.backtests where id = $1"
    before = await backtest_pool.fetchrow(read, backtest.backtest_id)
    reply = await stub.CancelBacktest(
        pb.CancelBacktestRequest(user_id=str(user_a), backtest_id=backtest.backtest_id),
        metadata=user_metadata(user_a),
        timeout=10,
    )
    assert reply.backtest.status == pb.BACKTEST_STATUS_COMPLETED
    assert reply.backtest.metrics.total_return_pct == "1.5"
    assert reply.backtest.risk_score == "42.25"
    assert not reply.backtest.equity_curve and not reply.backtest.trades  # GetBacktest has them
    assert await backtest_pool.fetchrow(read, backtest.backtest_id) == before


async def test_cancel_backtest_when_another_users_is_not_found_and_left_running(
    stub, backtest_pool, user_a, user_b
):
    backtest = await _submit(stub, user_a)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CancelBacktest(
            pb.CancelBacktestRequest(user_id=str(user_b), backtest_id=backtest.backtest_id),
            metadata=user_metadata(user_b),
            timeout=10,
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    status = await backtest_pool.fetchval(
        "select status from public.backtests where id = $1", backtest.backtest_id
    )
    assert status == "queued"


async def test_list_backtests_when_many_completed_pages_newest_first_and_only_completed(
    stub, backtest_pool, peers, user_a, user_b
):
    peers.risk.tier = types_pb2.SUBSCRIPTION_TIER_ELITE
    mine = [await _submit(stub, user_a) for _ in range(5)]
    theirs = await _submit(stub, user_b)
    base = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    # Finish them as a worker would: four completed (at known times), one failed.
    for index, backtest in enumerate([*mine[:4], theirs]):
        await backtest_pool.execute(
            "update public.backtests set status = 'completed', progress = 1, "
            "metrics = '{}'::jsonb, completed_at = $2 where id = $1",
            backtest.backtest_id,
            base + dt.timedelta(hours=index),
        )
    await backtest_pool.execute(
        "update public.backtests set status = 'failed', error = 'x', completed_at = now() "
        "where id = $1",
        mine[4].backtest_id,
    )
    seen, cursor = [], ""
    while True:
        page = await stub.ListBacktests(
            pb.ListBacktestsRequest(user_id=str(user_a), page={"limit": 3, "cursor": cursor}),
            metadata=user_metadata(user_a),
            timeout=10,
        )
        seen.append([b.backtest_id for b in page.backtests])
        assert all(not b.equity_curve and not b.trades for b in page.backtests)
        cursor = page.next_cursor
        if not cursor:
            break
    newest_first = [b.backtest_id for b in reversed(mine[:4])]
    assert seen == [newest_first[:3], newest_first[3:]]
