"""The migration runner: bootstrap, then pending migrations in order, once each.

Applies ``supabase/bootstrap.sql`` (Supabase's roles and ``auth`` where missing), then
every ``supabase/migrations/<version>_<name>.sql`` not yet recorded, in version order,
each in its own transaction, recording ``version``, ``name`` and ``statements`` in
``supabase_migrations.schema_migrations`` exactly as the Supabase CLI does, so
``supabase migration list`` / ``db push`` agree with this runner on a Supabase project.
A failing file is rolled back and stops the run with one line naming the file.

    python -m servicekit.db.migrate [--seed] [--database-url URL] [--supabase-dir DIR]

Without ``--database-url`` it uses ``DATABASE_URL`` or, when unset, the embedded
PostgreSQL in ``PGSERVER_DATA_DIR`` (default ``.data/postgres``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from servicekit.db.dsn import redact_dsn
from servicekit.db.embedded import DEFAULT_DATA_DIR, resolve_database_url
from servicekit.db.errors import (
    CONNECT_ERRORS,
    DatabaseSetupError,
    DatabaseUnavailable,
    MigrationFailed,
    one_line,
)
from servicekit.db.statements import SqlStatement, read_statements

logger = logging.getLogger(__name__)

DEFAULT_SUPABASE_DIR = Path(__file__).resolve().parents[2] / "supabase"
MIGRATION_FILE_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")

# The Supabase CLI's own statements (pkg/migration/history.go), so the table has the same
# shape whichever tool created it.
_CREATE_HISTORY_TABLE = (
    "CREATE SCHEMA IF NOT EXISTS supabase_migrations",
    "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations"
    " (version text NOT NULL PRIMARY KEY)",
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[]",
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text",
)
_INSERT_VERSION = (
    "INSERT INTO supabase_migrations.schema_migrations(version, name, statements)"
    " VALUES($1, $2, $3)"
)
_LIST_VERSIONS = "SELECT version FROM supabase_migrations.schema_migrations ORDER BY version"
# Two runners against one database wait for each other instead of racing.
_RUNNER_LOCK_KEY = 7_261_124_000


@dataclass(frozen=True)
class MigrationFile:
    """``<version>_<name>.sql`` in the migrations directory."""

    version: str
    name: str
    path: Path

    def statements(self) -> list[SqlStatement]:
        return read_statements(self.path)


@dataclass(frozen=True)
class MigrationReport:
    """What one run did: the files applied (already-applied ones are not listed)."""

    applied: tuple[MigrationFile, ...]
    seeded: bool


def discover_migrations(migrations_dir: Path) -> list[MigrationFile]:
    """The migration files in ``migrations_dir`` in the order they apply: by file name,
    as the Supabase CLI orders them (versions are fixed-width timestamps)."""
    found: dict[str, MigrationFile] = {}
    for path in sorted(migrations_dir.glob("*.sql")):
        match = MIGRATION_FILE_NAME.match(path.name)
        if match is None:
            logger.warning("skipping %s: not named <version>_<name>.sql", path.name)
            continue
        version, name = match.groups()
        if version in found:
            raise MigrationFailed(
                f"migrations {found[version].path.name} and {path.name} share version {version}"
            )
        found[version] = MigrationFile(version=version, name=name, path=path)
    return list(found.values())


async def _execute_file(
    conn: asyncpg.Connection, label: str, statements: Sequence[SqlStatement]
) -> None:
    """Run the statements of one file; the caller holds the transaction."""
    for number, statement in enumerate(statements, start=1):
        if not statement.executable:
            continue
        try:
            await conn.execute(statement.text)
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            raise MigrationFailed(
                f"{label} failed at statement {number} (line {statement.line}), rolled back: "
                f"{type(error).__name__}: {one_line(str(error))}"
            ) from error


async def apply_sql_file(conn: asyncpg.Connection, path: Path, label: str) -> None:
    """Apply a file that is not recorded (bootstrap, seed) in one transaction."""
    async with conn.transaction():
        await _execute_file(conn, f"{label} {path.name}", read_statements(path))


async def applied_versions(conn: asyncpg.Connection) -> set[str]:
    """Versions recorded in ``supabase_migrations.schema_migrations``."""
    return {row["version"] for row in await conn.fetch(_LIST_VERSIONS)}


async def apply_migration(conn: asyncpg.Connection, migration: MigrationFile) -> None:
    """Apply one migration and record it, in one transaction."""
    statements = migration.statements()
    async with conn.transaction():
        await _execute_file(conn, f"migration {migration.path.name}", statements)
        await conn.execute(
            _INSERT_VERSION, migration.version, migration.name, [s.text for s in statements]
        )


async def migrate_connection(
    conn: asyncpg.Connection, supabase_dir: Path = DEFAULT_SUPABASE_DIR, *, seed: bool = False
) -> MigrationReport:
    """Bootstrap, apply pending migrations and optionally the seed, on an open connection."""
    migrations = discover_migrations(supabase_dir / "migrations")
    await conn.execute("SELECT pg_advisory_lock($1)", _RUNNER_LOCK_KEY)
    try:
        for statement in _CREATE_HISTORY_TABLE:
            await conn.execute(statement)
        await apply_sql_file(conn, supabase_dir / "bootstrap.sql", "bootstrap")
        done = await applied_versions(conn)
        applied = []
        for migration in migrations:
            if migration.version in done:
                continue
            await apply_migration(conn, migration)
            logger.info("applied migration %s", migration.path.name)
            applied.append(migration)
        if seed:
            await apply_sql_file(conn, supabase_dir / "seed.sql", "seed")
        return MigrationReport(applied=tuple(applied), seeded=seed)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _RUNNER_LOCK_KEY)


async def migrate(
    database_url: str, supabase_dir: Path = DEFAULT_SUPABASE_DIR, *, seed: bool = False
) -> MigrationReport:
    """Connect to ``database_url`` (as the migration user) and bring it up to date."""
    try:
        conn = await asyncpg.connect(database_url, timeout=10)
    except CONNECT_ERRORS as error:
        raise DatabaseUnavailable(
            f"cannot connect to {redact_dsn(database_url)} to migrate: "
            f"{type(error).__name__}: {one_line(str(error))}"
        ) from error
    try:
        return await migrate_connection(conn, supabase_dir, seed=seed)
    finally:
        await conn.close()


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.db.migrate",
        description="Apply supabase/bootstrap.sql and pending supabase/migrations in order.",
    )
    parser.add_argument("--seed", action="store_true", help="also apply supabase/seed.sql")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="admin URL (default: $DATABASE_URL, else the embedded PostgreSQL)",
    )
    parser.add_argument(
        "--supabase-dir", type=Path, default=DEFAULT_SUPABASE_DIR, help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the process exit status."""
    arguments = _parse_arguments(argv)
    try:
        database_url = resolve_database_url(
            arguments.database_url, os.environ.get("PGSERVER_DATA_DIR") or DEFAULT_DATA_DIR
        )
        report = asyncio.run(migrate(database_url, arguments.supabase_dir, seed=arguments.seed))
    except DatabaseSetupError as error:
        print(f"migrate: {error}", file=sys.stderr)
        return 1
    for migration in report.applied:
        print(f"applied {migration.path.name}")
    if not report.applied:
        print("no pending migrations")
    if report.seeded:
        print("applied seed.sql")
    return 0


if __name__ == "__main__":
    sys.exit(main())
