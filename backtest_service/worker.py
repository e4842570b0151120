"""Backtest workers: claim jobs, run them off the event loop, settle them.

A worker claims up to ``worker_concurrency`` jobs and runs each in a thread pool, so the
event loop (the gRPC server of the same replica) stays responsive. While a job runs, the
worker writes its progress and renews its lease every heartbeat (so progress writes are
throttled to one per heartbeat however often the engine reports). A heartbeat that finds
the job no longer ours (cancelled, or lease lost) stops the run at the engine's next
progress report, and nothing is written.

What happens around a stored result (risk score, verification record, notification) is
the ``Finisher``'s job (``finisher.ServiceFinisher``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from backtest_service.jobs import ClaimedJob, JobQueue, RiskAssessment

log = logging.getLogger("backtest_service.worker")

SWEEP_EVERY_POLLS = 20


class JobAborted(Exception):
    """The job is no longer this worker's (cancelled or lease lost): stop quietly."""


@dataclass(slots=True)
class JobResult:
    """What a run produced, in the stored (wire JSON) shape."""

    metrics: dict[str, Any]
    equity_curve: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)


class ProgressTracker:
    """Shared between the engine's thread (reports) and the worker's heartbeat (reads)."""

    def __init__(self) -> None:
        self.fraction = 0.0
        self._aborted = threading.Event()

    def report(self, fraction: float) -> None:
        """The engine's progress callback: record, and stop the run if it was aborted."""
        if self._aborted.is_set():
            raise JobAborted("the job was cancelled or taken over")
        self.fraction = max(self.fraction, float(fraction))

    def abort(self) -> None:
        self._aborted.set()


JobRunner = Callable[[ClaimedJob, Callable[[float], None]], JobResult]


class Finisher(Protocol):
    """What happens after a run: scoring, verification records, notifications."""

    async def score(self, job: ClaimedJob, result: JobResult) -> RiskAssessment: ...
    async def after_completed(self, job: ClaimedJob, result: JobResult, risk: RiskAssessment): ...
    async def after_failed(self, job_id: uuid.UUID, kind: str, error: str) -> None: ...
    async def sweep(self) -> None: ...


def default_worker_id() -> str:
    """host:pid:random — unique per worker instance, readable in the claimed_by column."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Claims and runs backtest jobs until cancelled."""

    def __init__(
        self,
        queue: JobQueue,
        runner: JobRunner,
        finisher: Finisher,
        *,
        concurrency: int,
        poll_interval_seconds: float,
        heartbeat_interval_seconds: float,
        worker_id: str | None = None,
    ):
        self.worker_id = worker_id or default_worker_id()
        self._queue = queue
        self._runner = runner
        self._finisher = finisher
        self._concurrency = concurrency
        self._poll_interval = poll_interval_seconds
        self._heartbeat_interval = heartbeat_interval_seconds
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="backtest-job")
        self._running: set[asyncio.Task] = set()

    async def run(self) -> None:
        """The worker loop (a background task of the service)."""
        polls = 0
        try:
            while True:
                if polls % SWEEP_EVERY_POLLS == 0:
                    await self._housekeeping()
                polls += 1
                claimed = await self._claim_while_free()
                if not claimed:
                    await asyncio.sleep(self._poll_interval)
        finally:
            for task in self._running:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _claim_while_free(self) -> bool:
        claimed_any = False
        while len(self._running) < self._concurrency:
            try:
                job = await self._queue.claim_next_job(self.worker_id)
            except Exception as error:
                log.warning("claiming a job failed: %s", error)
                return claimed_any
            if job is None:
                return claimed_any
            claimed_any = True
            task = asyncio.create_task(self.run_job(job), name=f"backtest-{job.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return claimed_any

    async def _housekeeping(self) -> None:
        try:
            for job in await self._queue.give_up_abandoned_jobs():
                log.warning("gave up on job %s: abandoned by too many workers", job.id)
                await self._finisher.after_failed(job.id, job.kind, "abandoned by workers")
            await self._finisher.sweep()
        except Exception as error:
            log.warning("worker housekeeping failed: %s", error)

    async def run_job(self, job: ClaimedJob) -> None:
        """Run one claimed job to its end, heartbeating while it runs."""
        tracker = ProgressTracker()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._runner, job, tracker.report)
        try:
            await self._heartbeat_until_done(job, tracker, future)
            try:
                result = await future
            except JobAborted:
                log.info("job %s stopped: cancelled or taken over", job.id)
                return
            except Exception as error:
                message = _error_message(error)
                log.info("job %s failed: %s", job.id, message)
                if await self._queue.fail(job.id, self.worker_id, message):
                    await self._finisher.after_failed(job.id, job.kind, message)
                return
            risk = await self._finisher.score(job, result)
            stored = await self._queue.complete(
                job.id,
                self.worker_id,
                metrics=result.metrics,
                equity_curve=result.equity_curve,
                trades=result.trades,
                risk=risk,
            )
            if stored:
                await self._finisher.after_completed(job, result, risk)
        except asyncio.CancelledError:
            # Shutting down: stop the run and hand the job back for another worker.
            tracker.abort()
            with contextlib.suppress(Exception):
                await asyncio.shield(self._queue.release(job.id, self.worker_id))
            raise

    async def _heartbeat_until_done(
        self, job: ClaimedJob, tracker: ProgressTracker, future: asyncio.Future
    ) -> None:
        while True:
            done, _ = await asyncio.wait({future}, timeout=self._heartbeat_interval)
            if done:
                return
            try:
                ours = await self._queue.heartbeat(job.id, self.worker_id, tracker.fraction)
            except Exception as error:
                # The lease outlives several missed heartbeats; keep trying.
                log.warning("heartbeat of job %s failed: %s", job.id, error)
                continue
            if not ours:
                tracker.abort()


def _error_message(error: BaseException) -> str:
    """The stored error of a failed run: the domain message when there is one."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"
