"""NotificationService over gRPC: requests to domain calls, domain results to replies.

Every method authorizes the user it acts for (a user only themselves, a service anyone)
before touching data; the store then reads and writes under that user's RLS.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import grpc

from notification_service import convert, messages
from notification_service.dispatcher import DeliveryDispatcher
from notification_service.live import LiveFeed
from notification_service.model import (
    NewNotification,
    NotifyOutcome,
    NotifyResult,
    parse_optional_uuid,
    validate_body,
    validate_data,
    validate_idempotency_key,
    validate_title,
)
from notification_service.pagination import decode_cursor, encode_cursor, page_size
from notification_service.preferences import apply_update
from notification_service.store import NotificationStore
from notification_service.unread_cache import UnreadCountCache
from servicekit.auth import authorize_user, current_caller
from servicekit.errors import InvalidArgument, PermissionDenied
from trading.notification.v1 import notification_service_pb2 as pb
from trading.notification.v1 import notification_service_pb2_grpc as pb_grpc

OUTCOME_TO_PROTO = {
    NotifyOutcome.STORED: pb.NOTIFY_OUTCOME_STORED,
    NotifyOutcome.DUPLICATE: pb.NOTIFY_OUTCOME_DUPLICATE,
    NotifyOutcome.MUTED: pb.NOTIFY_OUTCOME_MUTED,
}

# How long a new subscriber waits for the live feed's database connection.
LIVE_CONNECT_TIMEOUT_SECONDS = 5.0


class NotificationServicer(pb_grpc.NotificationServiceServicer):
    """Thin transport: parse, authorize, call the store, shape the reply."""

    def __init__(
        self,
        store: NotificationStore,
        unread: UnreadCountCache,
        live: LiveFeed,
        dispatcher: DeliveryDispatcher,
        *,
        heartbeat_seconds: float,
    ):
        self._store = store
        self._unread = unread
        self._live = live
        self._dispatcher = dispatcher
        self._heartbeat_seconds = heartbeat_seconds

    # -- notify --------------------------------------------------------------------

    async def NotifyTradeExecuted(self, request, context) -> pb.NotifyTradeExecutedResponse:
        user_id = _authorize_notifier(request.user_id)
        new = messages.trade_executed(
            convert.trade_fill(request.fill),
            convert.strategy_name(request.strategy_name),
            validate_idempotency_key(request.idempotency_key),
            parse_optional_uuid(request.strategy_id, "strategy_id"),
        )
        return pb.NotifyTradeExecutedResponse(**await self._notify(user_id, new))

    async def NotifyRiskEvent(self, request, context) -> pb.NotifyRiskEventResponse:
        user_id = _authorize_notifier(request.user_id)
        new = messages.risk_event(
            convert.risk_event(request),
            validate_idempotency_key(request.idempotency_key),
            parse_optional_uuid(request.strategy_id, "strategy_id"),
        )
        return pb.NotifyRiskEventResponse(**await self._notify(user_id, new))

    async def NotifyBacktestCompleted(self, request, context) -> pb.NotifyBacktestCompletedResponse:
        user_id = _authorize_notifier(request.user_id)
        new = messages.backtest_completed(
            convert.backtest_summary(request),
            validate_idempotency_key(request.idempotency_key),
            parse_optional_uuid(request.strategy_id, "strategy_id"),
        )
        return pb.NotifyBacktestCompletedResponse(**await self._notify(user_id, new))

    async def Notify(self, request, context) -> pb.NotifyResponse:
        user_id = _authorize_notifier(request.user_id)
        kind = convert.notification_type(request.type)
        new = NewNotification(
            type=kind,
            severity=convert.severity(request.severity, kind),
            title=validate_title(request.title),
            body=validate_body(request.body),
            idempotency_key=validate_idempotency_key(request.idempotency_key),
            data=validate_data(dict(request.data)),
            strategy_id=parse_optional_uuid(request.strategy_id, "strategy_id"),
        )
        return pb.NotifyResponse(**await self._notify(user_id, new))

    async def _notify(self, user_id: uuid.UUID, new: NewNotification) -> dict:
        stored = await self._store.store(user_id, new)
        if stored.queued_deliveries:
            self._dispatcher.wake()
        return _notify_reply(stored.result)

    # -- reading and marking --------------------------------------------------------

    async def GetUnreadCount(self, request, context) -> pb.GetUnreadCountResponse:
        user_id = authorize_user(request.user_id)
        # Authorized above, before the cache is consulted.
        return pb.GetUnreadCountResponse(
            unread_count=await self._unread.unread_count(user_id, self._store.unread_count)
        )

    async def ListNotifications(self, request, context) -> pb.ListNotificationsResponse:
        user_id = authorize_user(request.user_id)
        limit = page_size(request.limit if request.HasField("limit") else None)
        after = decode_cursor(request.cursor)
        page, next_position = await self._store.list_page(
            user_id, limit=limit, after=after, unread_only=request.unread_only
        )
        return pb.ListNotificationsResponse(
            notifications=[convert.notification_to_proto(item) for item in page],
            next_cursor=encode_cursor(next_position) if next_position else "",
        )

    async def MarkRead(self, request, context) -> pb.MarkReadResponse:
        user_id = authorize_user(request.user_id)
        ids = _ids_or_all(request)
        marked, unread = await self._store.mark_read(user_id, ids)
        return pb.MarkReadResponse(marked_count=marked, unread_count=unread)

    async def DeleteNotifications(self, request, context) -> pb.DeleteNotificationsResponse:
        user_id = authorize_user(request.user_id)
        deleted = await self._store.delete(user_id, _ids_or_all(request))
        return pb.DeleteNotificationsResponse(deleted_count=deleted)

    # -- preferences ------------------------------------------------------------------

    async def GetPreferences(self, request, context) -> pb.GetPreferencesResponse:
        user_id = authorize_user(request.user_id)
        preferences = await self._store.preferences(user_id)
        return pb.GetPreferencesResponse(preferences=convert.preferences_to_proto(preferences))

    async def UpdatePreferences(self, request, context) -> pb.UpdatePreferencesResponse:
        user_id = authorize_user(request.user_id)
        changes = convert.preference_changes(request)
        current = await self._store.preferences(user_id)
        saved = await self._store.update_preferences(user_id, apply_update(current, changes))
        return pb.UpdatePreferencesResponse(preferences=convert.preferences_to_proto(saved))

    # -- live -----------------------------------------------------------------------

    async def SubscribeNotifications(self, request, context):
        user_id = authorize_user(request.user_id)
        async with self._live.subscribe(user_id) as subscription:
            await self._live.wait_listening(LIVE_CONNECT_TIMEOUT_SECONDS)
            unread = await self._unread.unread_count(user_id, self._store.unread_count)
            yield pb.SubscribeNotificationsResponse(ready=pb.SubscriptionReady(unread_count=unread))
            while not context.done():
                notification = await subscription.next(self._heartbeat_seconds)
                if notification is None:
                    yield pb.SubscribeNotificationsResponse(
                        heartbeat=pb.Heartbeat(sent_at=convert.timestamp(datetime.now(UTC)))
                    )
                else:
                    yield pb.SubscribeNotificationsResponse(
                        notification=convert.notification_to_proto(notification)
                    )


def _authorize_notifier(user_id_value: str) -> uuid.UUID:
    """Notifications are written by services, never by users (no forged alerts)."""
    user_id = authorize_user(user_id_value)
    if not current_caller().is_service:
        raise PermissionDenied(
            None, "only services create notifications", reason="SERVICE_CALLER_REQUIRED"
        )
    return user_id


def _notify_reply(result: NotifyResult) -> dict:
    reply: dict = {"outcome": OUTCOME_TO_PROTO[result.outcome]}
    if result.notification is not None:
        reply["notification"] = convert.notification_to_proto(result.notification)
    return reply


def _ids_or_all(request) -> list[uuid.UUID] | None:
    """The ids a MarkRead/Delete request names, or None for "all"; exactly one of the two."""
    if request.all and request.notification_ids:
        raise InvalidArgument("notification_ids", "must be empty when all is set")
    if request.all:
        return None
    if not request.notification_ids:
        raise InvalidArgument("notification_ids", "name at least one notification, or set all")
    if len(request.notification_ids) > 1000:
        raise InvalidArgument("notification_ids", "at most 1000 at once")
    return convert.uuids(request.notification_ids, "notification_ids")


def add_to_server(servicer: NotificationServicer, server: grpc.aio.Server) -> str:
    """Register the servicer; returns the full service name (for health and reflection)."""
    pb_grpc.add_NotificationServiceServicer_to_server(servicer, server)
    return pb.DESCRIPTOR.services_by_name["NotificationService"].full_name
