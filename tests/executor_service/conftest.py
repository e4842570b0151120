"""Fixtures of the executor's tests: the executor on port 0 with a scriptable risk stand-in."""

from __future__ import annotations

import pytest

from executor_service.config import ExecutorSettings
from executor_service.server import build
from tests.executor_service.fake_risk import start_fake_risk
from tests.testkit.services import channel_to, start_service
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc

CREDENTIALS_KEY = "x1dA3bWZr6cJv1xY8mK2Qh3b7cV5nL0pR9sT4uW6yZ0="


@pytest.fixture
async def fake_risk():
    server, port, fake = await start_fake_risk()
    fake.port = port
    yield fake
    await server.stop(0)


@pytest.fixture
async def executor(database, fake_risk):
    """The executor service (bots off) against the test database and the fake risk."""
    async with start_service(
        ExecutorSettings,
        database,
        name="executor",
        role="executor_service",
        build=build,
        run_bots=False,
        risk_address=f"127.0.0.1:{fake_risk.port}",
        notification_address="127.0.0.1:1",
        credentials_key=CREDENTIALS_KEY,
        performance_refresh_seconds=0.2,
    ) as app:
        yield app


@pytest.fixture
async def stub(executor):
    channel = channel_to(executor)
    yield pb_grpc.ExecutorServiceStub(channel)
    await channel.close()
