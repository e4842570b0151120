"""The community marketplace: publish, verify, list, rate, clone.

A listing is a copy of one of a user's strategy configs. It becomes verified only when
the service's own backtest over the standard period (the synthetic feed over a fixed
year) completes; that run's metrics and risk score are shown with the listing. Ratings
are 1..5, one per user and listing (a new rating replaces the old), and the database
keeps each listing's sum and count exact in the rating's own transaction.
"""

from __future__ import annotations

import base64
import logging
import uuid
from decimal import Decimal
from typing import Any

import asyncpg

from backtest_service import store
from backtest_service.backtests import page_size
from backtest_service.config import BacktestSettings
from servicekit.db.rls import user_transaction
from servicekit.errors import FailedPrecondition, InvalidArgument, NotFound
from servicekit.money import parse_decimal

log = logging.getLogger("backtest_service.marketplace")

MIN_RATING, MAX_RATING = 1, 5
DEFAULT_VERIFICATION_CAPITAL = Decimal(10_000)


def check_rating(rating: int) -> int:
    if not MIN_RATING <= rating <= MAX_RATING:
        raise InvalidArgument("rating", f"must be between {MIN_RATING} and {MAX_RATING}")
    return rating


def parse_min_rating(value: str) -> Decimal | None:
    """An optional minimum average rating, 0..5."""
    number = parse_decimal(value, "min_rating", positive=True, required=False, max_places=2)
    if number is not None and number > MAX_RATING:
        raise InvalidArgument("min_rating", f"must be at most {MAX_RATING}")
    return number


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_offset(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError):
        offset = -1
        kind = ""
    if kind != "o" or offset < 0:
        raise InvalidArgument("page.cursor", "is not a cursor this service issued")
    return offset


def verification_job(config: dict[str, Any], settings: BacktestSettings) -> store.NewBacktest:
    """The standard verification run of a listing's config (same period and data for all)."""
    capital_text = (config.get("capital_allocation") or {}).get("allocated_capital") or ""
    try:
        capital = Decimal(capital_text) if capital_text else DEFAULT_VERIFICATION_CAPITAL
    except ArithmeticError:
        capital = DEFAULT_VERIFICATION_CAPITAL
    if not capital.is_finite() or capital <= 0:
        capital = DEFAULT_VERIFICATION_CAPITAL
    return store.NewBacktest(
        strategy_id=None,
        config=config,
        symbol=config.get("base_symbol") or "",
        timeframe=settings.verification_timeframe,
        start_at=settings.verification_start,
        end_at=settings.verification_end,
        initial_capital=capital,
        data_source="synthetic",
        seed=settings.verification_seed,
        execution={},
    )


class Marketplace:
    """Listings and ratings, read and written as the calling user under RLS."""

    def __init__(self, pool: asyncpg.Pool, settings: BacktestSettings):
        self._pool = pool
        self._settings = settings

    async def publish(self, author_id: uuid.UUID, listing: store.NewListing) -> asyncpg.Record:
        """Publish a copy of the author's config and queue its verification run."""
        async with user_transaction(self._pool, author_id) as conn:
            row = await store.insert_listing(conn, author_id, listing)
        # If this process dies here, the worker's sweep schedules the run instead.
        await self.schedule_pending_verifications()
        return row

    async def schedule_pending_verifications(self) -> int:
        """Queue verification runs for listings without one (as the service role)."""
        scheduled = 0
        for row in await store.unscheduled_verifications(self._pool):
            job = verification_job(row["config"], self._settings)
            if await store.schedule_verification(self._pool, row["id"], row["author_id"], job):
                scheduled += 1
        return scheduled

    async def get(self, user_id: uuid.UUID, listing_id: uuid.UUID) -> asyncpg.Record:
        async with user_transaction(self._pool, user_id) as conn:
            row = await store.get_listing(conn, listing_id)
        if row is None:
            raise NotFound(f"community strategy {listing_id} not found")
        return row

    async def list(
        self,
        user_id: uuid.UUID,
        *,
        verified_only: bool,
        min_rating: Decimal | None,
        strategy_type: str | None,
        sort: str,
        limit: int,
        cursor: str,
    ) -> tuple[list[asyncpg.Record], str]:
        """Public listings, filtered, sorted and paginated."""
        size = page_size(limit)
        offset = decode_offset(cursor)
        async with user_transaction(self._pool, user_id) as conn:
            rows = await store.list_listings(
                conn,
                verified_only=verified_only,
                min_rating=min_rating,
                strategy_type=strategy_type,
                sort=sort,
                limit=size + 1,
                offset=offset,
            )
        if len(rows) > size:
            return rows[:size], encode_offset(offset + size)
        return rows, ""

    async def rate(self, user_id: uuid.UUID, listing_id: uuid.UUID, rating: int) -> asyncpg.Record:
        """Rate a public listing by someone else (a second rating replaces the first)."""
        check_rating(rating)
        async with user_transaction(self._pool, user_id) as conn:
            listing = await store.get_listing(conn, listing_id)
            if listing is None or not listing["is_public"]:
                raise NotFound(f"community strategy {listing_id} not found")
            if listing["author_id"] == user_id:
                raise FailedPrecondition("you cannot rate your own strategy", reason="OWN_STRATEGY")
            return await store.upsert_rating(conn, listing_id, user_id, rating)

    async def config_to_clone(self, user_id: uuid.UUID, listing_id: uuid.UUID) -> dict[str, Any]:
        """The listing's config, for the caller to create as their own strategy."""
        row = await self.get(user_id, listing_id)
        return row["config"]
