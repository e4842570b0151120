"""Connection URLs: swap the login role or the database, and hide passwords in messages.

Works for TCP URLs (``postgresql://user:pw@host:5432/db``) and for the unix-socket URLs
pgserver hands out (``postgresql://postgres:@/postgres?host=/tmp/xyz``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_SCHEMES = ("postgres", "postgresql")


def _split(database_url: str):
    parts = urlsplit(database_url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(
            f"not a PostgreSQL URL (expected postgresql://...): {redact_dsn(database_url)}"
        )
    return parts


def _host_part(netloc: str) -> str:
    return netloc.rpartition("@")[2]


def _user_part(netloc: str) -> str:
    userinfo = netloc.rpartition("@")[0]
    return unquote(userinfo.partition(":")[0])


def service_dsn(database_url: str, role: str) -> str:
    """The same server and database, logged in as ``role`` (the password is dropped).

    A password belongs to one user, so it is not carried over: locally the embedded server
    trusts its socket; elsewhere each service gets its own ``<PREFIX>DATABASE_URL``.
    A Supabase pooler user (``postgres.<project-ref>``) keeps its project suffix.
    """
    parts = _split(database_url)
    current_user = _user_part(parts.netloc)
    login = role
    if "." in current_user and "." not in role:
        login = f"{role}.{current_user.split('.', 1)[1]}"
    netloc = f"{quote(login, safe='')}@{_host_part(parts.netloc)}"
    query = [
        (key, login if key == "user" else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in ("password",)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="/")))


def with_database(database_url: str, database: str) -> str:
    """The same server and login, connected to another database."""
    parts = _split(database_url)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def user_of(database_url: str) -> str:
    """The login role named by the URL ('' when the URL names none)."""
    parts = _split(database_url)
    query_user = dict(parse_qsl(parts.query)).get("user")
    return query_user or _user_part(parts.netloc)


def redact_dsn(database_url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print or log."""
    parts = urlsplit(database_url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        user, _, password = userinfo.partition(":")
        if password:
            userinfo = f"{user}:***"
    query = [
        (key, "***" if key == "password" else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    netloc = f"{userinfo}{at}{host}"
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="/*")))
