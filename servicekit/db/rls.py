"""Per-request row level security, as PostgREST does it.

Every read or write of one user's data runs inside ``user_transaction``: a transaction
whose ``request.jwt.claims`` carry the user's id and whose role is ``authenticated``, so
the tables' policies (``user_id = (select auth.uid())``) decide which rows exist. A query
that forgets ``WHERE user_id = ...`` still sees only that user's rows.

Both settings are transaction-local: they vanish at commit or rollback, before the
connection goes back to the pool.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

AUTHENTICATED_ROLE = "authenticated"

# One round trip for both settings; set_config('role', ..., true) is SET LOCAL ROLE.
# BEGIN, the claims and the role in one round trip (simple query protocol, so several
# statements in one message). The claims are inlined: they are built from a parsed UUID
# and fixed keys only, so they can hold no quote (escaped all the same).
_BEGIN_AS = (
    "begin; select set_config('request.jwt.claims', '{claims}', true), "
    "set_config('role', '{role}', true)"
)


def user_claims(user_id: uuid.UUID | str) -> dict[str, str]:
    """The JWT claims set for ``user_id`` (raises ``ValueError`` if it is not a UUID)."""
    return {"sub": str(uuid.UUID(str(user_id))), "role": AUTHENTICATED_ROLE}


@asynccontextmanager
async def user_transaction(
    pool: asyncpg.Pool, user_id: uuid.UUID | str
) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction acting as ``user_id`` under RLS.

    The pool's login role must be a member of ``authenticated`` (every service role is).
    Commits when the block ends, rolls back if it raises.
    """
    claims = json.dumps(user_claims(user_id)).replace("'", "''")
    async with pool.acquire() as conn:
        await conn.execute(_BEGIN_AS.format(claims=claims, role=AUTHENTICATED_ROLE))
        # On an exception nothing is committed: the pool's release hook sees the open
        # transaction and resets the connection, which rolls it back.
        yield conn
        await conn.execute("commit")


@asynccontextmanager
async def service_transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction acting as the pool's own (service) role.

    For work across users (claiming jobs, relaying the outbox, kill switches): no claims
    are set, so only the policies written ``TO <service_role>`` apply.
    """
    async with pool.acquire() as conn, conn.transaction():
        yield conn
