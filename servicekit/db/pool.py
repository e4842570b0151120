"""asyncpg pools, logged in as a service's own role.

``service_dsn`` turns the admin URL into one for a service role; ``create_pool`` opens the
pool and fails with one clear line when the database cannot be reached. Every connection
exchanges ``json``/``jsonb`` as Python objects and ``numeric`` as exact decimal text.
"""

from __future__ import annotations

import json
from decimal import Decimal

import asyncpg

from servicekit.db.dsn import redact_dsn, service_dsn, user_of
from servicekit.db.errors import CONNECT_ERRORS, DatabaseUnavailable, one_line

__all__ = ["create_pool", "register_codecs", "service_dsn"]


async def register_codecs(conn: asyncpg.Connection) -> None:
    """Exchange ``json``/``jsonb`` values as Python objects on this connection, and
    ``numeric`` as its decimal text (exact both ways).

    Why text for numeric: asyncpg's binary encoder takes a Decimal apart digit by digit
    (``as_tuple``); for the risk ledger's call, its two amounts were about half the cost
    of encoding all eleven parameters. ``str(Decimal)`` and ``Decimal(text)`` are single
    C calls.
    """
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=Decimal, schema="pg_catalog", format="text"
    )


async def reset_if_dirty(conn: asyncpg.Connection) -> None:
    """Release hook: skip asyncpg's reset query when the connection comes back clean.

    Everything a request sets is transaction-local (``set_config(..., true)``,
    ``SET LOCAL ROLE``) and vanishes at commit or rollback, so an idle connection needs no
    ``RESET ALL``; the default reset would cost one more round trip on every request.
    A connection still inside a transaction (a cancelled request) gets the full reset.
    """
    if conn.is_in_transaction():
        await conn.reset()


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, connect_timeout: float = 10.0
) -> asyncpg.Pool:
    """Open a pool on ``dsn``; raise ``DatabaseUnavailable`` (one line) if it is unreachable.

    With ``min_size >= 1`` the first connections are made now, so a wrong URL, a missing
    role or a stopped server is reported at start-up rather than on the first request.
    """
    try:
        return await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=connect_timeout,
            init=register_codecs,
            reset=reset_if_dirty,
        )
    except CONNECT_ERRORS as error:
        raise DatabaseUnavailable(
            f"cannot connect to the database at {redact_dsn(dsn)} as {user_of(dsn) or '?'}: "
            f"{type(error).__name__}: {one_line(str(error)) or 'no answer'}"
        ) from error
