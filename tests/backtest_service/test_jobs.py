"""The job queue: SKIP LOCKED claims, leases, and writes only by the lease holder."""

from __future__ import annotations

import asyncio

import asyncpg

from backtest_service.jobs import JobQueue, RiskAssessment
from tests.backtest_service.conftest import queue_job
from tests.testkit.services import create_user

NO_SCORE = RiskAssessment(score=None, status="unavailable", note="test")


async def _wait_until_claimed(queue: JobQueue, worker_id: str, attempts: int = 200):
    for _ in range(attempts):
        job = await queue.claim_next_job(worker_id)
        if job is not None:
            return job
        await asyncio.sleep(0.05)
    return None


async def test_claim_next_job_when_two_workers_race_each_job_is_claimed_exactly_once(
    database, backtest_pool
):
    user = await create_user(database)
    queued = {await queue_job(backtest_pool, user, created_offset_seconds=i) for i in range(30)}
    queues = [JobQueue(backtest_pool, lease_seconds=60, max_attempts=3) for _ in range(2)]

    async def drain(queue: JobQueue, worker_id: str) -> list:
        claimed = []
        while (job := await queue.claim_next_job(worker_id)) is not None:
            claimed.append(job.id)
        return claimed

    first, second = await asyncio.gather(drain(queues[0], "worker-a"), drain(queues[1], "worker-b"))

    assert sorted(first + second) == sorted(queued)  # all claimed, none twice
    rows = await backtest_pool.fetch("select status, attempts, claimed_by from public.backtests")
    assert {row["status"] for row in rows} == {"running"}
    assert {row["attempts"] for row in rows} == {1}


async def test_claim_next_job_when_queued_jobs_exist_takes_the_oldest_first(
    database, backtest_pool
):
    user = await create_user(database)
    newer = await queue_job(backtest_pool, user, created_offset_seconds=5)
    older = await queue_job(backtest_pool, user, created_offset_seconds=-5)
    queue = JobQueue(backtest_pool, lease_seconds=60, max_attempts=3)
    assert (await queue.claim_next_job("w")).id == older
    assert (await queue.claim_next_job("w")).id == newer


async def test_claim_next_job_when_lease_expired_another_worker_takes_it_over(
    database, backtest_pool
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    dying = JobQueue(backtest_pool, lease_seconds=0.3, max_attempts=3)
    survivor = JobQueue(backtest_pool, lease_seconds=60, max_attempts=3)

    assert (await dying.claim_next_job("dead-worker")).id == job_id
    assert await survivor.claim_next_job("survivor") is None  # leased: not claimable
    # The dead worker never heartbeats again; once its lease runs out the job is free.
    taken = await _wait_until_claimed(survivor, "survivor")

    assert taken is not None and taken.id == job_id
    assert taken.attempts == 2
    # The old holder can no longer write anything.
    assert not await dying.heartbeat(job_id, "dead-worker", 0.5)
    done = await dying.complete(
        job_id, "dead-worker", metrics={"x": 1}, equity_curve=[], trades=[], risk=NO_SCORE
    )
    assert not done
    assert await survivor.heartbeat(job_id, "survivor", 0.5)


async def test_heartbeat_when_job_was_cancelled_returns_false_and_nothing_is_written(
    database, backtest_pool
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    queue = JobQueue(backtest_pool, lease_seconds=60, max_attempts=3)
    await queue.claim_next_job("w")
    await backtest_pool.execute(
        "update public.backtests set status = 'cancelled', completed_at = now() where id = $1",
        job_id,
    )
    assert not await queue.heartbeat(job_id, "w", 0.9)
    assert not await queue.fail(job_id, "w", "boom")
    row = await backtest_pool.fetchrow(
        "select status, error from public.backtests where id = $1", job_id
    )
    assert (row["status"], row["error"]) == ("cancelled", None)


async def test_give_up_abandoned_jobs_when_attempts_exhausted_fails_the_job_with_a_reason(
    database, backtest_pool
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    queue = JobQueue(backtest_pool, lease_seconds=0.05, max_attempts=2)
    for attempt in (1, 2):
        job = await _wait_until_claimed(queue, f"doomed-{attempt}")
        assert job is not None and job.attempts == attempt
    await asyncio.sleep(0.1)
    assert await queue.claim_next_job("another") is None  # max attempts reached

    abandoned = await queue.give_up_abandoned_jobs()

    assert [job.id for job in abandoned] == [job_id]
    row = await backtest_pool.fetchrow(
        "select status, error from public.backtests where id = $1", job_id
    )
    assert row["status"] == "failed"
    assert "abandoned 2 times" in row["error"]


async def test_complete_when_holder_writes_result_stores_it_without_faking_a_score(
    database, backtest_pool
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    queue = JobQueue(backtest_pool, lease_seconds=60, max_attempts=3)
    await queue.claim_next_job("w")
    assert await queue.complete(
        job_id,
        "w",
        metrics={"total_return_pct": "12.5"},
        equity_curve=[{"time": "2024-01-01T00:00:00Z", "equity": "10000"}],
        trades=[],
        risk=NO_SCORE,
    )
    row = await backtest_pool.fetchrow("select * from public.backtests where id = $1", job_id)
    assert row["status"] == "completed" and row["progress"] == 1
    assert row["metrics"] == {"total_return_pct": "12.5"}
    assert row["risk_score"] is None and row["risk_score_status"] == "unavailable"


async def test_database_when_scored_without_a_score_refuses_the_row(database, backtest_pool):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    try:
        await backtest_pool.execute(
            "update public.backtests set risk_score_status = 'scored' where id = $1", job_id
        )
    except asyncpg.CheckViolationError:
        return
    raise AssertionError("a 'scored' row without a score was accepted")
