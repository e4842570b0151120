"""Database fixtures for the whole suite (a pytest plugin, see tests/conftest.py).

One embedded PostgreSQL per test run, in a temporary directory. The migrations and the
seed are applied ONCE, to a template database; each test that asks for ``database`` gets a
fresh copy of it (``CREATE DATABASE ... TEMPLATE``, a file copy) and it is dropped after
the test. Roles are cluster-wide and already exist in every copy.

    async def test_something(database):
        conn = await asyncpg.connect(database.admin_dsn)          # superuser, owner
        pool = await create_pool(database.dsn_for("risk_service"))  # a service's role
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from servicekit.db.dsn import service_dsn, with_database
from servicekit.db.embedded import start_embedded, stop_embedded
from servicekit.db.migrate import migrate

TEMPLATE_DATABASE = "migrated_template"

# A throw-away cluster need not survive a crash; this makes database copies and
# migrations several times faster on slow disks.
_TEST_CLUSTER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class ClonedDatabase:
    """A database of its own for one test: name, admin URL and per-role URLs."""

    name: str
    admin_dsn: str

    def dsn_for(self, role: str) -> str:
        """The URL of this database logged in as ``role`` (e.g. ``"risk_service"``)."""
        return service_dsn(self.admin_dsn, role)


@dataclass(frozen=True)
class EmbeddedCluster:
    """The run's PostgreSQL server; ``admin_dsn`` points at its ``postgres`` database."""

    admin_dsn: str
    data_dir: Path

    def dsn(self, database: str) -> str:
        return with_database(self.admin_dsn, database)

    async def create_database(self, name: str, *, template: str | None = None) -> ClonedDatabase:
        """Create ``name`` (empty, or a copy of ``template``) and return its handle."""
        # FILE_COPY copies the template's files; with fsync off it is several times faster
        # than the default WAL_LOG strategy for a small database.
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"{clause}')
        finally:
            await conn.close()
        return ClonedDatabase(name=name, admin_dsn=self.dsn(name))

    async def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever connections a test left open."""
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def unique_database_name(prefix: str = "test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def embedded_cluster() -> Iterator[EmbeddedCluster]:
    """The run's embedded PostgreSQL, deleted when the run ends."""
    # Not under pytest's basetemp: another pytest run on the machine prunes old basetemps,
    # which would pull the data directory from under a running server.
    data_dir = Path(tempfile.mkdtemp(prefix="trading-tests-pg-")) / "data"
    admin_dsn = start_embedded(data_dir, cleanup_mode="delete")
    yield EmbeddedCluster(admin_dsn=admin_dsn, data_dir=data_dir)
    stop_embedded(data_dir)
    shutil.rmtree(data_dir.parent, ignore_errors=True)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def migrated_template(embedded_cluster: EmbeddedCluster) -> str:
    """The name of a database with every migration and the seed applied (once per run)."""
    conn = await asyncpg.connect(embedded_cluster.admin_dsn)
    try:
        for name, value in _TEST_CLUSTER_SETTINGS.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    template = await embedded_cluster.create_database(TEMPLATE_DATABASE)
    await migrate(template.admin_dsn, seed=True)
    conn = await asyncpg.connect(embedded_cluster.admin_dsn)
    try:
        # Nobody may connect to the template by accident: a copy fails while it is in use.
        await conn.execute(
            f'ALTER DATABASE "{TEMPLATE_DATABASE}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'
        )
    finally:
        await conn.close()
    return TEMPLATE_DATABASE


@pytest_asyncio.fixture(loop_scope="session")
async def database(
    embedded_cluster: EmbeddedCluster, migrated_template: str
) -> AsyncIterator[ClonedDatabase]:
    """A fresh, migrated and seeded database for this test only."""
    cloned = await embedded_cluster.create_database(
        unique_database_name(), template=migrated_template
    )
    try:
        yield cloned
    finally:
        await embedded_cluster.drop_database(cloned.name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_database(
    embedded_cluster: EmbeddedCluster, migrated_template: str
) -> AsyncIterator[ClonedDatabase]:
    """One migrated copy shared by the run's READ-ONLY tests (catalog checks, statements in
    transactions that are rolled back): no copy per test. A test that writes or commits
    anything uses ``database`` instead."""
    cloned = await embedded_cluster.create_database(
        unique_database_name("shared"), template=migrated_template
    )
    try:
        yield cloned
    finally:
        await embedded_cluster.drop_database(cloned.name)


@pytest_asyncio.fixture(loop_scope="session")
async def empty_database(embedded_cluster: EmbeddedCluster) -> AsyncIterator[ClonedDatabase]:
    """A database with nothing applied (the cluster's roles exist, as they are global)."""
    created = await embedded_cluster.create_database(unique_database_name("empty"))
    try:
        yield created
    finally:
        await embedded_cluster.drop_database(created.name)
