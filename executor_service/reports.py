"""What users read about their bots: orders, positions, the performance summary.

Every query runs inside ``user_transaction``, so RLS decides which rows exist; the
performance summary is read through ``my_strategy_performance_summary`` (the
materialized view itself is not granted to users).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from executor_service.ledger import OrderRow, order_from_record
from servicekit.db.rls import user_transaction


class ReportStore:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def orders(
        self,
        user_id: uuid.UUID,
        strategy_id: uuid.UUID | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> list[OrderRow]:
        async with user_transaction(self._pool, user_id) as connection:
            records = await connection.fetch(
                """
                select * from bot_orders
                where ($1::uuid is null or strategy_id = $1)
                  and ($2::timestamptz is null or (created_at, id) < ($2, $3::uuid))
                order by created_at desc, id desc
                limit $4
                """,
                strategy_id,
                after[0] if after else None,
                after[1] if after else None,
                limit,
            )
        return [order_from_record(record) for record in records]

    async def positions(
        self, user_id: uuid.UUID, strategy_id: uuid.UUID | None
    ) -> list[asyncpg.Record]:
        async with user_transaction(self._pool, user_id) as connection:
            return await connection.fetch(
                """
                select * from bot_positions
                where ($1::uuid is null or strategy_id = $1)
                  and (quantity <> 0 or realized_pnl <> 0)
                order by strategy_id, symbol
                """,
                strategy_id,
            )

    async def performance(
        self, user_id: uuid.UUID, strategy_id: uuid.UUID | None
    ) -> list[asyncpg.Record]:
        async with user_transaction(self._pool, user_id) as connection:
            return await connection.fetch(
                """
                select * from my_strategy_performance_summary
                where ($1::uuid is null or strategy_id = $1)
                order by strategy_name, strategy_id
                """,
                strategy_id,
            )

    async def refresh_performance(self) -> None:
        """REFRESH ... CONCURRENTLY (through the definer function the migration provides)."""
        await self._pool.execute("select refresh_strategy_performance_summary()")


class CredentialStore:
    """Encrypted broker keys: written for a user, read back only by the runner."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def save(
        self, user_id: uuid.UUID, broker: str, key_token: bytes, secret_token: bytes, hint: str
    ) -> datetime:
        async with user_transaction(self._pool, user_id) as connection:
            # No ON CONFLICT ... EXCLUDED: users hold no SELECT on the encrypted columns.
            updated = await connection.fetchval(
                """
                update broker_credentials
                set api_key_id_encrypted = $3, api_secret_encrypted = $4,
                    api_key_id_hint = $5, updated_at = now()
                where user_id = $1 and broker = $2
                returning updated_at
                """,
                user_id,
                broker,
                key_token,
                secret_token,
                hint,
            )
            if updated is None:
                updated = await connection.fetchval(
                    """
                    insert into broker_credentials
                        (user_id, broker, api_key_id_encrypted, api_secret_encrypted,
                         api_key_id_hint)
                    values ($1, $2, $3, $4, $5)
                    returning updated_at
                    """,
                    user_id,
                    broker,
                    key_token,
                    secret_token,
                    hint,
                )
        return updated

    async def load(self, user_id: uuid.UUID, broker: str) -> tuple[bytes, bytes] | None:
        """The encrypted pair (service role: the runner connecting a bot to its broker)."""
        record = await self._pool.fetchrow(
            "select api_key_id_encrypted, api_secret_encrypted from broker_credentials"
            " where user_id = $1 and broker = $2",
            user_id,
            broker,
        )
        return (record[0], record[1]) if record else None
