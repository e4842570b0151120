"""The backtest service's SQL for user-facing reads and writes, in one place.

Functions take a connection: callers open ``user_transaction`` (a user's own rows, under
RLS) or use the pool as the service role (work across users), and decide the transaction.
Job claiming and settling live in ``jobs``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg

from backtest_service.quotas import QuotaUsage

_SUMMARY_COLUMNS = """
    b.id, b.user_id, b.strategy_id, b.kind, b.status, b.progress, b.error, b.config, b.symbol,
    b.timeframe, b.start_at, b.end_at, b.initial_capital, b.data_source, b.seed, b.execution,
    b.metrics, b.risk_score, b.risk_score_status, b.risk_score_note, b.created_at,
    b.started_at, b.completed_at
"""
_DETAIL_COLUMNS = _SUMMARY_COLUMNS + ", b.equity_curve, b.trades"


@dataclass(frozen=True, slots=True)
class NewBacktest:
    """A validated submission, as stored."""

    strategy_id: uuid.UUID | None
    config: dict[str, Any]
    symbol: str
    timeframe: str
    start_at: dt.datetime
    end_at: dt.datetime
    initial_capital: Decimal
    data_source: str
    seed: int
    execution: dict[str, str]


# ---------------------------------------------------------------------------- backtests


async def lock_usage(conn: asyncpg.Connection, user_id: uuid.UUID) -> QuotaUsage:
    """The user's current usage, with a per-user lock held until the transaction ends so
    two concurrent submissions cannot both pass the same limit."""
    await conn.execute(
        "select pg_advisory_xact_lock(hashtextextended('backtest-submit:' || $1::uuid::text, 0))",
        user_id,
    )
    row = await conn.fetchrow(
        """
        select count(*) filter (where status in ('queued', 'running')) as active,
               count(*) filter (where created_at > now() - interval '1 hour') as last_hour,
               min(created_at) filter (where created_at > now() - interval '1 hour') as oldest
          from public.backtests
         where user_id = $1 and kind = 'user'
           and (status in ('queued', 'running') or created_at > now() - interval '1 hour')
        """,
        user_id,
    )
    return QuotaUsage(
        active=row["active"], submitted_last_hour=row["last_hour"], oldest_in_window=row["oldest"]
    )


async def insert_backtest(
    conn: asyncpg.Connection, user_id: uuid.UUID, new: NewBacktest
) -> asyncpg.Record:
    """Queue a user's backtest; the row is the job."""
    return await conn.fetchrow(
        f"""
        insert into public.backtests as b
            (user_id, strategy_id, config, symbol, timeframe, start_at, end_at,
             initial_capital, data_source, seed, execution)
        values ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
        returning {_SUMMARY_COLUMNS}
        """,
        user_id,
        new.strategy_id,
        new.config,
        new.symbol,
        new.timeframe,
        new.start_at,
        new.end_at,
        new.initial_capital,
        new.data_source,
        new.seed,
        new.execution,
    )


async def get_backtest(
    conn: asyncpg.Connection, backtest_id: uuid.UUID, *, details: bool = True
) -> asyncpg.Record | None:
    """One backtest visible to the connection's role (under RLS: the user's own)."""
    columns = _DETAIL_COLUMNS if details else _SUMMARY_COLUMNS
    return await conn.fetchrow(
        f"select {columns} from public.backtests b where b.id = $1", backtest_id
    )


async def list_recent_completed(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    *,
    limit: int,
    strategy_id: uuid.UUID | None = None,
    after: tuple[dt.datetime, uuid.UUID] | None = None,
) -> list[asyncpg.Record]:
    """The user's completed backtests, newest first, after a keyset cursor."""
    after_time, after_id = after if after else (None, None)
    return await conn.fetch(
        f"""
        select {_SUMMARY_COLUMNS}
          from public.backtests b
         where b.user_id = $1 and b.status = 'completed' and b.kind = 'user'
           and ($2::uuid is null or b.strategy_id = $2)
           and ($3::timestamptz is null or (b.completed_at, b.id) < ($3, $4::uuid))
         order by b.completed_at desc, b.id desc
         limit $5
        """,
        user_id,
        strategy_id,
        after_time,
        after_id,
        limit,
    )


async def cancel_backtest(conn: asyncpg.Connection, backtest_id: uuid.UUID) -> bool:
    """Move a queued or running job to cancelled; False if it was not unfinished."""
    row = await conn.fetchval(
        """
        update public.backtests
           set status = 'cancelled', error = 'cancelled by the user',
               completed_at = now(), updated_at = now()
         where id = $1 and status in ('queued', 'running')
        returning id
        """,
        backtest_id,
    )
    return row is not None


async def finished_unnotified(pool: asyncpg.Pool, *, older_than_seconds: float, limit: int = 50):
    """Finished user jobs whose notification was not confirmed (a worker died after
    finishing them, or the notification service was down): the sweep sends them again."""
    return await pool.fetch(
        f"""
        select {_SUMMARY_COLUMNS}
          from public.backtests b
         where b.kind = 'user' and b.notified_at is null
           and b.status in ('completed', 'failed')
           and b.completed_at < now() - make_interval(secs => $1)
         order by b.completed_at
         limit $2
        """,
        older_than_seconds,
        limit,
    )


async def get_backtest_as_service(pool: asyncpg.Pool, backtest_id: uuid.UUID):
    """A job's summary across users (the worker, after finishing it)."""
    return await pool.fetchrow(
        f"select {_SUMMARY_COLUMNS} from public.backtests b where b.id = $1", backtest_id
    )


async def mark_notified(pool: asyncpg.Pool, backtest_id: uuid.UUID) -> None:
    await pool.execute(
        "update public.backtests set notified_at = now() where id = $1 and notified_at is null",
        backtest_id,
    )


# ---------------------------------------------------------------------- community market

_COMMUNITY_COLUMNS = """
    c.id, c.author_id, c.source_strategy_id, c.name, c.description, c.config, c.strategy_type,
    c.is_public, c.is_verified, c.verification_status, c.verification_backtest_id,
    c.verification_metrics, c.verification_error, c.risk_score, c.risk_score_note,
    c.verified_at, c.rating_sum, c.rating_count, c.rating_average, c.created_at
"""

# The caller's own rating rides along (auth.uid() is the caller under user_transaction).
_WITH_MY_RATING = """
    left join public.strategy_ratings r
           on r.community_strategy_id = c.id and r.user_id = (select auth.uid())
"""

COMMUNITY_ORDER = {
    "rating": "c.rating_average desc, c.rating_count desc, c.id",
    "return": "c.verification_return_pct desc nulls last, c.id",
    "risk": "c.risk_score asc nulls last, c.id",
    "newest": "c.created_at desc, c.id",
}


@dataclass(frozen=True, slots=True)
class NewListing:
    source_strategy_id: uuid.UUID | None
    name: str
    description: str
    config: dict[str, Any]
    strategy_type: str


async def insert_listing(
    conn: asyncpg.Connection, author_id: uuid.UUID, listing: NewListing
) -> asyncpg.Record:
    """Publish a listing as its author (unverified until the service verifies it)."""
    return await conn.fetchrow(
        f"""
        with c as (
            insert into public.community_strategies
                (author_id, source_strategy_id, name, description, config, strategy_type)
            values ($1, $2, $3, $4, $5::jsonb, $6)
            returning *
        )
        select {_COMMUNITY_COLUMNS}, null::smallint as my_rating from c
        """,
        author_id,
        listing.source_strategy_id,
        listing.name,
        listing.description,
        listing.config,
        listing.strategy_type,
    )


async def get_listing(conn: asyncpg.Connection, listing_id: uuid.UUID) -> asyncpg.Record | None:
    """A listing the caller may see (public, or their own), with the caller's rating."""
    return await conn.fetchrow(
        f"""
        select {_COMMUNITY_COLUMNS}, r.rating as my_rating
          from public.community_strategies c {_WITH_MY_RATING}
         where c.id = $1
        """,
        listing_id,
    )


async def list_listings(
    conn: asyncpg.Connection,
    *,
    verified_only: bool,
    min_rating: Decimal | None,
    strategy_type: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """Public listings, filtered and sorted (``sort`` is a key of COMMUNITY_ORDER)."""
    order = COMMUNITY_ORDER[sort]
    return await conn.fetch(
        f"""
        select {_COMMUNITY_COLUMNS}, r.rating as my_rating
          from public.community_strategies c {_WITH_MY_RATING}
         where c.is_public
           and (not $1 or c.is_verified)
           and ($2::numeric is null or c.rating_average >= $2)
           and ($3::text is null or c.strategy_type = $3)
         order by {order}
         limit $4 offset $5
        """,
        verified_only,
        min_rating,
        strategy_type,
        limit,
        offset,
    )


async def upsert_rating(
    conn: asyncpg.Connection, listing_id: uuid.UUID, user_id: uuid.UUID, rating: int
) -> asyncpg.Record:
    """Rate (or re-rate) a listing; the trigger updates its sum and count in this same
    transaction. Returns the listing's new average and count, and the caller's rating."""
    await conn.execute(
        """
        insert into public.strategy_ratings (community_strategy_id, user_id, rating)
        values ($1, $2, $3)
        on conflict (community_strategy_id, user_id)
        do update set rating = excluded.rating, updated_at = now()
        """,
        listing_id,
        user_id,
        rating,
    )
    return await conn.fetchrow(
        "select rating_average, rating_count, $2::smallint as my_rating "
        "from public.community_strategies where id = $1",
        listing_id,
        rating,
    )


async def unscheduled_verifications(pool: asyncpg.Pool, limit: int = 20) -> list[asyncpg.Record]:
    """Listings waiting for their verification job (across authors, as the service)."""
    return await pool.fetch(
        """
        select id, author_id, config
          from public.community_strategies
         where verification_status = 'pending' and verification_backtest_id is null
         order by created_at
         limit $1
        """,
        limit,
    )


async def schedule_verification(
    pool: asyncpg.Pool, listing_id: uuid.UUID, author_id: uuid.UUID, job: NewBacktest
) -> uuid.UUID | None:
    """Queue the service's verification backtest of a listing and link it, in one
    transaction; None if another replica scheduled it first."""
    async with pool.acquire() as conn, conn.transaction():
        locked = await conn.fetchval(
            """
            select id from public.community_strategies
             where id = $1 and verification_status = 'pending'
               and verification_backtest_id is null
               for update skip locked
            """,
            listing_id,
        )
        if locked is None:
            return None
        backtest_id = await conn.fetchval(
            """
            insert into public.backtests
                (user_id, kind, config, symbol, timeframe, start_at, end_at, initial_capital,
                 data_source, seed, execution)
            values ($1, 'verification', $2::jsonb, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
            returning id
            """,
            author_id,
            job.config,
            job.symbol,
            job.timeframe,
            job.start_at,
            job.end_at,
            job.initial_capital,
            job.data_source,
            job.seed,
            job.execution,
        )
        await conn.execute(
            "update public.community_strategies set verification_backtest_id = $2, "
            "updated_at = now() where id = $1",
            listing_id,
            backtest_id,
        )
        return backtest_id


async def record_verification(
    pool: asyncpg.Pool,
    backtest_id: uuid.UUID,
    *,
    metrics: dict[str, Any],
    return_pct: Decimal | None,
    risk_score: Decimal | None,
    risk_score_note: str | None,
) -> None:
    """Mark the listing verified by this backtest, with its metrics and risk score."""
    await pool.execute(
        """
        update public.community_strategies
           set is_verified = true, verification_status = 'verified', verified_at = now(),
               verification_metrics = $2::jsonb, verification_return_pct = $3,
               risk_score = $4, risk_score_note = $5, verification_error = null,
               updated_at = now()
         where verification_backtest_id = $1
        """,
        backtest_id,
        metrics,
        return_pct,
        risk_score,
        risk_score_note,
    )


async def record_verification_failure(pool: asyncpg.Pool, backtest_id: uuid.UUID, error: str):
    """The verification backtest failed or was abandoned: the listing stays unverified."""
    await pool.execute(
        """
        update public.community_strategies
           set is_verified = false, verification_status = 'failed', verified_at = null,
               verification_error = $2, updated_at = now()
         where verification_backtest_id = $1
        """,
        backtest_id,
        error[:2000],
    )
