"""Errors raised while starting, reaching or migrating the database.

Each message is one line an operator can act on (what failed, where, why); start-up code
prints it instead of a traceback.
"""

from __future__ import annotations

import asyncpg

# What connecting can raise: a bad URL (ValueError), no server (OSError), a refused login
# or unknown database (PostgresError), a timeout, or a protocol/config problem.
CONNECT_ERRORS = (
    TimeoutError,
    OSError,
    ValueError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class DatabaseSetupError(RuntimeError):
    """The database could not be started, reached or migrated."""


class EmbeddedDatabaseError(DatabaseSetupError):
    """The embedded PostgreSQL (pgserver) could not start in its data directory."""


class DatabaseUnavailable(DatabaseSetupError):
    """No connection could be made with the given URL and role."""


class MigrationFailed(DatabaseSetupError):
    """A bootstrap, migration or seed file failed; its transaction was rolled back."""


def one_line(text: str) -> str:
    """Collapse a (possibly multi-line) message from a driver or server into one line."""
    return " ".join(str(text).split())
