"""Admin connections for the database tests."""

from __future__ import annotations

import asyncpg
import pytest


@pytest.fixture
async def admin(database):
    """The migration user on this test's own database (write freely)."""
    conn = await asyncpg.connect(database.admin_dsn)
    yield conn
    await conn.close()


@pytest.fixture
async def shared_admin(shared_database):
    """The migration user on the run's shared database: read, or roll back what you do."""
    conn = await asyncpg.connect(shared_database.admin_dsn)
    yield conn
    await conn.close()
