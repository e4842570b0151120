"""The migration runner: order, once-only, rollback, the CLI's history table, the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from servicekit.db.errors import MigrationFailed
from servicekit.db.migrate import DEFAULT_SUPABASE_DIR, discover_migrations, migrate
from servicekit.db.statements import read_statements

HISTORY = "select version, name, statements from supabase_migrations.schema_migrations"


async def fetch_all(dsn: str, query: str) -> list[dict]:
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(row) for row in await conn.fetch(query)]
    finally:
        await conn.close()


@pytest.fixture
def scratch_supabase_dir(tmp_path: Path) -> Path:
    """A supabase/ directory with the real bootstrap and migrations the test writes."""
    (tmp_path / "migrations").mkdir()
    shutil.copy(DEFAULT_SUPABASE_DIR / "bootstrap.sql", tmp_path / "bootstrap.sql")
    (tmp_path / "seed.sql").write_text("")
    return tmp_path


async def test_migrate_when_database_empty_applies_every_file_in_order(empty_database):
    report = await migrate(empty_database.admin_dsn)

    files = discover_migrations(DEFAULT_SUPABASE_DIR / "migrations")
    assert [m.version for m in report.applied] == [m.version for m in files]
    rows = await fetch_all(empty_database.admin_dsn, HISTORY + " order by version")
    assert rows == [
        {
            "version": m.version,
            "name": m.name,
            "statements": [s.text for s in read_statements(m.path)],
        }
        for m in files
    ]


async def test_migrate_when_run_again_changes_nothing(database):
    before = await fetch_all(database.admin_dsn, HISTORY + " order by version")

    report = await migrate(database.admin_dsn)

    assert report.applied == ()
    assert await fetch_all(database.admin_dsn, HISTORY + " order by version") == before
    assert len(before) == len(discover_migrations(DEFAULT_SUPABASE_DIR / "migrations"))


async def test_migrate_when_history_table_created_has_the_supabase_cli_shape(database):
    columns = await fetch_all(
        database.admin_dsn,
        "select column_name, data_type, is_nullable from information_schema.columns"
        " where table_schema = 'supabase_migrations' and table_name = 'schema_migrations'"
        " order by ordinal_position",
    )
    assert columns == [
        {"column_name": "version", "data_type": "text", "is_nullable": "NO"},
        {"column_name": "statements", "data_type": "ARRAY", "is_nullable": "YES"},
        {"column_name": "name", "data_type": "text", "is_nullable": "YES"},
    ]
    primary_key = await fetch_all(
        database.admin_dsn,
        "select a.attname from pg_index i join pg_attribute a"
        " on a.attrelid = i.indrelid and a.attnum = any(i.indkey)"
        " where i.indrelid = 'supabase_migrations.schema_migrations'::regclass"
        " and i.indisprimary",
    )
    assert primary_key == [{"attname": "version"}]


async def test_migrate_when_a_file_fails_rolls_it_back_and_stops(
    empty_database, scratch_supabase_dir
):
    migrations = scratch_supabase_dir / "migrations"
    (migrations / "20990101000001_good.sql").write_text("create table public.good (id int);\n")
    (migrations / "20990101000002_bad.sql").write_text(
        "create table public.half_done (id int);\nselect * from no_such_table;\n"
    )
    (migrations / "20990101000003_after.sql").write_text("create table public.after (id int);\n")

    with pytest.raises(MigrationFailed) as failure:
        await migrate(empty_database.admin_dsn, scratch_supabase_dir)

    message = str(failure.value)
    assert "20990101000002_bad.sql" in message
    assert "statement 2 (line 2)" in message
    assert "no_such_table" in message
    assert "\n" not in message
    tables = await fetch_all(
        empty_database.admin_dsn,
        "select relname from pg_class where relnamespace = 'public'::regnamespace"
        " and relkind = 'r' order by relname",
    )
    assert tables == [{"relname": "good"}]
    versions = await fetch_all(
        empty_database.admin_dsn, "select version from supabase_migrations.schema_migrations"
    )
    assert versions == [{"version": "20990101000001"}]


async def test_migrate_when_a_new_file_appears_applies_only_that_file(
    empty_database, scratch_supabase_dir
):
    migrations = scratch_supabase_dir / "migrations"
    (migrations / "20990101000001_first.sql").write_text("create table public.first (id int);")
    await migrate(empty_database.admin_dsn, scratch_supabase_dir)
    (migrations / "20990101000002_second.sql").write_text(
        "create table public.second (id int);\ninsert into public.first values (1);"
    )

    report = await migrate(empty_database.admin_dsn, scratch_supabase_dir)

    assert [m.path.name for m in report.applied] == ["20990101000002_second.sql"]
    rows = await fetch_all(empty_database.admin_dsn, "select id from public.first")
    assert rows == [{"id": 1}]


def test_discover_when_two_files_share_a_version_refuses(tmp_path: Path):
    (tmp_path / "20990101000001_a.sql").write_text("")
    (tmp_path / "20990101000001_b.sql").write_text("")
    (tmp_path / "notes.sql").write_text("")  # not a migration name: skipped

    with pytest.raises(MigrationFailed, match="share version 20990101000001"):
        discover_migrations(tmp_path)


async def test_migrate_when_seed_applied_twice_changes_no_row_counts(database):
    # Row counts of every table in public and of auth.users, read from the catalog.
    tables = await fetch_all(
        database.admin_dsn,
        "select relname from pg_class where relnamespace = 'public'::regnamespace"
        " and relkind in ('r', 'p') order by relname",
    )
    counts = "select " + ", ".join(
        [f'(select count(*) from public."{t["relname"]}") as "{t["relname"]}"' for t in tables]
        + ["(select count(*) from auth.users) as auth_users"]
    )
    before = await fetch_all(database.admin_dsn, counts)
    demo = await fetch_all(
        database.admin_dsn,
        "select email from auth.users where id = '00000000-0000-4000-8000-000000000001'",
    )
    assert demo == [{"email": "demo@example.com"}]

    report = await migrate(database.admin_dsn, seed=True)

    assert report.seeded
    assert await fetch_all(database.admin_dsn, counts) == before


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "servicekit.db.migrate", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_cli_when_database_empty_applies_and_reports_each_file(empty_database):
    result = run_cli("--database-url", empty_database.admin_dsn)

    assert result.returncode == 0, result.stderr
    first = discover_migrations(DEFAULT_SUPABASE_DIR / "migrations")[0]
    assert f"applied {first.path.name}" in result.stdout
    again = run_cli("--database-url", empty_database.admin_dsn)
    assert again.returncode == 0
    assert again.stdout.strip() == "no pending migrations"


def test_cli_when_database_unreachable_exits_with_one_line(tmp_path: Path):
    result = run_cli("--database-url", f"postgresql://postgres:secret@/postgres?host={tmp_path}")

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("migrate: cannot connect to")
    assert "secret" not in lines[0]
