"""Email channel: delivered over SMTP to a local server; isolated from the webhook."""

from __future__ import annotations

from tests.notification_service.conftest import notification_service, notify, stub_for
from tests.notification_service.deliveries import enable_channels, wait_until_settled
from tests.notification_service.receivers import smtp_server
from trading.notification.v1 import notification_service_pb2 as pb


async def test_email_when_channel_enabled_is_delivered_to_local_smtp_server(database, user_a):
    async with (
        smtp_server() as mailbox,
        notification_service(
            database,
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_start_tls=False,
            smtp_sender="alerts@trading.test",
        ) as app,
        stub_for(app) as stub,
    ):
        await enable_channels(stub, user_a, email="trader@example.test")
        sent = await notify(
            stub, user_a, type=pb.NOTIFICATION_TYPE_KILL_SWITCH, title="Kill switch engaged"
        )
        await mailbox.wait_for_messages(1)
        rows = await wait_until_settled(database, sent.notification.id)
    [envelope] = mailbox.envelopes
    [message] = mailbox.messages
    assert envelope.rcpt_tos == ["trader@example.test"]
    assert envelope.mail_from == "alerts@trading.test"
    assert message["Subject"] == "[Critical] Kill switch engaged"
    assert message["X-Notification-Id"] == sent.notification.id
    assert "The exchange connection restarts" in message.get_payload()
    assert rows["email"]["status"] == "delivered"


async def test_email_when_webhook_channel_fails_is_still_delivered(database, user_a):
    async with (
        smtp_server() as mailbox,
        notification_service(
            database,
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_start_tls=False,
            delivery_max_attempts=2,
        ) as app,
        stub_for(app) as stub,
    ):
        # Nothing listens on port 9 of the loopback: every webhook attempt fails.
        await enable_channels(
            stub, user_a, webhook_url="http://127.0.0.1:9/hook", email="trader@example.test"
        )
        sent = await notify(stub, user_a)
        rows = await wait_until_settled(database, sent.notification.id)
    assert rows["email"]["status"] == "delivered" and len(mailbox.envelopes) == 1
    assert rows["webhook"]["status"] == "failed"
    assert "unreachable" in rows["webhook"]["last_error"]


async def test_email_when_server_has_no_smtp_records_the_delivery_as_failed(stub, database, user_a):
    await enable_channels(stub, user_a, email="trader@example.test")
    sent = await notify(stub, user_a)
    rows = await wait_until_settled(database, sent.notification.id)
    assert rows["email"]["status"] == "failed"
    assert "not configured" in rows["email"]["last_error"]
