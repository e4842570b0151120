"""Notifications: list, unread count, mark read, delete, and a live stream (SSE)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sse_starlette.event import ServerSentEvent

from gateway.deps import Settings, UserSession
from gateway.errors import ApiError
from gateway.proto_models import to_json
from gateway.routers.common import ERROR_RESPONSES, NotificationId
from gateway.schemas import Cursor, Limit, MarkRead, MarkReadResult, NotificationPage, UnreadCount
from gateway.sse import EVENT_STREAM_RESPONSE, event, event_stream_response, open_stream
from trading.notification.v1 import notification_service_pb2 as pb

router = APIRouter(prefix="/v1/notifications", tags=["notifications"], responses=ERROR_RESPONSES)


@router.get("", response_model=NotificationPage)
async def list_notifications(
    session: UserSession,
    limit: Annotated[Limit | None, Query()] = None,
    cursor: Annotated[Cursor, Query()] = "",
    unread_only: bool = False,
) -> Any:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    request = pb.ListNotificationsRequest(
        user_id=session.user_id, cursor=cursor, unread_only=unread_only
    )
    if limit is not None:
        request.limit = limit
    return to_json(await session.notification.ListNotifications(request))


@router.get("/unread-count", response_model=UnreadCount)
async def unread_count(session: UserSession) -> Any:
    reply = await session.notification.GetUnreadCount(
        pb.GetUnreadCountRequest(user_id=session.user_id)
    )
    return to_json(reply)


@router.post("/read", response_model=MarkReadResult)
async def mark_read(body: MarkRead, session: UserSession) -> Any:
    """Mark the listed notifications (or `all`) read; ids of others' are not touched."""
    reply = await session.notification.MarkRead(
        pb.MarkReadRequest(
            user_id=session.user_id, notification_ids=body.notification_ids, all=body.all
        )
    )
    return to_json(reply)


@router.delete("/{notification_id}", status_code=204, response_class=Response)
async def delete_notification(notification_id: NotificationId, session: UserSession) -> Response:
    reply = await session.notification.DeleteNotifications(
        pb.DeleteNotificationsRequest(
            user_id=session.user_id, notification_ids=[str(notification_id)]
        )
    )
    if reply.deleted_count == 0:
        raise ApiError(404)
    return Response(status_code=204)


def _render_notification(message: pb.SubscribeNotificationsResponse) -> ServerSentEvent | None:
    kind = message.WhichOneof("event")
    if kind == "ready":
        return event("ready", to_json(message.ready))
    if kind == "notification":
        return event(
            "notification", to_json(message.notification), event_id=message.notification.id
        )
    # Heartbeats keep the gRPC stream alive; the SSE response sends its own pings.
    return None


@router.get("/events", responses=EVENT_STREAM_RESPONSE)
async def notification_events(session: UserSession, settings: Settings):
    """Server-sent events: first `ready` ({unread_count}), then one `notification` event
    per new notification (data: the notification; id: its id)."""
    call = session.notification.SubscribeNotifications(
        pb.SubscribeNotificationsRequest(user_id=session.user_id)
    )
    first = await open_stream(call)
    return event_stream_response(call, first, _render_notification, settings)
