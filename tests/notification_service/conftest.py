"""Fixtures of the notification service's tests: a real server on port 0, its stub."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from notification_service.config import NotificationSettings
from notification_service.server import build
from servicekit.server import ServiceApp
from tests.testkit.services import channel_to, service_metadata, start_service, user_metadata
from trading.notification.v1 import notification_service_pb2 as pb
from trading.notification.v1 import notification_service_pb2_grpc as pb_grpc

# Fast retries and polling, so webhook/email tests finish in well under a second.
FAST_DELIVERY = {
    "delivery_base_delay_seconds": 0.05,
    "delivery_max_delay_seconds": 0.2,
    "delivery_poll_interval_seconds": 0.1,
    "stream_heartbeat_seconds": 5.0,
}

TIMEOUT = 5.0


@contextlib.asynccontextmanager
async def notification_service(database, **overrides) -> AsyncIterator[ServiceApp]:
    """A real notification service on 127.0.0.1:0 against ``database``."""
    async with start_service(
        NotificationSettings,
        database,
        name="notification",
        role="notification_service",
        build=build,
        **{**FAST_DELIVERY, **overrides},
    ) as app:
        yield app


@contextlib.asynccontextmanager
async def stub_for(app: ServiceApp) -> AsyncIterator[pb_grpc.NotificationServiceStub]:
    async with channel_to(app) as channel:
        yield pb_grpc.NotificationServiceStub(channel)


@pytest.fixture
async def app(database) -> AsyncIterator[ServiceApp]:
    async with notification_service(database) as running:
        yield running


@pytest.fixture
async def stub(app) -> AsyncIterator[pb_grpc.NotificationServiceStub]:
    async with stub_for(app) as client:
        yield client


def as_service():
    """Call options of another service (service_role token)."""
    return {"metadata": service_metadata(), "timeout": TIMEOUT}


def as_user(user_id: uuid.UUID):
    """Call options of a signed-in user."""
    return {"metadata": user_metadata(user_id), "timeout": TIMEOUT}


async def notify(stub, user_id, key: str | None = None, **fields) -> pb.NotifyResponse:
    """A general notification for ``user_id`` sent by a service."""
    request = pb.NotifyRequest(
        user_id=str(user_id),
        idempotency_key=key or f"test:{uuid.uuid4()}",
        type=fields.pop("type", pb.NOTIFICATION_TYPE_SYSTEM),
        title=fields.pop("title", "Maintenance tonight"),
        body=fields.pop("body", "The exchange connection restarts at 02:00 UTC."),
        **fields,
    )
    return await stub.Notify(request, **as_service())


async def terminate_listener(database) -> int:
    """Kill the live feeds' LISTEN connections (as a network fault would); how many."""
    admin = await asyncpg.connect(database.admin_dsn)
    try:
        return await admin.fetchval(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity "
            "where datname = current_database() and usename = 'notification_service' "
            "and query ilike 'listen%'"
        )
    finally:
        await admin.close()
