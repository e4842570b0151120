"""The job queue on the backtests table: claim, heartbeat, finish, give up.

Every statement runs as the service role (``backtest_service``) on the pool: claiming is
work across users. A claim takes the oldest queued job, or a running one whose lease ran
out (its worker died), with ``FOR UPDATE SKIP LOCKED`` so any number of workers claim
concurrently and no job is claimed twice. Every later write is conditioned on the job
still being ``running`` and claimed by the same worker: a worker that lost its lease, or
whose job was cancelled, writes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg

# Columns a worker needs to run a job.
_JOB_COLUMNS = """
    b.id, b.user_id, b.strategy_id, b.kind, b.config, b.symbol, b.timeframe,
    b.start_at, b.end_at, b.initial_capital, b.data_source, b.seed,
    b.execution, b.attempts, b.claimed_by
"""

_CLAIM = f"""
with candidate as (
    select id
      from public.backtests
     where (status = 'queued' or (status = 'running' and lease_expires_at < now()))
       and attempts < $3
     order by created_at
     limit 1
       for update skip locked
)
update public.backtests b
   set status = 'running',
       claimed_by = $1,
       attempts = b.attempts + 1,
       progress = 0,
       heartbeat_at = now(),
       lease_expires_at = now() + make_interval(secs => $2),
       started_at = coalesce(b.started_at, now()),
       updated_at = now()
  from candidate
 where b.id = candidate.id
returning {_JOB_COLUMNS}
"""

_HEARTBEAT = """
update public.backtests
   set progress = greatest(progress, $3),
       heartbeat_at = now(),
       lease_expires_at = now() + make_interval(secs => $4),
       updated_at = now()
 where id = $1 and claimed_by = $2 and status = 'running'
returning id
"""

_COMPLETE = """
update public.backtests
   set status = 'completed',
       progress = 1,
       metrics = $3::jsonb,
       equity_curve = $4::jsonb,
       trades = $5::jsonb,
       risk_score = $6,
       risk_score_status = $7,
       risk_score_note = $8,
       completed_at = now(),
       lease_expires_at = null,
       updated_at = now()
 where id = $1 and claimed_by = $2 and status = 'running'
returning id
"""

_FAIL = """
update public.backtests
   set status = 'failed',
       error = $3,
       completed_at = now(),
       lease_expires_at = null,
       updated_at = now()
 where id = $1 and claimed_by = $2 and status = 'running'
returning id
"""

_RELEASE = """
update public.backtests
   set status = 'queued', claimed_by = null, lease_expires_at = null, heartbeat_at = null,
       attempts = greatest(attempts - 1, 0), updated_at = now()
 where id = $1 and claimed_by = $2 and status = 'running'
"""

_GIVE_UP_ABANDONED = """
update public.backtests
   set status = 'failed',
       error = format('the job was abandoned %s times by workers that stopped before '
                      'finishing it (lease expired); not retrying', attempts),
       completed_at = now(),
       lease_expires_at = null,
       updated_at = now()
 where status = 'running' and lease_expires_at < now() and attempts >= $1
returning id, user_id, kind
"""


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job a worker holds the lease of."""

    id: uuid.UUID
    user_id: uuid.UUID
    strategy_id: uuid.UUID | None
    kind: str  # 'user' or 'verification'
    config: dict[str, Any]
    symbol: str
    timeframe: str
    start_at: dt.datetime
    end_at: dt.datetime
    initial_capital: Decimal
    data_source: str
    seed: int
    execution: dict[str, Any]
    attempts: int
    claimed_by: str


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """The risk service's score of a result, or why there is none."""

    score: Decimal | None
    status: str  # 'scored' or 'unavailable'
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AbandonedJob:
    id: uuid.UUID
    user_id: uuid.UUID
    kind: str


def _job_from_row(row: asyncpg.Record) -> ClaimedJob:
    return ClaimedJob(
        id=row["id"],
        user_id=row["user_id"],
        strategy_id=row["strategy_id"],
        kind=row["kind"],
        config=row["config"],
        symbol=row["symbol"],
        timeframe=row["timeframe"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        initial_capital=row["initial_capital"],
        data_source=row["data_source"],
        seed=row["seed"],
        execution=row["execution"],
        attempts=row["attempts"],
        claimed_by=row["claimed_by"],
    )


class JobQueue:
    """Claims and settles backtest jobs for one worker identity at a time."""

    def __init__(self, pool: asyncpg.Pool, *, lease_seconds: float, max_attempts: int):
        self._pool = pool
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts

    async def claim_next_job(self, worker_id: str) -> ClaimedJob | None:
        """The oldest claimable job, now leased to ``worker_id``; None when there is none."""
        row = await self._pool.fetchrow(_CLAIM, worker_id, self._lease_seconds, self._max_attempts)
        return _job_from_row(row) if row else None

    async def heartbeat(self, job_id: uuid.UUID, worker_id: str, progress: float) -> bool:
        """Renew the lease and record progress; False when the job is no longer ours
        (cancelled, or the lease expired and another worker took it)."""
        progress = min(max(progress, 0.0), 1.0)
        row = await self._pool.fetchval(
            _HEARTBEAT, job_id, worker_id, progress, self._lease_seconds
        )
        return row is not None

    async def complete(
        self,
        job_id: uuid.UUID,
        worker_id: str,
        *,
        metrics: dict[str, Any],
        equity_curve: list[Any],
        trades: list[Any],
        risk: RiskAssessment,
    ) -> bool:
        """Store the result; False (nothing written) when the job is no longer ours."""
        row = await self._pool.fetchval(
            _COMPLETE,
            job_id,
            worker_id,
            metrics,
            equity_curve,
            trades,
            risk.score,
            risk.status,
            risk.note,
        )
        return row is not None

    async def fail(self, job_id: uuid.UUID, worker_id: str, error: str) -> bool:
        """Record a failed run with its error; False when the job is no longer ours."""
        row = await self._pool.fetchval(_FAIL, job_id, worker_id, error[:2000])
        return row is not None

    async def release(self, job_id: uuid.UUID, worker_id: str) -> None:
        """Give a job back to the queue at once (a worker shutting down cleanly)."""
        await self._pool.execute(_RELEASE, job_id, worker_id)

    async def give_up_abandoned_jobs(self) -> list[AbandonedJob]:
        """Fail jobs whose workers died ``max_attempts`` times: they would only die again."""
        rows = await self._pool.fetch(_GIVE_UP_ABANDONED, self._max_attempts)
        return [AbandonedJob(row["id"], row["user_id"], row["kind"]) for row in rows]
