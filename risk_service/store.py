"""The risk service's SQL, in one place: profiles, platform configuration, kill
switches, risk events and the order ledger.

A user's rows are read and written inside ``user_transaction`` (RLS with the user's
claims). Cross-user work (platform switches, the order ledger, risk events written for
the executor, a service changing a tier) runs as the role risk_service itself.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from risk_service.engine import LedgerEntry, LedgerResult
from risk_service.kill_switch import KillSwitch, SwitchMode, SwitchScope
from risk_service.limits import PlatformConfig
from risk_service.model import Profile, RiskTolerance, Tier
from servicekit.db.rls import service_transaction, user_transaction
from servicekit.errors import NotFound

PLATFORM_KEYS = [
    "default_risk_limits",
    "tier_risk_limits",
    "risk_tolerance_limits",
    "estimated_fee_pct",
]
_SWITCH_COLUMNS = "id, scope, user_id, strategy_id, mode, reason, set_by, updated_at"


def _switch(row: asyncpg.Record) -> KillSwitch:
    return KillSwitch(
        scope=SwitchScope(row["scope"]),
        mode=SwitchMode(row["mode"]),
        reason=row["reason"],
        user_id=row["user_id"],
        strategy_id=row["strategy_id"],
        set_by_service=row["set_by"] == "service",
        id=row["id"],
        updated_at=row["updated_at"],
    )


def _profile(user_id: uuid.UUID, row: asyncpg.Record | None) -> Profile:
    if row is None:
        # Every auth user gets a profile (trigger and backfill in the migration): no
        # profile means no such user.
        raise NotFound(f"user {user_id} does not exist", field="user_id")
    return Profile(
        user_id=user_id,
        tier=Tier(row["subscription_tier"]),
        risk_tolerance=RiskTolerance(row["risk_tolerance"]),
        paper_mode=row["paper_mode"],
        updated_at=row["updated_at"],
    )


class RiskStore:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    # --- what the cache loads ---------------------------------------------------------

    async def load_platform(self) -> tuple[PlatformConfig, tuple[KillSwitch, ...]]:
        """The platform configuration and the platform-wide kill switches."""
        async with service_transaction(self.pool) as conn:
            rows = await conn.fetch(
                "select key, value from public.platform_config where key = any($1::text[])",
                PLATFORM_KEYS,
            )
            switches = await conn.fetch(
                f"select {_SWITCH_COLUMNS} from public.kill_switches where scope = 'platform'"
            )
        config = PlatformConfig.from_rows({row["key"]: row["value"] for row in rows})
        return config, tuple(_switch(row) for row in switches)

    async def load_user(self, user_id: uuid.UUID) -> tuple[Profile, tuple[KillSwitch, ...]]:
        """The user's profile and their user- and strategy-level switches (under RLS)."""
        async with user_transaction(self.pool, user_id) as conn:
            row = await conn.fetchrow(
                "select subscription_tier, risk_tolerance, paper_mode, updated_at"
                " from public.user_profiles where id = $1",
                user_id,
            )
            switches = await conn.fetch(
                f"select {_SWITCH_COLUMNS} from public.kill_switches"
                " where user_id = $1 and scope <> 'platform'",
                user_id,
            )
        return _profile(user_id, row), tuple(_switch(s) for s in switches)

    # --- the order ledger ---------------------------------------------------------------

    async def reserve_orders(
        self, entries: list[LedgerEntry], connection: asyncpg.Connection | None = None
    ) -> list[LedgerResult]:
        """Count each order's strategy's approved orders and record the order if every
        limit holds: a batch, in order, in one round trip (see risk_reserve_orders).
        ``connection``: a connection of this service's role to use instead of the pool."""
        if len(entries) == 1:
            # A batch of one is the plain function, with scalar arguments: the cheapest
            # call to encode, and the common case (a lone validation).
            row = await (connection or self.pool).fetchrow(
                "select * from public.risk_reserve_order"
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                *_ledger_columns(entries[0]),
            )
            return [_ledger_result(row)]
        # One array per column, element i of each being order i (see risk_reserve_orders).
        columns = zip(*(_ledger_columns(e) for e in entries), strict=True)
        rows = await (connection or self.pool).fetch(
            "select * from public.risk_reserve_orders"
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) order by item_index",
            *(list(column) for column in columns),
        )
        if len(rows) != len(entries):
            raise RuntimeError(f"the ledger answered {len(rows)} of {len(entries)} orders")
        return [_ledger_result(row) for row in rows]

    async def prune_ledger(
        self, approved_before: dt.datetime, counters_before: dt.datetime
    ) -> None:
        """Forget approved orders and counter windows older than the retention."""
        async with service_transaction(self.pool) as conn:
            await conn.execute(
                "delete from public.risk_approved_orders where approved_at < $1", approved_before
            )
            await conn.execute(
                "delete from public.risk_order_counters where bucket_start < $1", counters_before
            )

    # --- risk events ----------------------------------------------------------------------

    async def record_event(
        self,
        *,
        user_id: uuid.UUID | None,
        strategy_id: uuid.UUID | None,
        event_type: str,
        reason_code: str = "",
        message: str = "",
        details: dict[str, Any] | None = None,
    ) -> uuid.UUID:
        """Append to the risk events log (written by the service for the user)."""
        return await self.pool.fetchval(
            "insert into public.risk_events"
            " (user_id, strategy_id, event_type, reason_code, message, details)"
            " values ($1, $2, $3, $4, $5, ($6::text)::jsonb) returning id",
            user_id,
            strategy_id,
            event_type,
            reason_code,
            message[:2000],
            json.dumps(details or {}, default=str),
        )

    # --- kill switches ----------------------------------------------------------------------

    async def find_switch(
        self, scope: SwitchScope, user_id: uuid.UUID | None, strategy_id: uuid.UUID | None
    ) -> KillSwitch | None:
        row = await self.pool.fetchrow(
            f"select {_SWITCH_COLUMNS} from public.kill_switches"
            " where scope = $1 and user_id is not distinct from $2"
            " and strategy_id is not distinct from $3",
            scope.value,
            user_id,
            strategy_id,
        )
        return None if row is None else _switch(row)

    async def set_switch(self, switch: KillSwitch, *, as_user: uuid.UUID | None) -> KillSwitch:
        """Insert or replace the switch for its target; ``as_user`` = under that user's RLS."""
        sql = (
            "insert into public.kill_switches (scope, user_id, strategy_id, mode, reason, set_by)"
            " values ($1, $2, $3, $4, $5, $6)"
            " on conflict on constraint kill_switches_one_per_target do update"
            " set mode = excluded.mode, reason = excluded.reason, set_by = excluded.set_by"
            f" returning {_SWITCH_COLUMNS}"
        )
        args = (
            switch.scope.value,
            switch.user_id,
            switch.strategy_id,
            switch.mode.value,
            switch.reason,
            "service" if switch.set_by_service else "user",
        )
        async with self._transaction(as_user) as conn:
            row = await conn.fetchrow(sql, *args)
        return _switch(row)

    async def clear_switch(
        self,
        scope: SwitchScope,
        user_id: uuid.UUID | None,
        strategy_id: uuid.UUID | None,
        *,
        as_user: uuid.UUID | None,
    ) -> bool:
        """Lift the switch on a target; False when there was none (or RLS hid it)."""
        async with self._transaction(as_user) as conn:
            status = await conn.execute(
                "delete from public.kill_switches where scope = $1"
                " and user_id is not distinct from $2 and strategy_id is not distinct from $3",
                scope.value,
                user_id,
                strategy_id,
            )
        return status != "DELETE 0"

    async def list_switches(self, user_id: uuid.UUID | None) -> tuple[KillSwitch, ...]:
        """Platform switches, and the user's own when a user is named (under their RLS)."""
        sql = f"select {_SWITCH_COLUMNS} from public.kill_switches"
        if user_id is None:
            async with service_transaction(self.pool) as conn:
                rows = await conn.fetch(sql + " where scope = 'platform' order by created_at")
        else:
            async with user_transaction(self.pool, user_id) as conn:
                rows = await conn.fetch(sql + " order by scope, created_at")
        return tuple(_switch(row) for row in rows)

    def _transaction(self, as_user: uuid.UUID | None):
        if as_user is None:
            return service_transaction(self.pool)
        return user_transaction(self.pool, as_user)

    # --- profiles ------------------------------------------------------------------------------

    async def get_profile(self, user_id: uuid.UUID) -> Profile:
        async with user_transaction(self.pool, user_id) as conn:
            row = await conn.fetchrow(
                "select subscription_tier, risk_tolerance, paper_mode, updated_at"
                " from public.user_profiles where id = $1",
                user_id,
            )
        return _profile(user_id, row)

    async def update_profile(
        self,
        user_id: uuid.UUID,
        *,
        risk_tolerance: RiskTolerance | None,
        paper_mode: bool | None,
        tier: Tier | None,
    ) -> Profile:
        """Apply the given changes. The tier is written as the service role (users have no
        grant on it); tolerance and paper mode under the user's own RLS."""
        if tier is not None:
            await self.pool.execute(
                "update public.user_profiles set subscription_tier = $2 where id = $1",
                user_id,
                tier.value,
            )
        async with user_transaction(self.pool, user_id) as conn:
            row = await conn.fetchrow(
                "update public.user_profiles"
                " set risk_tolerance = coalesce($2, risk_tolerance),"
                "     paper_mode = coalesce($3, paper_mode)"
                " where id = $1"
                " returning subscription_tier, risk_tolerance, paper_mode, updated_at",
                user_id,
                risk_tolerance.value if risk_tolerance else None,
                paper_mode,
            )
        return _profile(user_id, row)


def _ledger_columns(e: LedgerEntry) -> tuple:
    """The arguments of risk_reserve_order for one entry, in its parameter order."""
    return (
        e.user_id,
        e.strategy_id,
        e.client_order_id,
        e.symbol,
        e.side,
        e.quantity,
        e.notional,
        e.now,
        e.reserve,
        e.max_per_minute,
        e.max_per_day,
    )


def _ledger_result(row: asyncpg.Record) -> LedgerResult:
    return LedgerResult(
        orders_this_minute=row["orders_this_minute"],
        orders_today=row["orders_today"],
        duplicate=row["duplicate"],
        reserved=row["reserved"],
    )
