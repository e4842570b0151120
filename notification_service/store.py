"""The notification service's SQL, in one place.

A user's rows are read and written inside ``user_transaction`` (their claims, role
``authenticated``), so RLS, not only the WHERE clauses below, decides what a query sees.
Storing a notification switches the transaction back to the service's own role
(``SET LOCAL ROLE NONE``): users may not insert notifications, the service may, and the
insert policy still binds the row to the user whose claims the transaction carries.
Claiming due deliveries is the one piece of cross-user work (``service_transaction``).
Every write that may change a user's unread count calls ``on_unread_change(user_id)``
right after its transaction ends, so this replica's cache never serves a count older
than the caller's own write.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

import asyncpg

from notification_service.model import (
    NewNotification,
    NotificationType,
    NotifyOutcome,
    NotifyResult,
    Severity,
    StoredNotification,
)
from notification_service.pagination import FeedPosition
from notification_service.preferences import (
    DEFAULT_PREFERENCES,
    OutgoingChannel,
    Preferences,
    channels_for,
    should_store,
)
from servicekit.db.rls import service_transaction, user_transaction
from servicekit.errors import NotFound

_COLUMNS = (
    "id, user_id, type, severity, title, body, data, strategy_id, idempotency_key, "
    "created_at, read_at"
)

_INSERT_NOTIFICATION = f"""
insert into public.user_notifications
    (user_id, type, severity, title, body, data, strategy_id, idempotency_key)
values ($1, $2, $3, $4, $5, $6, $7, $8)
on conflict (user_id, idempotency_key) do nothing
returning {_COLUMNS}
"""

_SELECT_BY_IDEMPOTENCY_KEY = f"""
select {_COLUMNS} from public.user_notifications
where user_id = $1 and idempotency_key = $2
"""

_INSERT_DELIVERIES = """
insert into public.notification_deliveries (notification_id, user_id, channel)
select $1, $2, unnest($3::text[])
on conflict (notification_id, channel) do nothing
"""

_SELECT_PREFERENCES = """
select notifications_enabled, muted_types, channels, webhook_url, webhook_secret,
       email_address, updated_at
from public.notification_preferences where user_id = $1
"""

_UPSERT_PREFERENCES = """
insert into public.notification_preferences as p
    (user_id, notifications_enabled, muted_types, channels, webhook_url, webhook_secret,
     email_address, updated_at)
values ($1, $2, $3, $4, $5, $6, $7, now())
on conflict (user_id) do update set
    notifications_enabled = excluded.notifications_enabled,
    muted_types = excluded.muted_types,
    channels = excluded.channels,
    webhook_url = excluded.webhook_url,
    webhook_secret = excluded.webhook_secret,
    email_address = excluded.email_address,
    updated_at = now()
returning notifications_enabled, muted_types, channels, webhook_url, webhook_secret,
          email_address, updated_at
"""

_UNREAD_COUNT = """
select count(*) from public.user_notifications
where user_id = $1 and read_at is null and deleted_at is null
"""

# Due deliveries, claimed with a lease: attempts counts this try, and next_attempt_at
# moves past the lease so no other dispatcher takes it while it is being sent.
_CLAIM_DUE_DELIVERIES = """
update public.notification_deliveries as d
set attempts = d.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $2),
    updated_at = now()
where d.id in (
    select id from public.notification_deliveries
    where status = 'pending' and next_attempt_at <= now()
    order by next_attempt_at
    limit $1
    for update skip locked
)
returning d.id, d.notification_id, d.user_id, d.channel, d.attempts
"""


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery this dispatcher holds the lease of, for its ``attempts``-th try."""

    id: int
    notification_id: uuid.UUID
    user_id: uuid.UUID
    channel: OutgoingChannel
    attempts: int


@dataclass(frozen=True, slots=True)
class StoreResult:
    """A notify call's result, and whether outgoing deliveries were queued."""

    result: NotifyResult
    queued_deliveries: int


class NotificationStore:
    """Notifications, preferences and deliveries of the notification service."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        on_unread_change: Callable[[uuid.UUID], None] = lambda _user_id: None,
    ):
        self._pool = pool
        self._on_unread_change = on_unread_change

    @contextlib.asynccontextmanager
    async def _changing_unread(self, user_id: uuid.UUID) -> AsyncIterator[asyncpg.Connection]:
        """A user transaction that may change their unread count; announced after it ends."""
        try:
            async with user_transaction(self._pool, user_id) as conn:
                yield conn
        finally:
            # After COMMIT (or rollback: forgetting a count is always safe).
            self._on_unread_change(user_id)

    # -- writing -----------------------------------------------------------------

    async def store(self, user_id: uuid.UUID, new: NewNotification) -> StoreResult:
        """Store ``new`` for the user unless muted; the same idempotency key stores once.

        Outgoing deliveries are queued in the same transaction (an outbox), so a crash
        between storing and sending loses nothing.
        """
        async with self._changing_unread(user_id) as conn:
            preferences = await _preferences(conn, user_id)
            if not should_store(preferences, new.type):
                return StoreResult(NotifyResult(NotifyOutcome.MUTED, None), 0)
            await conn.execute("set local role none")
            try:
                row = await conn.fetchrow(
                    _INSERT_NOTIFICATION,
                    user_id,
                    new.type.value,
                    new.severity.value,
                    new.title,
                    new.body,
                    new.data,
                    new.strategy_id,
                    new.idempotency_key,
                )
            except asyncpg.ForeignKeyViolationError:
                raise NotFound(f"no user {user_id}") from None
            if row is None:
                existing = await conn.fetchrow(
                    _SELECT_BY_IDEMPOTENCY_KEY, user_id, new.idempotency_key
                )
                return StoreResult(
                    NotifyResult(NotifyOutcome.DUPLICATE, _notification(existing)), 0
                )
            channels = [channel.value for channel in channels_for(preferences, new.type)]
            if channels:
                await conn.execute(_INSERT_DELIVERIES, row["id"], user_id, channels)
            return StoreResult(
                NotifyResult(NotifyOutcome.STORED, _notification(row)), len(channels)
            )

    async def mark_read(
        self, user_id: uuid.UUID, ids: Iterable[uuid.UUID] | None
    ) -> tuple[int, int]:
        """Mark the given notifications (or all, when ``ids`` is None) read.

        Returns (how many changed, unread count after the change).
        """
        async with self._changing_unread(user_id) as conn:
            if ids is None:
                status = await conn.execute(
                    "update public.user_notifications set read_at = now() "
                    "where user_id = $1 and read_at is null and deleted_at is null",
                    user_id,
                )
            else:
                status = await conn.execute(
                    "update public.user_notifications set read_at = now() "
                    "where user_id = $1 and id = any($2::uuid[]) "
                    "and read_at is null and deleted_at is null",
                    user_id,
                    list(ids),
                )
            unread = await conn.fetchval(_UNREAD_COUNT, user_id)
        return _affected(status), unread

    async def delete(self, user_id: uuid.UUID, ids: Iterable[uuid.UUID] | None) -> int:
        """Delete (hide) the given notifications, or all when ``ids`` is None.

        The rows stay, hidden, so a late duplicate of the same event is recognised.
        """
        async with self._changing_unread(user_id) as conn:
            if ids is None:
                status = await conn.execute(
                    "update public.user_notifications set deleted_at = now() "
                    "where user_id = $1 and deleted_at is null",
                    user_id,
                )
            else:
                status = await conn.execute(
                    "update public.user_notifications set deleted_at = now() "
                    "where user_id = $1 and id = any($2::uuid[]) and deleted_at is null",
                    user_id,
                    list(ids),
                )
        return _affected(status)

    async def update_preferences(self, user_id: uuid.UUID, updated: Preferences) -> Preferences:
        async with user_transaction(self._pool, user_id) as conn:
            row = await conn.fetchrow(
                _UPSERT_PREFERENCES,
                user_id,
                updated.notifications_enabled,
                sorted(kind.value for kind in updated.muted_types),
                sorted(channel.value for channel in updated.channels),
                updated.webhook_url,
                updated.webhook_secret,
                updated.email_address,
            )
        return _preferences_from(row)

    # -- reading -----------------------------------------------------------------

    async def unread_count(self, user_id: uuid.UUID) -> int:
        async with user_transaction(self._pool, user_id) as conn:
            return await conn.fetchval(_UNREAD_COUNT, user_id)

    async def list_page(
        self,
        user_id: uuid.UUID,
        *,
        limit: int,
        after: FeedPosition | None,
        unread_only: bool,
    ) -> tuple[list[StoredNotification], FeedPosition | None]:
        """One page, newest first, strictly after ``after``; and where the next starts."""
        conditions = ["user_id = $1", "deleted_at is null"]
        arguments: list[object] = [user_id, limit + 1]
        if unread_only:
            conditions.append("read_at is null")
        if after is not None:
            arguments += [after.created_at, after.id]
            conditions.append("(created_at, id) < ($3, $4)")
        query = (
            f"select {_COLUMNS} from public.user_notifications "
            f"where {' and '.join(conditions)} "
            "order by created_at desc, id desc limit $2"
        )
        async with user_transaction(self._pool, user_id) as conn:
            rows = await conn.fetch(query, *arguments)
        page = [_notification(row) for row in rows[:limit]]
        has_more = len(rows) > limit
        next_position = FeedPosition(page[-1].created_at, page[-1].id) if has_more else None
        return page, next_position

    async def get(
        self, user_id: uuid.UUID, notification_id: uuid.UUID
    ) -> StoredNotification | None:
        """One of the user's notifications (also a deleted one), read under their RLS."""
        async with user_transaction(self._pool, user_id) as conn:
            row = await conn.fetchrow(
                f"select {_COLUMNS} from public.user_notifications where id = $1",
                notification_id,
            )
        return _notification(row) if row is not None else None

    async def preferences(self, user_id: uuid.UUID) -> Preferences:
        async with user_transaction(self._pool, user_id) as conn:
            return await _preferences(conn, user_id)

    async def delivery_context(
        self, delivery: ClaimedDelivery
    ) -> tuple[StoredNotification | None, Preferences]:
        """The notification a delivery carries and its owner's destinations, under their RLS."""
        async with user_transaction(self._pool, delivery.user_id) as conn:
            row = await conn.fetchrow(
                f"select {_COLUMNS} from public.user_notifications where id = $1",
                delivery.notification_id,
            )
            preferences = await _preferences(conn, delivery.user_id)
        return (_notification(row) if row is not None else None), preferences

    # -- deliveries (cross-user: the dispatcher) ------------------------------------

    async def claim_due_deliveries(self, limit: int, lease_seconds: float) -> list[ClaimedDelivery]:
        async with service_transaction(self._pool) as conn:
            rows = await conn.fetch(_CLAIM_DUE_DELIVERIES, limit, lease_seconds)
        return [
            ClaimedDelivery(
                id=row["id"],
                notification_id=row["notification_id"],
                user_id=row["user_id"],
                channel=OutgoingChannel(row["channel"]),
                attempts=row["attempts"],
            )
            for row in rows
        ]

    async def record_delivered(self, delivery_id: int) -> None:
        await self._pool.execute(
            "update public.notification_deliveries set status = 'delivered', "
            "delivered_at = now(), last_error = null, updated_at = now() where id = $1",
            delivery_id,
        )

    async def record_retry(self, delivery_id: int, error: str, delay_seconds: float) -> None:
        await self._pool.execute(
            "update public.notification_deliveries set last_error = $2, "
            "next_attempt_at = now() + make_interval(secs => $3), updated_at = now() "
            "where id = $1",
            delivery_id,
            error,
            delay_seconds,
        )

    async def record_failed(self, delivery_id: int, error: str) -> None:
        """Give up on a delivery; the reason stays recorded."""
        await self._pool.execute(
            "update public.notification_deliveries set status = 'failed', last_error = $2, "
            "updated_at = now() where id = $1",
            delivery_id,
            error,
        )


async def _preferences(conn: asyncpg.Connection, user_id: uuid.UUID) -> Preferences:
    row = await conn.fetchrow(_SELECT_PREFERENCES, user_id)
    return _preferences_from(row) if row is not None else DEFAULT_PREFERENCES


def _preferences_from(row: asyncpg.Record) -> Preferences:
    return Preferences(
        notifications_enabled=row["notifications_enabled"],
        muted_types=frozenset(NotificationType(value) for value in row["muted_types"]),
        channels=frozenset(OutgoingChannel(value) for value in row["channels"]),
        webhook_url=row["webhook_url"],
        webhook_secret=row["webhook_secret"],
        email_address=row["email_address"],
        updated_at=row["updated_at"],
    )


def _notification(row: asyncpg.Record) -> StoredNotification:
    return StoredNotification(
        id=row["id"],
        user_id=row["user_id"],
        type=NotificationType(row["type"]),
        severity=Severity(row["severity"]),
        title=row["title"],
        body=row["body"],
        data=dict(row["data"]),
        strategy_id=row["strategy_id"],
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


def _affected(status: str) -> int:
    """The row count of an UPDATE/DELETE command tag ("UPDATE 3")."""
    return int(status.rsplit(" ", 1)[-1])
