"""Fixtures of the gateway's tests: the whole platform running, users, an HTTP client."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from tests.gateway.stack import GatewayStack
from tests.testkit.database import ClonedDatabase, unique_database_name
from tests.testkit.services import create_user, user_token


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack_database(embedded_cluster, migrated_template) -> AsyncIterator[ClonedDatabase]:
    """One migrated database for a module's stack (tests isolate by using fresh users)."""
    cloned = await embedded_cluster.create_database(
        unique_database_name("gateway"), template=migrated_template
    )
    try:
        yield cloned
    finally:
        await embedded_cluster.drop_database(cloned.name)


# Module scope, not session: no stack thread may outlive its module, because the
# schemathesis module needs a process without one (see stack_process.py).
@pytest.fixture(scope="module")
def stack(stack_database) -> Iterator[GatewayStack]:
    """Every service and the gateway, running against ``stack_database``."""
    running = GatewayStack(stack_database).start()
    if running.missing:
        # Tests needing these fail on their own; this says why, in the run's summary.
        warnings.warn(f"services not running: {running.missing}", stacklevel=1)
    try:
        yield running
    finally:
        running.stop()


class SignedInUser:
    """A user with a token, and an HTTP client that sends it."""

    def __init__(self, user_id: uuid.UUID, client: httpx.AsyncClient):
        self.id = user_id
        self.client = client


@pytest_asyncio.fixture(loop_scope="session")
async def new_user(stack, stack_database):
    """Make signed-in users: ``alice = await new_user()``."""
    clients: list[httpx.AsyncClient] = []

    async def make() -> SignedInUser:
        user_id = await create_user(stack_database)
        client = httpx.AsyncClient(
            base_url=stack.base_url,
            headers={"Authorization": f"Bearer {user_token(user_id)}"},
            timeout=30.0,
        )
        clients.append(client)
        return SignedInUser(user_id, client)

    yield make
    for client in clients:
        await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def anonymous(stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30.0) as client:
        yield client


@pytest.fixture
def token_for_nobody() -> str:
    """A valid token of a user the database has never seen (for apps with no services)."""
    return user_token(uuid.uuid4())
