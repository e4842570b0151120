"""Helpers of the delivery tests: switch channels on, read the outbox as the admin."""

from __future__ import annotations

import asyncio

import asyncpg
from google.protobuf.field_mask_pb2 import FieldMask

from tests.notification_service.conftest import as_user
from trading.notification.v1 import notification_service_pb2 as pb

WEBHOOK_SECRET = "whsec-test-0123456789abcdef"


async def enable_channels(stub, user_id, *, webhook_url: str = "", email: str = "") -> None:
    channels, paths = [], ["channels"]
    if webhook_url:
        channels.append(pb.CHANNEL_WEBHOOK)
        paths += ["webhook_url", "webhook_secret"]
    if email:
        channels.append(pb.CHANNEL_EMAIL)
        paths.append("email_address")
    await stub.UpdatePreferences(
        pb.UpdatePreferencesRequest(
            user_id=str(user_id),
            preferences=pb.NotificationPreferences(
                channels=channels,
                webhook_url=webhook_url,
                webhook_secret=WEBHOOK_SECRET,
                email_address=email,
            ),
            update_mask=FieldMask(paths=paths),
        ),
        **as_user(user_id),
    )


async def deliveries(database, notification_id: str) -> dict[str, asyncpg.Record]:
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        rows = await conn.fetch(
            "select channel, status, attempts, last_error from public.notification_deliveries "
            "where notification_id = $1",
            notification_id,
        )
    finally:
        await conn.close()
    return {row["channel"]: row for row in rows}


async def wait_until_settled(database, notification_id: str, timeout: float = 10.0):
    """The delivery rows once none is pending any more."""
    async with asyncio.timeout(timeout):
        while True:
            rows = await deliveries(database, notification_id)
            if rows and all(row["status"] != "pending" for row in rows.values()):
                return rows
            await asyncio.sleep(0.05)
