"""Two worker instances on one database, running the real engine: every job runs once,
and a job whose worker died is finished by the other."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from backtest_service.jobs import JobQueue
from backtest_service.runner import EngineRunner
from servicekit.db.pool import create_pool
from tests.backtest_service.conftest import queue_job, running_worker, wait_for_status
from tests.testkit.services import create_user


class CountingRunner:
    """The real engine runner, counting how often each job is run (from any worker)."""

    def __init__(self, runs: Counter, lock: threading.Lock):
        self._engine = EngineRunner()
        self._runs = runs
        self._lock = lock

    def __call__(self, job, report):
        with self._lock:
            self._runs[job.id] += 1
        return self._engine(job, report)


async def test_two_workers_when_sharing_one_database_run_each_job_exactly_once(
    database, backtest_pool, peers
):
    users = [await create_user(database) for _ in range(3)]
    jobs = [
        await queue_job(backtest_pool, users[i % 3], days=200, created_offset_seconds=i)
        for i in range(12)
    ]
    runs: Counter = Counter()
    lock = threading.Lock()
    other_pool = await create_pool(database.dsn_for("backtest_service"), min_size=1, max_size=4)
    try:
        async with (
            running_worker(
                backtest_pool, database, peers, runner=CountingRunner(runs, lock), worker_id="A"
            ),
            running_worker(
                other_pool, database, peers, runner=CountingRunner(runs, lock), worker_id="B"
            ),
        ):
            rows = [await wait_for_status(backtest_pool, job, {"completed"}) for job in jobs]
    finally:
        await other_pool.close()

    assert runs == Counter({job: 1 for job in jobs})
    assert {row["attempts"] for row in rows} == {1}
    assert {row["claimed_by"] for row in rows} <= {"A", "B"}
    assert all(row["metrics"]["final_equity"] for row in rows)


async def test_worker_when_another_worker_died_mid_job_picks_the_job_up_after_its_lease(
    database, backtest_pool, peers
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    # A worker claims the job and dies: no heartbeat, no result, only its lease remains.
    dead = JobQueue(backtest_pool, lease_seconds=0.5, max_attempts=3)
    assert (await dead.claim_next_job("dead-worker")).id == job_id

    runs: Counter = Counter()
    async with running_worker(
        backtest_pool,
        database,
        peers,
        runner=CountingRunner(runs, threading.Lock()),
        worker_id="survivor",
    ):
        row = await wait_for_status(backtest_pool, job_id, {"completed"})

    assert row["claimed_by"] == "survivor"
    assert row["attempts"] == 2
    assert runs == Counter({job_id: 1})
    assert row["metrics"]["trade_count"] >= 0
    assert await asyncio.wait_for(dead.heartbeat(job_id, "dead-worker", 0.5), 5) is False
