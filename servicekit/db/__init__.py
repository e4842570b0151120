"""The database, for every service: the embedded PostgreSQL, the migration runner,
connection pools logged in as a service's own role, and per-request RLS transactions.

- ``servicekit.db.embedded.start_embedded(data_dir)`` / ``resolve_database_url(url, dir)``
- ``python -m servicekit.db.migrate [--seed] [--database-url URL]``
- ``servicekit.db.pool.service_dsn(url, role)``, ``create_pool(dsn, min_size=, max_size=)``
- ``servicekit.db.rls.user_transaction(pool, user_id)``, ``service_transaction(pool)``

See docs/database.md.
"""

from servicekit.db.errors import (
    DatabaseSetupError,
    DatabaseUnavailable,
    EmbeddedDatabaseError,
    MigrationFailed,
)

__all__ = ["DatabaseSetupError", "DatabaseUnavailable", "EmbeddedDatabaseError", "MigrationFailed"]
