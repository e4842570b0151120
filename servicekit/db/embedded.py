"""The embedded PostgreSQL (the ``pgserver`` package): the default database everywhere but
production, so nothing has to be installed by hand.

``pgserver`` keeps one server per data directory and counts the processes holding it:
the first caller starts it, later callers (other services, the migration runner) attach
to the running one, and with ``cleanup_mode="stop"`` the last one to exit stops it.
The server listens on a unix socket only, with trust authentication.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from servicekit.db.errors import EmbeddedDatabaseError, one_line

DEFAULT_DATA_DIR = ".data/postgres"
_CLEANUP_MODES = ("stop", "delete", None)
# The servers this process holds, by data directory (see stop_embedded).
_held_servers: dict[Path, Any] = {}  # pgserver.PostgresServer, imported lazily


def _last_log_line(data_dir: Path) -> str:
    try:
        lines = (data_dir / "log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def start_embedded(data_dir: str | os.PathLike[str], *, cleanup_mode: str | None = "stop") -> str:
    """Start, or attach to, the embedded PostgreSQL in ``data_dir``; return its admin URL.

    The URL is a unix-socket URL such as ``postgresql://postgres:@/postgres?host=/tmp/x``,
    logged in as the superuser ``postgres``. ``cleanup_mode`` is pgserver's: ``"stop"``
    (stop when the last process using it exits), ``"delete"`` (also remove the data
    directory; for throw-away test clusters) or ``None`` (leave it running).
    Raises ``EmbeddedDatabaseError`` with one line saying what went wrong.
    """
    if cleanup_mode not in _CLEANUP_MODES:
        raise ValueError(f"cleanup_mode must be one of {_CLEANUP_MODES}, not {cleanup_mode!r}")
    path = Path(data_dir).expanduser().resolve()
    pgserver_logger = logging.getLogger("pgserver")
    previous_level = pgserver_logger.level
    # pgserver logs every step at INFO and dumps the whole server log on failure; the
    # error raised below already says what matters, in one line.
    pgserver_logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp.
            warnings.simplefilter("ignore")
            import pgserver

        path.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(path, cleanup_mode=cleanup_mode)
        _held_servers[path] = server
        return server.get_uri()
    except Exception as error:
        detail = one_line(f"{type(error).__name__}: {error}")
        server_says = _last_log_line(path) if path.is_dir() else ""
        hint = f"; server log says: {one_line(server_says)}" if server_says else ""
        raise EmbeddedDatabaseError(
            f"embedded PostgreSQL could not start in {path} (PGSERVER_DATA_DIR): {detail}{hint}"
        ) from error
    finally:
        pgserver_logger.setLevel(previous_level)


def stop_embedded(data_dir: str | os.PathLike[str]) -> None:
    """Let go of this process's hold on the embedded server in ``data_dir`` now, rather
    than at exit. The last process to let go stops it (and, with ``cleanup_mode="delete"``,
    removes its data directory)."""
    server = _held_servers.pop(Path(data_dir).expanduser().resolve(), None)
    if server is not None:
        server.cleanup()


def resolve_database_url(database_url: str | None, data_dir: str | os.PathLike[str]) -> str:
    """``database_url`` when one is configured, else the embedded server's admin URL."""
    if database_url:
        return database_url
    return start_embedded(data_dir)
