"""The executor's strategy tables: strategies, transitions, credentials, performance.

A user's reads and edits run inside ``user_transaction`` (RLS with the user's claims).
Columns only the executor may set (status, risk score, runner cursor) are written by the
service role itself, always keyed by (strategy id, user id), after the user-scoped read
proved ownership. Orders, fills and positions live in ``ledger.py``.
"""

from __future__ import annotations

import builtins  # the store has a method named list: annotations after it mean the type
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from executor_service.lifecycle import Action, Actor, Status, ensure_editable, plan_transition
from servicekit.db.rls import user_transaction
from servicekit.errors import Aborted, NotFound

_STRATEGY_COLUMNS = """
    id, user_id, name, strategy_type, base_symbol, asset_class, status, status_reason,
    config, version, risk_score, broker, live, last_bar_at, activated_at, feed_anchor_at,
    created_at, updated_at
"""


@dataclass(frozen=True)
class StrategyRow:
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    strategy_type: str
    base_symbol: str
    asset_class: str
    status: Status
    status_reason: str
    config: dict[str, Any]
    version: int
    risk_score: Decimal | None
    broker: str
    live: bool
    last_bar_at: datetime | None
    activated_at: datetime | None
    feed_anchor_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NewStrategy:
    """What creating a strategy stores: the config and the typed columns derived from it."""

    name: str
    strategy_type: str
    base_symbol: str
    asset_class: str
    config: dict[str, Any]
    broker: str = "paper"
    live: bool = False


@dataclass(frozen=True)
class TransitionRow:
    strategy_id: uuid.UUID
    from_status: Status
    to_status: Status
    actor: Actor
    reason: str
    created_at: datetime


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def strategy_from_record(record: asyncpg.Record) -> StrategyRow:
    values = dict(record)
    values["status"] = Status(values["status"])
    values["config"] = _json_value(values["config"])
    return StrategyRow(**values)


class StrategyStore:
    """SQL for strategies and their transitions."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def create(self, user_id: uuid.UUID, new: NewStrategy) -> StrategyRow:
        async with user_transaction(self._pool, user_id) as connection:
            record = await connection.fetchrow(
                f"""
                insert into trading_strategies
                    (user_id, name, strategy_type, base_symbol, asset_class, config, broker, live)
                values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
                returning {_STRATEGY_COLUMNS}
                """,
                user_id,
                new.name,
                new.strategy_type,
                new.base_symbol,
                new.asset_class,
                json.dumps(new.config),
                new.broker,
                new.live,
            )
        return strategy_from_record(record)

    async def get(self, user_id: uuid.UUID, strategy_id: uuid.UUID) -> StrategyRow:
        async with user_transaction(self._pool, user_id) as connection:
            record = await connection.fetchrow(
                f"select {_STRATEGY_COLUMNS} from trading_strategies"
                " where id = $1 and deleted_at is null",
                strategy_id,
            )
        if record is None:
            raise NotFound(f"strategy {strategy_id} not found")
        return strategy_from_record(record)

    async def list(
        self,
        user_id: uuid.UUID,
        *,
        status: Status | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> list[StrategyRow]:
        """Newest first, keyset-paginated on (created_at, id)."""
        async with user_transaction(self._pool, user_id) as connection:
            records = await connection.fetch(
                f"""
                select {_STRATEGY_COLUMNS} from trading_strategies
                where deleted_at is null
                  and ($1::text is null or status = $1)
                  and ($2::timestamptz is null or (created_at, id) < ($2, $3::uuid))
                order by created_at desc, id desc
                limit $4
                """,
                status.value if status else None,
                after[0] if after else None,
                after[1] if after else None,
                limit,
            )
        return [strategy_from_record(record) for record in records]

    async def update_config(
        self, user_id: uuid.UUID, strategy_id: uuid.UUID, new: NewStrategy, expected_version: int
    ) -> StrategyRow:
        """Replace the config if the version still matches; the version increments."""
        async with user_transaction(self._pool, user_id) as connection:
            current = await connection.fetchrow(
                "select status, version from trading_strategies"
                " where id = $1 and deleted_at is null for update",
                strategy_id,
            )
            if current is None:
                raise NotFound(f"strategy {strategy_id} not found")
            if current["version"] != expected_version:
                raise Aborted(
                    f"strategy is at version {current['version']}, not {expected_version};"
                    " reload it and apply the change again",
                    reason="VERSION_MISMATCH",
                )
            ensure_editable(Status(current["status"]))
            record = await connection.fetchrow(
                f"""
                update trading_strategies
                set name = $2, strategy_type = $3, base_symbol = $4, asset_class = $5,
                    config = $6::jsonb, version = version + 1, updated_at = now()
                where id = $1
                returning {_STRATEGY_COLUMNS}
                """,
                strategy_id,
                new.name,
                new.strategy_type,
                new.base_symbol,
                new.asset_class,
                json.dumps(new.config),
            )
        return strategy_from_record(record)

    async def delete(self, user_id: uuid.UUID, strategy_id: uuid.UUID) -> None:
        """Soft delete (orders and fills keep their strategy); refused while active."""
        async with user_transaction(self._pool, user_id) as connection:
            current = await connection.fetchrow(
                "select status from trading_strategies"
                " where id = $1 and deleted_at is null for update",
                strategy_id,
            )
            if current is None:
                raise NotFound(f"strategy {strategy_id} not found")
            ensure_editable(Status(current["status"]))
            await connection.execute(
                "update trading_strategies set deleted_at = now(), updated_at = now()"
                " where id = $1",
                strategy_id,
            )

    async def transition(
        self,
        user_id: uuid.UUID,
        strategy_id: uuid.UUID,
        action: Action,
        actor: Actor,
        reason: str,
        *,
        risk_score: Decimal | None = None,
        expected_status: Status | None = None,
        connection: asyncpg.Connection | None = None,
    ) -> StrategyRow:
        """Apply a lifecycle action and record it, in one transaction (service role).

        ``expected_status`` guards against a change made meanwhile (e.g. the status the
        activation checks ran against). Pass ``connection`` to join a caller's transaction
        (e.g. with an outbox row announcing the change).
        """
        if connection is None:
            async with self._pool.acquire() as own, own.transaction():
                return await self._transition(
                    own, user_id, strategy_id, action, actor, reason, risk_score, expected_status
                )
        return await self._transition(
            connection, user_id, strategy_id, action, actor, reason, risk_score, expected_status
        )

    async def _transition(
        self, connection, user_id, strategy_id, action, actor, reason, risk_score, expected_status
    ) -> StrategyRow:
        current = await connection.fetchrow(
            "select status from trading_strategies"
            " where id = $1 and user_id = $2 and deleted_at is null for update",
            strategy_id,
            user_id,
        )
        if current is None:
            raise NotFound(f"strategy {strategy_id} not found")
        status = Status(current["status"])
        if expected_status is not None and status != expected_status:
            raise Aborted(f"strategy changed to {status.value} meanwhile", reason="STATUS_CHANGED")
        change = plan_transition(action, status, actor, reason)
        record = await connection.fetchrow(
            f"""
            update trading_strategies
            set status = $2, status_reason = $3, updated_at = now(),
                risk_score = coalesce($4, risk_score),
                activated_at = case when $2 = 'active' and status <> 'paused'
                                    then now() else activated_at end,
                last_bar_at = case when $2 = 'active' and status <> 'paused'
                                   then null else last_bar_at end,
                feed_anchor_at = case when $2 = 'active' and status <> 'paused'
                                      then null else feed_anchor_at end
            where id = $1
            returning {_STRATEGY_COLUMNS}
            """,
            strategy_id,
            change.to_status.value,
            change.reason,
            risk_score,
        )
        await connection.execute(
            """
            insert into strategy_transitions
                (strategy_id, user_id, from_status, to_status, actor, reason)
            values ($1, $2, $3, $4, $5, $6)
            """,
            strategy_id,
            user_id,
            change.from_status.value,
            change.to_status.value,
            change.actor.value,
            change.reason,
        )
        return strategy_from_record(record)

    async def transitions(
        self, user_id: uuid.UUID, strategy_id: uuid.UUID
    ) -> builtins.list[TransitionRow]:
        async with user_transaction(self._pool, user_id) as connection:
            exists = await connection.fetchval(
                "select 1 from trading_strategies where id = $1", strategy_id
            )
            if exists is None:
                raise NotFound(f"strategy {strategy_id} not found")
            records = await connection.fetch(
                """
                select strategy_id, from_status, to_status, actor, reason, created_at
                from strategy_transitions where strategy_id = $1 order by id
                """,
                strategy_id,
            )
        return [
            TransitionRow(
                r["strategy_id"],
                Status(r["from_status"]),
                Status(r["to_status"]),
                Actor(r["actor"]),
                r["reason"],
                r["created_at"],
            )
            for r in records
        ]

    async def active_strategies(self) -> builtins.list[StrategyRow]:
        """Every active strategy of every user (the runner's work list; service role)."""
        records = await self._pool.fetch(
            f"select {_STRATEGY_COLUMNS} from trading_strategies"
            " where status = 'active' and deleted_at is null order by created_at, id"
        )
        return [strategy_from_record(record) for record in records]

    async def by_ids(self, strategy_ids: builtins.list[uuid.UUID]) -> dict[uuid.UUID, StrategyRow]:
        """Strategies by id, deleted ones included (service role: reconciliation)."""
        records = await self._pool.fetch(
            f"select {_STRATEGY_COLUMNS} from trading_strategies where id = any($1::uuid[])",
            strategy_ids,
        )
        return {record["id"]: strategy_from_record(record) for record in records}

    async def anchor_feed(self, strategy_id: uuid.UUID, anchor: datetime) -> None:
        """Set where the strategy's feed schedule starts (the runner's pick-up, or a skip)."""
        await self._pool.execute(
            "update trading_strategies set feed_anchor_at = $2 where id = $1",
            strategy_id,
            anchor,
        )

    async def status_of(self, strategy_id: uuid.UUID) -> Status | None:
        value = await self._pool.fetchval(
            "select status from trading_strategies where id = $1 and deleted_at is null",
            strategy_id,
        )
        return Status(value) if value else None
