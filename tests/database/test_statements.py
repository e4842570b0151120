"""Splitting SQL files into statements as the Supabase CLI records them."""

from servicekit.db.statements import split_statements


def texts(sql: str) -> list[str]:
    return [statement.text for statement in split_statements(sql)]


def test_split_when_statements_end_with_semicolons_trims_them():
    assert texts("select 1;\n  select 2 ;\n") == ["select 1", "select 2"]


def test_split_when_semicolon_inside_string_or_identifier_keeps_one_statement():
    sql = "insert into t (\"a;b\") values ('x;y', 'it''s; fine');select 3;"
    assert texts(sql) == ["insert into t (\"a;b\") values ('x;y', 'it''s; fine')", "select 3"]


def test_split_when_dollar_quoted_body_has_semicolons_keeps_one_statement():
    sql = (
        "create function f() returns int language plpgsql as $fn$\n"
        "begin perform 1; return 2; end;\n$fn$;\n"
        "do $$ begin perform 1; end $$;"
    )
    result = texts(sql)
    assert len(result) == 2
    assert result[0].endswith("$fn$")
    assert result[1] == "do $$ begin perform 1; end $$"


def test_split_when_comments_hold_semicolons_keeps_them_with_next_statement():
    sql = "-- first; still a comment\nselect 1; /* block; /* nested; */ */ select 2;"
    assert texts(sql) == [
        "-- first; still a comment\nselect 1",
        "/* block; /* nested; */ */ select 2",
    ]


def test_split_when_file_ends_with_comment_records_it_but_marks_not_executable():
    statements = split_statements("select 1;\n-- trailing note\n")
    assert [s.text for s in statements] == ["select 1", "-- trailing note"]
    assert [s.executable for s in statements] == [True, False]


def test_split_when_begin_atomic_body_keeps_one_statement():
    sql = (
        "create function g() returns int language sql begin atomic select 1; select 2; end;"
        "select 3;"
    )
    assert texts(sql) == [
        "create function g() returns int language sql begin atomic select 1; select 2; end",
        "select 3",
    ]


def test_split_when_statements_span_lines_reports_start_lines():
    statements = split_statements("\n-- note\nselect\n 1;\n\nselect 2;")
    assert [s.line for s in statements] == [2, 6]


def test_split_when_positional_parameter_present_does_not_open_dollar_quote():
    assert texts("select $1; select 2;") == ["select $1", "select 2"]
