"""NotificationService through the real gRPC server and database."""

from __future__ import annotations

from tests.notification_service.conftest import as_service, as_user, notify
from trading.notification.v1 import notification_service_pb2 as pb


async def test_get_unread_count_when_notified_goes_up_and_down_on_mark_read(stub, user_a):
    first = await notify(stub, user_a)
    await notify(stub, user_a)
    count = await stub.GetUnreadCount(pb.GetUnreadCountRequest(user_id=str(user_a)), **as_user(user_a))
    assert count.unread_count == 2
    marked = await stub.MarkRead(
        pb.MarkReadRequest(user_id=str(user_a), notification_ids=[first.notification.id]),
        **as_user(user_a),
    )
    assert (marked.marked_count, marked.unread_count) == (1, 1)
