"""Split a SQL file into statements the way the Supabase CLI does.

The CLI (``pkg/parser``) cuts a file at each ``;`` that is outside a string, quoted
identifier, comment, dollar-quoted body, parentheses or ``BEGIN ATOMIC ... END`` block,
trims the trailing ``;`` and surrounding white space, keeps comments that precede a
statement, and drops empty pieces. The runner executes these pieces one by one and records
them in ``supabase_migrations.schema_migrations.statements``, as the CLI does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*|[0-9]+")


@dataclass(frozen=True)
class SqlStatement:
    """One statement as recorded by the CLI, with the line of the file it starts on.

    ``executable`` is false for a piece holding only comments (such as the tail of a file
    after its last ``;``): the CLI records it, but there is nothing to run.
    """

    text: str
    line: int
    executable: bool = True


def _end_of_line_comment(sql: str, start: int) -> int:
    end = sql.find("\n", start)
    return len(sql) if end < 0 else end + 1


def _end_of_block_comment(sql: str, start: int) -> int:
    depth = 0
    index = start
    while index < len(sql):
        if sql.startswith("/*", index):
            depth += 1
            index += 2
        elif sql.startswith("*/", index):
            depth -= 1
            index += 2
            if depth == 0:
                return index
        else:
            index += 1
    return len(sql)


def _end_of_quoted(sql: str, start: int) -> int:
    quote = sql[start]
    index = start + 1
    while index < len(sql):
        if sql[index] == quote:
            if sql.startswith(quote * 2, index):  # '' or "" is an escaped quote
                index += 2
                continue
            return index + 1
        index += 1
    return len(sql)


def _cut(sql: str, start: int, end: int, has_code: bool, statements: list[SqlStatement]) -> None:
    piece = sql[start:end].rstrip(";").strip()
    if piece:
        leading = len(sql[start:end]) - len(sql[start:end].lstrip())
        line = sql.count("\n", 0, start + leading) + 1
        statements.append(SqlStatement(text=piece, line=line, executable=has_code))


def split_statements(sql: str) -> list[SqlStatement]:
    """The statements of ``sql``, in order, as the Supabase CLI splits them."""
    statements: list[SqlStatement] = []
    start = 0
    index = 0
    parentheses = 0
    previous_word = ""
    in_atomic_block = False
    has_code = False
    while index < len(sql):
        char = sql[index]
        if sql.startswith("--", index):
            index = _end_of_line_comment(sql, index)
            continue
        if sql.startswith("/*", index):
            index = _end_of_block_comment(sql, index)
            continue
        has_code = has_code or not (char.isspace() or char == ";")
        if char in "'\"":
            index = _end_of_quoted(sql, index)
        elif char == "$" and (tag := _DOLLAR_TAG.match(sql, index)):
            closing = sql.find(tag.group(0), tag.end())
            index = len(sql) if closing < 0 else closing + len(tag.group(0))
        elif char == "\\":
            index += 2  # a backslash escapes the next character (psql meta syntax)
        elif word := _WORD.match(sql, index):
            lowered = word.group(0).lower()
            if lowered == "atomic" and previous_word == "begin":
                in_atomic_block = True
            elif lowered == "end" and in_atomic_block:
                in_atomic_block = False
            previous_word = lowered
            index = word.end()
        else:
            if char == "(":
                parentheses += 1
            elif char == ")":
                parentheses = max(0, parentheses - 1)
            elif char == ";" and parentheses == 0 and not in_atomic_block:
                _cut(sql, start, index + 1, has_code, statements)
                start = index + 1
                has_code = False
            index += 1
    _cut(sql, start, len(sql), has_code, statements)
    return statements


def read_statements(path: Path) -> list[SqlStatement]:
    """The statements of the SQL file at ``path``."""
    return split_statements(path.read_text(encoding="utf-8"))
