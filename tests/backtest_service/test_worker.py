"""Workers: progress, failures, cancellation, shutdown — with a runner the test steers.

The runner is the worker's one dependency on the engine; here it is a small function
that reports progress step by step and can be held at a gate, so each test drives the
worker into the exact state it checks. End-to-end runs through the real engine are in
test_service_jobs.py.
"""

from __future__ import annotations

import asyncio
import threading

from backtest_service.worker import JobResult
from servicekit.errors import InvalidArgument
from tests.backtest_service.conftest import queue_job, running_worker, wait_for_status
from tests.testkit.services import create_user
from trading.notification.v1 import notification_service_pb2 as notification_pb


class SteppingRunner:
    """Reports progress in ``steps`` steps; stops at ``gate`` until released."""

    def __init__(self, steps: int = 10, *, hold: bool = False, fail_with: Exception | None = None):
        self.steps = steps
        self.gate = threading.Event()
        if not hold:
            self.gate.set()
        self.fail_with = fail_with
        self.started = threading.Event()
        self.aborted = threading.Event()
        self.calls: list = []

    def __call__(self, job, report) -> JobResult:
        self.calls.append(job.id)
        self.started.set()
        try:
            for step in range(1, self.steps + 1):
                report(step / (self.steps + 1))
                while not self.gate.wait(0.01):
                    report(step / (self.steps + 1))
        except Exception:
            self.aborted.set()
            raise
        if self.fail_with is not None:
            raise self.fail_with
        return JobResult(metrics={"total_return_pct": "1.5", "trade_count": 3})


async def _wait_thread_event(event: threading.Event) -> None:
    # The event is set from the runner's thread: wait for it in a thread too.
    assert await asyncio.to_thread(event.wait, 60)


async def test_run_job_when_runner_raises_stores_failed_with_its_error_and_notifies(
    database, backtest_pool, peers
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    runner = SteppingRunner(fail_with=InvalidArgument("start", "no 1d bars for BTC/USD"))
    async with running_worker(backtest_pool, database, peers, runner=runner):
        row = await wait_for_status(backtest_pool, job_id, {"failed"})
        for _ in range(100):
            if peers.notifications.backtests:
                break
            await asyncio.sleep(0.05)
    assert "no 1d bars for BTC/USD" in row["error"]
    assert row["metrics"] is None
    [notice] = peers.notifications.backtests
    assert notice.outcome == notification_pb.BACKTEST_OUTCOME_FAILED
    assert notice.idempotency_key == f"backtest:{job_id}"
    assert "no 1d bars" in notice.error_message
    assert peers.notifications.authorizations[0].startswith("Bearer ")


async def test_run_job_when_running_writes_progress_while_the_run_is_held(
    database, backtest_pool, peers
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    runner = SteppingRunner(steps=4, hold=True)
    async with running_worker(backtest_pool, database, peers, runner=runner):
        await _wait_thread_event(runner.started)
        for _ in range(200):
            progress = await backtest_pool.fetchval(
                "select progress from public.backtests where id = $1", job_id
            )
            if progress > 0:
                break
            await asyncio.sleep(0.02)
        row = await backtest_pool.fetchrow("select * from public.backtests where id = $1", job_id)
        assert row["status"] == "running" and 0 < row["progress"] < 1
        assert row["heartbeat_at"] is not None
        runner.gate.set()
        done = await wait_for_status(backtest_pool, job_id, {"completed"})
    assert done["progress"] == 1
    assert done["metrics"]["total_return_pct"] == "1.5"


async def test_run_job_when_cancelled_mid_run_stops_the_run_and_stores_nothing(
    database, backtest_pool, peers
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    runner = SteppingRunner(hold=True)
    async with running_worker(backtest_pool, database, peers, runner=runner):
        await _wait_thread_event(runner.started)
        await backtest_pool.execute(
            "update public.backtests set status = 'cancelled', completed_at = now() where id = $1",
            job_id,
        )
        await _wait_thread_event(runner.aborted)  # the heartbeat noticed and stopped it
    row = await backtest_pool.fetchrow("select * from public.backtests where id = $1", job_id)
    assert row["status"] == "cancelled"
    assert row["metrics"] is None
    assert peers.notifications.backtests == []


async def test_worker_when_shut_down_mid_job_hands_the_job_back_to_the_queue(
    database, backtest_pool, peers
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    runner = SteppingRunner(hold=True)
    async with running_worker(backtest_pool, database, peers, runner=runner):
        await _wait_thread_event(runner.started)
    row = await backtest_pool.fetchrow("select * from public.backtests where id = $1", job_id)
    assert (row["status"], row["claimed_by"], row["attempts"]) == ("queued", None, 0)


async def test_sweep_when_a_finished_job_was_never_notified_sends_it_once_confirmed(
    database, backtest_pool, peers
):
    user = await create_user(database)
    job_id = await queue_job(backtest_pool, user)
    # A worker stored the result and died before notifying: notified_at stayed null.
    await backtest_pool.execute(
        "update public.backtests set status = 'completed', progress = 1, completed_at = now(), "
        'metrics = \'{"total_return_pct": "3", "trade_count": 2}\'::jsonb where id = $1',
        job_id,
    )
    async with running_worker(
        backtest_pool, database, peers, runner=SteppingRunner(), notify_retry_after_seconds=0
    ):
        for _ in range(200):
            notified = await backtest_pool.fetchval(
                "select notified_at from public.backtests where id = $1", job_id
            )
            if notified is not None:
                break
            await asyncio.sleep(0.05)
    [notice] = peers.notifications.backtests
    assert notice.backtest_id == str(job_id)
    assert notice.outcome == notification_pb.BACKTEST_OUTCOME_SUCCEEDED
    assert (notice.total_return_pct, notice.total_trades) == ("3", 2)
    assert notified is not None
