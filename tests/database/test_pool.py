"""servicekit.db.pool and servicekit.db.dsn: role URLs, pools, clear errors, json codecs."""

from __future__ import annotations

from decimal import Decimal, localcontext
from pathlib import Path

import pytest

from servicekit.db.dsn import redact_dsn, service_dsn, with_database
from servicekit.db.errors import DatabaseUnavailable
from servicekit.db.pool import create_pool


def test_service_dsn_when_unix_socket_url_replaces_user_and_keeps_host():
    url = "postgresql://postgres:@/postgres?host=/tmp/pg-abc"

    assert (
        service_dsn(url, "risk_service") == "postgresql://risk_service@/postgres?host=/tmp/pg-abc"
    )


def test_service_dsn_when_tcp_url_with_password_drops_the_password():
    url = "postgresql://postgres:s3cret@db.example.com:5432/postgres?sslmode=require"

    assert (
        service_dsn(url, "executor_service")
        == "postgresql://executor_service@db.example.com:5432/postgres?sslmode=require"
    )


def test_service_dsn_when_user_in_query_replaces_it_there_too():
    url = "postgresql:///postgres?host=/tmp/x&user=postgres&password=pw"

    result = service_dsn(url, "backtest_service")

    assert result == "postgresql://backtest_service@/postgres?host=/tmp/x&user=backtest_service"


def test_service_dsn_when_supabase_pooler_user_keeps_project_suffix():
    url = "postgresql://postgres.abcdefghij:pw@aws-0-eu.pooler.supabase.com:6543/postgres"

    assert service_dsn(url, "risk_service").startswith(
        "postgresql://risk_service.abcdefghij@aws-0-eu.pooler.supabase.com:6543/"
    )


def test_service_dsn_when_not_a_postgres_url_refuses():
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        service_dsn("mysql://root@localhost/db", "risk_service")


def test_with_database_when_socket_url_swaps_only_the_database():
    url = "postgresql://postgres:@/postgres?host=/tmp/x"

    assert with_database(url, "test_1") == "postgresql://postgres:@/test_1?host=/tmp/x"


def test_redact_dsn_when_password_present_hides_it():
    assert (
        redact_dsn("postgresql://u:pw@h/db?password=pw2") == "postgresql://u:***@h/db?password=***"
    )


async def test_create_pool_when_server_unreachable_raises_one_clear_line(tmp_path: Path):
    url = f"postgresql://risk_service:hunter2@/postgres?host={tmp_path}"

    with pytest.raises(DatabaseUnavailable) as failure:
        await create_pool(url, min_size=1, max_size=1, connect_timeout=2)

    message = str(failure.value)
    assert message.startswith("cannot connect to the database at postgresql://risk_service:***@")
    assert "as risk_service" in message
    assert "hunter2" not in message
    assert "\n" not in message


async def test_create_pool_when_role_does_not_exist_raises_database_unavailable(database):
    with pytest.raises(DatabaseUnavailable, match="no_such_role"):
        await create_pool(database.dsn_for("no_such_role"), min_size=1, max_size=1)


async def test_create_pool_when_jsonb_passed_round_trips_python_objects(database):
    pool = await create_pool(database.dsn_for("risk_service"), min_size=1, max_size=1)
    try:
        value = {"limits": [1, 2], "name": "dca", "nested": {"on": True}}
        assert await pool.fetchval("select $1::jsonb", value) == value
        assert await pool.fetchval("select '{\"a\": 1}'::json") == {"a": 1}
        assert await pool.fetchval("select current_user") == "risk_service"
    finally:
        await pool.close()


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("1500.00"),  # scale kept: trailing zeros survive
        Decimal("-0.000000001"),
        Decimal("123456789012345678901234567890.123456789"),  # beyond any float
        Decimal("1E+3"),
        Decimal("0"),
    ],
)
async def test_create_pool_when_numeric_passed_round_trips_exactly(database, amount):
    pool = await create_pool(database.dsn_for("risk_service"), min_size=1, max_size=1)
    try:
        back = await pool.fetchval("select $1::numeric", amount)
        assert back == amount
        assert back.as_tuple().exponent == min(amount.as_tuple().exponent, 0)
        with localcontext() as exact:
            exact.prec = 60  # Python's default 28 digits would round the largest amount
            tripled = amount * 3
        assert await pool.fetchval("select $1::numeric * 3", amount) == tripled
        assert await pool.fetchval("select 0.1::numeric + 0.2::numeric") == Decimal("0.3")
    finally:
        await pool.close()


async def test_create_pool_when_url_malformed_raises_database_unavailable():
    with pytest.raises(DatabaseUnavailable, match="postgresql://risk_service:\\*\\*\\*@"):
        await create_pool("postgresql://risk_service:pw@db:not-a-port/postgres")
