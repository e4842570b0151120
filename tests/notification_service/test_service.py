"""NotificationService through the real gRPC server and database."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from google.protobuf.field_mask_pb2 import FieldMask

from tests.notification_service.conftest import as_service, as_user, notify
from trading.notification.v1 import notification_service_pb2 as pb
from trading.types.v1 import types_pb2


async def unread(stub, user_id) -> int:
    reply = await stub.GetUnreadCount(
        pb.GetUnreadCountRequest(user_id=str(user_id)), **as_user(user_id)
    )
    return reply.unread_count


async def stored_rows(database, user_id) -> int:
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        return await conn.fetchval(
            "select count(*) from public.user_notifications where user_id = $1", user_id
        )
    finally:
        await conn.close()


async def list_all(
    stub, user_id, *, limit: int, unread_only: bool = False
) -> list[pb.Notification]:
    """Every page of the feed, following next_cursor to the end."""
    collected: list[pb.Notification] = []
    cursor = ""
    while True:
        page = await stub.ListNotifications(
            pb.ListNotificationsRequest(
                user_id=str(user_id), limit=limit, cursor=cursor, unread_only=unread_only
            ),
            **as_user(user_id),
        )
        assert len(page.notifications) <= limit
        collected.extend(page.notifications)
        if not page.next_cursor:
            return collected
        cursor = page.next_cursor


async def set_preferences(stub, user_id, paths: list[str], **values) -> pb.NotificationPreferences:
    reply = await stub.UpdatePreferences(
        pb.UpdatePreferencesRequest(
            user_id=str(user_id),
            preferences=pb.NotificationPreferences(**values),
            update_mask=FieldMask(paths=paths),
        ),
        **as_user(user_id),
    )
    return reply.preferences


# -- the seed's calls ------------------------------------------------------------------


async def test_notify_trade_executed_when_buy_fill_stores_title_written_for_people(stub, user_a):
    strategy_id = str(uuid.uuid4())
    reply = await stub.NotifyTradeExecuted(
        pb.NotifyTradeExecutedRequest(
            user_id=str(user_a),
            idempotency_key="fill:order-1:1",
            strategy_id=strategy_id,
            strategy_name="My DCA Strategy",
            fill=types_pb2.Fill(
                client_order_id="order-1",
                symbol="BTC/USD",
                side=types_pb2.SIDE_BUY,
                quantity="0.50000000",
                price="42000",
                fee="10.50",
            ),
        ),
        **as_service(),
    )
    assert reply.outcome == pb.NOTIFY_OUTCOME_STORED
    note = reply.notification
    assert note.title == "Bought 0.5 BTC at $42,000.00 — My DCA Strategy"
    assert note.type == pb.NOTIFICATION_TYPE_TRADE_EXECUTED
    assert note.strategy_id == strategy_id
    assert note.data["price"] == "42000" and note.data["side"] == "buy"
    assert not note.read and not note.critical


async def test_notify_risk_event_when_stop_loss_paused_strategy_stores_critical(stub, user_a):
    reply = await stub.NotifyRiskEvent(
        pb.NotifyRiskEventRequest(
            user_id=str(user_a),
            idempotency_key="risk:evt-1",
            strategy_name="My DCA Strategy",
            event_type="stop_loss_triggered",
            event_data={"loss_pct": "5.2", "limit_pct": "5"},
            action_taken=pb.RISK_ACTION_STRATEGY_PAUSED,
        ),
        **as_service(),
    )
    note = reply.notification
    assert note.title == "Strategy paused automatically — My DCA Strategy"
    assert note.body.startswith("Stop loss triggered (loss 5.2%, limit 5%).")
    assert note.type == pb.NOTIFICATION_TYPE_STRATEGY_PAUSED
    assert note.severity == pb.NOTIFICATION_SEVERITY_CRITICAL and note.critical


async def test_notify_backtest_completed_when_succeeded_stores_headline_figures(stub, user_a):
    reply = await stub.NotifyBacktestCompleted(
        pb.NotifyBacktestCompletedRequest(
            user_id=str(user_a),
            idempotency_key="backtest:b-1",
            backtest_id="b-1",
            strategy_name="Grid ETH",
            outcome=pb.BACKTEST_OUTCOME_SUCCEEDED,
            total_return_pct="12.345",
            sharpe_ratio="1.456",
            max_drawdown_pct="8.2",
            total_trades=42,
        ),
        **as_service(),
    )
    note = reply.notification
    assert note.title == "Backtest finished — Grid ETH"
    assert note.body == "Return +12.34%, Sharpe 1.46, max drawdown 8.20%, 42 trades."
    assert note.type == pb.NOTIFICATION_TYPE_BACKTEST_COMPLETED


# -- unread count, mark read -----------------------------------------------------------


async def test_get_unread_count_when_notified_goes_up_and_down_on_mark_read(stub, user_a):
    assert await unread(stub, user_a) == 0
    first = await notify(stub, user_a)
    await notify(stub, user_a)
    assert await unread(stub, user_a) == 2
    marked = await stub.MarkRead(
        pb.MarkReadRequest(user_id=str(user_a), notification_ids=[first.notification.id]),
        **as_user(user_a),
    )
    assert (marked.marked_count, marked.unread_count) == (1, 1)
    assert await unread(stub, user_a) == 1


async def test_mark_read_when_all_marks_every_unread_and_repeating_changes_nothing(stub, user_a):
    for _ in range(3):
        await notify(stub, user_a)
    request = pb.MarkReadRequest(user_id=str(user_a), all=True)
    first = await stub.MarkRead(request, **as_user(user_a))
    again = await stub.MarkRead(request, **as_user(user_a))
    assert (first.marked_count, first.unread_count) == (3, 0)
    assert (again.marked_count, again.unread_count) == (0, 0)
    feed = await list_all(stub, user_a, limit=10)
    assert all(note.read and note.HasField("read_at") for note in feed)


# -- listing ---------------------------------------------------------------------------


async def test_list_notifications_when_paging_returns_every_notification_once_newest_first(
    stub, database, user_a
):
    sent = [(await notify(stub, user_a)).notification.id for _ in range(7)]
    # Rows sharing one created_at: the cursor must still split them without loss.
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        await conn.execute(
            "insert into public.user_notifications "
            "(user_id, type, severity, title, idempotency_key, created_at) "
            "select $1, 'system', 'info', 'tie ' || n, 'tie:' || n, "
            "       '2026-01-01T00:00:00Z'::timestamptz from generate_series(1, 6) n",
            user_a,
        )
    finally:
        await conn.close()
    feed = await list_all(stub, user_a, limit=4)
    ids = [note.id for note in feed]
    assert len(ids) == len(set(ids)) == 13
    assert set(sent) <= set(ids)
    assert ids[:7] == list(reversed(sent))
    keys = [(note.created_at.ToDatetime(), note.id) for note in feed]
    assert keys == sorted(keys, reverse=True)


async def test_list_notifications_when_unread_only_skips_read_ones(stub, user_a):
    notes = [(await notify(stub, user_a)).notification.id for _ in range(5)]
    await stub.MarkRead(
        pb.MarkReadRequest(user_id=str(user_a), notification_ids=notes[1:3]), **as_user(user_a)
    )
    feed = await list_all(stub, user_a, limit=2, unread_only=True)
    assert [note.id for note in feed] == [notes[4], notes[3], notes[0]]


async def test_list_notifications_when_limit_unset_uses_default_page(stub, user_a):
    await notify(stub, user_a)
    page = await stub.ListNotifications(
        pb.ListNotificationsRequest(user_id=str(user_a)), **as_user(user_a)
    )
    assert len(page.notifications) == 1 and page.next_cursor == ""


# -- preferences: muted and critical ---------------------------------------------------


async def test_notify_when_type_muted_is_not_stored(stub, database, user_a):
    await set_preferences(stub, user_a, ["muted_types"], muted_types=[pb.NOTIFICATION_TYPE_SYSTEM])
    muted = await notify(stub, user_a, type=pb.NOTIFICATION_TYPE_SYSTEM)
    kept = await notify(stub, user_a, type=pb.NOTIFICATION_TYPE_ORDER_FAILED)
    assert muted.outcome == pb.NOTIFY_OUTCOME_MUTED and not muted.HasField("notification")
    assert kept.outcome == pb.NOTIFY_OUTCOME_STORED
    assert await stored_rows(database, user_a) == 1


async def test_notify_when_everything_muted_still_stores_critical_types(stub, database, user_a):
    await set_preferences(
        stub,
        user_a,
        ["notifications_enabled", "muted_types"],
        notifications_enabled=False,
        muted_types=[pb.NOTIFICATION_TYPE_STRATEGY_PAUSED, pb.NOTIFICATION_TYPE_KILL_SWITCH],
    )
    trade = await notify(stub, user_a, type=pb.NOTIFICATION_TYPE_TRADE_EXECUTED)
    kill = await stub.NotifyRiskEvent(
        pb.NotifyRiskEventRequest(
            user_id=str(user_a),
            idempotency_key="risk:kill-1",
            event_type="kill_switch_activated",
            action_taken=pb.RISK_ACTION_KILL_SWITCH_ENGAGED,
        ),
        **as_service(),
    )
    paused = await notify(stub, user_a, type=pb.NOTIFICATION_TYPE_STRATEGY_PAUSED)
    assert trade.outcome == pb.NOTIFY_OUTCOME_MUTED
    assert kill.outcome == pb.NOTIFY_OUTCOME_STORED
    assert kill.notification.type == pb.NOTIFICATION_TYPE_KILL_SWITCH
    assert paused.outcome == pb.NOTIFY_OUTCOME_STORED
    assert await stored_rows(database, user_a) == 2


async def test_update_preferences_when_secret_written_never_reads_it_back(stub, user_a):
    saved = await set_preferences(
        stub,
        user_a,
        ["channels", "webhook_url", "webhook_secret"],
        channels=[pb.CHANNEL_WEBHOOK],
        webhook_url="https://example.test/hook",
        webhook_secret="s" * 32,
    )
    read = await stub.GetPreferences(
        pb.GetPreferencesRequest(user_id=str(user_a)), **as_user(user_a)
    )
    for preferences in (saved, read.preferences):
        assert preferences.webhook_secret == "" and preferences.webhook_secret_set
        assert list(preferences.channels) == [pb.CHANNEL_WEBHOOK]
        assert preferences.notifications_enabled  # untouched by the mask


# -- idempotency -----------------------------------------------------------------------


async def test_notify_when_same_idempotency_key_twice_stores_one_row(stub, database, user_a):
    first = await notify(stub, user_a, key="event-42")
    second = await notify(stub, user_a, key="event-42", title="A different title")
    assert first.outcome == pb.NOTIFY_OUTCOME_STORED
    assert second.outcome == pb.NOTIFY_OUTCOME_DUPLICATE
    assert second.notification.id == first.notification.id
    assert second.notification.title == first.notification.title
    assert await stored_rows(database, user_a) == 1


async def test_notify_when_same_key_sent_concurrently_stores_one_row(stub, database, user_a):
    replies = await asyncio.gather(*(notify(stub, user_a, key="burst") for _ in range(8)))
    assert len({reply.notification.id for reply in replies}) == 1
    assert [reply.outcome for reply in replies].count(pb.NOTIFY_OUTCOME_STORED) == 1
    assert await stored_rows(database, user_a) == 1


async def test_notify_when_same_key_for_two_users_stores_one_each(stub, database, user_a, user_b):
    await notify(stub, user_a, key="shared-key")
    await notify(stub, user_b, key="shared-key")
    assert await stored_rows(database, user_a) == 1
    assert await stored_rows(database, user_b) == 1


async def test_delete_notifications_when_deleted_hidden_and_late_duplicate_not_restored(
    stub, user_a
):
    kept = await notify(stub, user_a)
    gone = await notify(stub, user_a, key="event-7")
    deleted = await stub.DeleteNotifications(
        pb.DeleteNotificationsRequest(user_id=str(user_a), notification_ids=[gone.notification.id]),
        **as_user(user_a),
    )
    late = await notify(stub, user_a, key="event-7")
    feed = await list_all(stub, user_a, limit=10)
    assert deleted.deleted_count == 1
    assert late.outcome == pb.NOTIFY_OUTCOME_DUPLICATE
    assert [note.id for note in feed] == [kept.notification.id]
    assert await unread(stub, user_a) == 1
    everything = await stub.DeleteNotifications(
        pb.DeleteNotificationsRequest(user_id=str(user_a), all=True), **as_user(user_a)
    )
    assert everything.deleted_count == 1 and await unread(stub, user_a) == 0


# -- another user's notifications --------------------------------------------------------


async def test_another_users_notifications_are_never_returned_or_marked(stub, user_a, user_b):
    a_ids = [(await notify(stub, user_a)).notification.id for _ in range(3)]
    await notify(stub, user_b)
    b_feed = await list_all(stub, user_b, limit=10)
    marked = await stub.MarkRead(
        pb.MarkReadRequest(user_id=str(user_b), notification_ids=a_ids), **as_user(user_b)
    )
    deleted = await stub.DeleteNotifications(
        pb.DeleteNotificationsRequest(user_id=str(user_b), notification_ids=a_ids),
        **as_user(user_b),
    )
    assert not set(a_ids) & {note.id for note in b_feed}
    assert all(note.user_id == str(user_b) for note in b_feed)
    assert marked.marked_count == 0 and deleted.deleted_count == 0
    assert await unread(stub, user_a) == 3
