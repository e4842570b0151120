"""Starting real services in-process for tests, and the tokens to call them with."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc

from servicekit.auth import SERVICE_ROLE, mint_token
from servicekit.server import Build, ServiceApp, running_service
from servicekit.settings import ServiceSettings

TEST_JWT_SECRET = "test-jwt-secret-used-only-by-the-test-suite-0123456789"


def settings_for(settings_class: type[ServiceSettings], database, **overrides) -> ServiceSettings:
    """Settings of a service bound to 127.0.0.1:0 on the test's own database."""
    values = {
        "app_env": "local",
        "database_url": database.admin_dsn,
        "jwt_secret": TEST_JWT_SECRET,
        "host": "127.0.0.1",
        "port": 0,
        "shutdown_grace_seconds": 1.0,
        "db_pool_min_size": 1,
        "db_pool_max_size": 5,
        **overrides,
    }
    return settings_class(**values)


@contextlib.asynccontextmanager
async def start_service(
    settings_class: type[ServiceSettings],
    database,
    *,
    name: str,
    role: str,
    build: Build,
    **overrides,
) -> AsyncIterator[ServiceApp]:
    """Run a real service on port 0 against ``database`` for the duration of a test."""
    settings = settings_for(settings_class, database, **overrides)
    async with running_service(settings, name=name, role=role, build=build) as app:
        yield app


def user_token(user_id: uuid.UUID | str, ttl_seconds: int = 3600) -> str:
    return mint_token(TEST_JWT_SECRET, str(user_id), ttl_seconds=ttl_seconds)


def service_token() -> str:
    return mint_token(TEST_JWT_SECRET, "test-service", role=SERVICE_ROLE)


def user_metadata(user_id: uuid.UUID | str) -> tuple[tuple[str, str], ...]:
    """Call metadata of a signed-in user."""
    return (("authorization", f"Bearer {user_token(user_id)}"),)


def service_metadata() -> tuple[tuple[str, str], ...]:
    """Call metadata of another service acting on its own (service_role)."""
    return (("authorization", f"Bearer {service_token()}"),)


def channel_to(app: ServiceApp) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")


async def create_user(database, email: str | None = None) -> uuid.UUID:
    """A new user in auth.users (as Supabase Auth would create on sign-up)."""
    user_id = uuid.uuid4()
    connection = await asyncpg.connect(database.admin_dsn)
    try:
        await connection.execute(
            "insert into auth.users (id, email) values ($1, $2)",
            user_id,
            email or f"{user_id.hex[:12]}@example.test",
        )
    finally:
        await connection.close()
    return user_id
