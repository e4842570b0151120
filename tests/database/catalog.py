"""What the tests learn about the schema from pg_catalog (never from a hand-kept list), so
a table added by a later migration is checked without anyone editing the tests."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

# r: table, p: partitioned table, v: view, m: materialized view
_RELATIONS = """
select c.relname as name, c.relkind::text as kind, c.relrowsecurity as rls,
       pg_get_userbyid(c.relowner) as owner
from pg_catalog.pg_class c
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
order by c.relname
"""

# Columns naming a user: called user_id, or referencing auth.users.
_USER_COLUMNS = """
select c.relname as relation, a.attname as column_name
from pg_catalog.pg_class c
join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
  and (a.attname = 'user_id' or exists (
        select 1 from pg_catalog.pg_constraint k
        where k.conrelid = c.oid and k.contype = 'f'
          and k.confrelid = 'auth.users'::regclass
          and k.conkey = array[a.attnum]))
order by 1, 2
"""


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str
    rls: bool
    owner: str

    @property
    def is_table(self) -> bool:
        return self.kind in ("r", "p")


async def public_relations(conn: asyncpg.Connection) -> list[Relation]:
    """Every table, view and materialized view in schema public."""
    return [Relation(**dict(row)) for row in await conn.fetch(_RELATIONS)]


async def user_columns(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """Relation name -> its columns that hold a user id."""
    found: dict[str, list[str]] = {}
    for row in await conn.fetch(_USER_COLUMNS):
        found.setdefault(row["relation"], []).append(row["column_name"])
    return found
