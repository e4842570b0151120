"""Insert a valid row for a given user into any table, from the catalog alone.

The RLS tests must cover every user-owned table, including tables written after them, so
rows are made generically: columns with defaults keep them; a user column gets the user's
id; a foreign key to another public table gets a parent row made the same way (for the
same user); a column limited by ``CHECK (col IN (...))`` gets the first allowed value; any
other required column gets a plain value of its type (timestamps increase in column
order, so ``end_at > start_at`` holds). Where that is not enough, ``COLUMN_OVERRIDES``
names a SQL expression for a table's column. When a row still cannot be made, the error
names the table and what the database said, so the test fails loudly, never skips.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from dataclasses import dataclass

import asyncpg

from tests.database.catalog import user_columns

# table -> column -> SQL expression, for required columns the generic values cannot fill.
COLUMN_OVERRIDES: dict[str, dict[str, str]] = {
    # The first allowed scope, 'platform', is the one scope without a user.
    "kill_switches": {"scope": "'user'"},
}

_REQUIRED_COLUMNS = """
select a.attnum, a.attname as name, t.typname as type_name, t.typcategory::text as category,
       a.attndims > 0 or t.typcategory = 'A' as is_array
from pg_catalog.pg_attribute a
join pg_catalog.pg_type t on t.oid = a.atttypid
where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
  and a.attnotnull and not a.atthasdef and a.attidentity = '' and a.attgenerated = ''
order by a.attnum
"""

_FOREIGN_KEYS = """
select array(select attname from pg_catalog.pg_attribute
             where attrelid = k.conrelid and attnum = any(k.conkey)
             order by array_position(k.conkey, attnum)) as columns,
       k.confrelid::regclass::text as parent,
       array(select attname from pg_catalog.pg_attribute
             where attrelid = k.confrelid and attnum = any(k.confkey)
             order by array_position(k.confkey, attnum)) as parent_columns
from pg_catalog.pg_constraint k
where k.conrelid = $1::regclass and k.contype = 'f'
"""

_CHECKS = """
select pg_get_constraintdef(oid) as definition
from pg_catalog.pg_constraint where conrelid = $1::regclass and contype = 'c'
"""

# CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text]))) or CHECK ((broker = 'alpaca'::text))
_ENUM_CHECK = re.compile(r"^CHECK \(\(\(?(\w+) = ANY \(ARRAY\[(.*?)\]\)\)?\)\)$")
_SINGLE_VALUE_CHECK = re.compile(r"^CHECK \(\((\w+) = '((?:[^']|'')*)'::\w+\)\)$")
_QUOTED = re.compile(r"'((?:[^']|'')*)'")

_VALUE_BY_CATEGORY = {"N": "1", "B": "false"}
_VALUE_BY_TYPE = {
    "uuid": "gen_random_uuid()",
    "json": "'{{}}'::json",
    "jsonb": "'{{}}'::jsonb",
    "bytea": "'\\x00'::bytea",
    "date": "current_date + {position}",
    "timestamptz": "now() + make_interval(hours => {position})",
    "timestamp": "localtimestamp + make_interval(hours => {position})",
    "interval": "interval '1 hour'",
}


class RowFactoryError(AssertionError):
    """A row could not be made generically for a table (named in the message)."""


@dataclass(frozen=True)
class MadeRow:
    table: str
    values: dict[str, object]


def _plain_text() -> str:
    # Upper-case letters pass the usual symbol/name checks and stay unique per row.
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(10))


async def _allowed_values(conn: asyncpg.Connection, table: str) -> dict[str, str]:
    allowed: dict[str, str] = {}
    for row in await conn.fetch(_CHECKS, table):
        definition = row["definition"]
        if match := _ENUM_CHECK.match(definition):
            first = _QUOTED.search(match.group(2))
            if first:
                allowed[match.group(1)] = first.group(1).replace("''", "'")
        elif match := _SINGLE_VALUE_CHECK.match(definition):
            allowed[match.group(1)] = match.group(2).replace("''", "'")
    return allowed


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _generic_value(column: asyncpg.Record, allowed: dict[str, str]) -> str:
    """A SQL expression for a required column with no other source."""
    name = column["name"]
    if name in allowed:
        return _literal(allowed[name])
    if column["is_array"]:
        return "'{}'"
    type_name = column["type_name"]
    if type_name in _VALUE_BY_TYPE:
        return _VALUE_BY_TYPE[type_name].format(position=column["attnum"])
    if column["category"] in _VALUE_BY_CATEGORY:
        return _VALUE_BY_CATEGORY[column["category"]]
    if column["category"] == "S":
        return _literal(_plain_text())
    raise RowFactoryError(f"no generic value for column {name} of type {type_name}")


async def insert_row_for_user(
    conn: asyncpg.Connection, table: str, user_id: uuid.UUID, owner_columns: list[str]
) -> MadeRow:
    """Insert one row owned by ``user_id`` into ``public.<table>`` (as the admin) and return
    the inserted values. Raises ``RowFactoryError`` naming the table when impossible."""
    qualified = f"public.{table}"
    expressions: dict[str, str] = {column: "$1" for column in owner_columns}
    for key in await conn.fetch(_FOREIGN_KEYS, qualified):
        if key["parent"] == "auth.users":
            for column in key["columns"]:
                expressions.setdefault(column, "$1")
            continue
        if all(column in expressions for column in key["columns"]) or key["parent"] in (
            table,
            qualified,
        ):
            continue  # already filled, or a self-reference (left to its default)
        parent_table = key["parent"].removeprefix("public.")
        parent = await _insert_parent(conn, parent_table, user_id)
        for column, parent_column in zip(key["columns"], key["parent_columns"], strict=True):
            value = parent.values[parent_column]
            expressions.setdefault(column, _literal(str(value)))
    overrides = COLUMN_OVERRIDES.get(table, {})
    allowed = await _allowed_values(conn, qualified)
    for column in await conn.fetch(_REQUIRED_COLUMNS, qualified):
        name = column["name"]
        if name in expressions:
            continue
        if name in overrides:
            expressions[name] = overrides[name]
            continue
        try:
            expressions[name] = _generic_value(column, allowed)
        except RowFactoryError as error:
            raise RowFactoryError(f"public.{table}: {error}; add it to COLUMN_OVERRIDES") from None
    columns = ", ".join(f'"{name}"' for name in expressions)
    values = ", ".join(expressions.values())
    statement = f"insert into {qualified} ({columns}) values ({values})"
    if not expressions:
        statement = f"insert into {qualified} default values"
    # A row the user already has (made by a trigger on auth.users, say) is kept and used.
    statement += " on conflict do nothing returning *"
    arguments = [user_id] if "$1" in expressions.values() else []
    try:
        async with conn.transaction():
            row = await conn.fetchrow(statement, *arguments)
            if row is None and owner_columns:
                row = await conn.fetchrow(
                    f'select * from {qualified} where "{owner_columns[0]}" = $1 limit 1', user_id
                )
        if row is None:
            raise RowFactoryError(f"public.{table}: the generic row conflicts with an existing one")
    except asyncpg.PostgresError as error:
        raise RowFactoryError(
            f"cannot insert a row into public.{table} generically "
            f"({type(error).__name__}: {error}); add its required values to COLUMN_OVERRIDES "
            "in tests/database/row_factory.py"
        ) from error
    return MadeRow(table=table, values=dict(row))


async def _insert_parent(conn: asyncpg.Connection, table: str, user_id: uuid.UUID) -> MadeRow:
    owners = (await user_columns(conn)).get(table, [])
    return await insert_row_for_user(conn, table, user_id, owners)
