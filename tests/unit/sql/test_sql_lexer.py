"""The lexer: comments, executable comments, placeholders, statement splitting."""

from __future__ import annotations

import pytest

from mdbc_py.sql.lexer import (
    NUMBER,
    PARAM,
    QUOTED,
    STRING,
    WORD,
    split_statements,
    sql_text,
    tokenize,
)


def texts(sql: str) -> list[str]:
    return [t.text for t in tokenize(sql).tokens]


def statements(sql: str) -> list[str]:
    tokens = tokenize(sql).tokens
    return [sql_text(tokens, s, e) for s, e in split_statements(tokens)]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select /* c */ 1", ["select", "1"]),
        ("select 1 -- c\n, 2", ["select", "1", ",", "2"]),
        ("select 1 # c\n, 2", ["select", "1", ",", "2"]),
        ("select 1--2", ["select", "1", "-", "-", "2"]),  # '--' needs a space to comment
        ("select 1 --\n, 2", ["select", "1", ",", "2"]),
        ("/*!40101 SET x=1 */", ["SET", "x", "=", "1"]),
        ("/*M!100101 SET x=1 */", ["SET", "x", "=", "1"]),
        ("/*! STRAIGHT_JOIN */", ["STRAIGHT_JOIN"]),
        ("select 2*/*c*/3", ["select", "2", "*", "3"]),
        ("select a */ b", ["select", "a", "*", "/", "b"]),
        ("/*+ hint */ select 1", ["select", "1"]),
    ],
)
def test_comments(sql: str, expected: list[str]) -> None:
    assert texts(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("a = %s", ["a", "=", "?"]),
        ("a = %(name_1)s", ["a", "=", "?"]),
        ("a = ?", ["a", "=", "?"]),
        ("a %% 2", ["a", "%", "2"]),
        ("a = '%s'", ["a", "=", "'%s'"]),  # inside a string it is text
    ],
)
def test_placeholders(sql: str, expected: list[str]) -> None:
    assert texts(sql) == expected


def test_token_types_and_values() -> None:
    tokens = tokenize("select `a``b`, 'x''y', \"z\", 1.5e3, 42, @v, @@session.x, %s").tokens
    by_text = {t.text: t for t in tokens}
    assert by_text["`a``b`"].type == QUOTED
    assert by_text["`a``b`"].value == "a`b"
    assert by_text["'x''y'"].type == STRING
    assert by_text['"z"'].type == STRING
    assert by_text["1.5e3"].type == NUMBER
    assert by_text["42"].type == WORD
    assert by_text["@v"].type == WORD
    assert by_text["@@session"].type == WORD
    assert by_text["?"].type == PARAM
    assert by_text["select"].key == "SELECT"


@pytest.mark.parametrize(
    "sql",
    ["select 'abc", 'select "abc', "select `abc", "select 1 /* open", "/*!40101 SET x=1"],
)
def test_unterminated_is_an_error(sql: str) -> None:
    assert tokenize(sql).error


def test_backslash_escapes_in_strings() -> None:
    assert texts(r"select 'a\'b;c', 1") == ["select", r"'a\'b;c'", ",", "1"]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select 1; select 2", ["select 1", "select 2"]),
        ("select 1;;select 2;", ["select 1", "select 2"]),
        ("select ';'; select \";\"", ["select ';'", 'select ";"']),
        ("select 1 -- ; not here\n; select 2", ["select 1", "select 2"]),
        (
            "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END; SELECT 3",
            ["CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", "SELECT 3"],
        ),
        (
            "CREATE DEFINER=`u`@`%` PROCEDURE IF NOT EXISTS p() BEGIN "
            "IF x THEN SELECT 1; ELSEIF y THEN SELECT 2; END IF; "
            "WHILE a DO SET a = a - 1; END WHILE; "
            "lbl: LOOP LEAVE lbl; END LOOP; "
            "CASE WHEN a THEN SELECT 3; END CASE; "
            "REPEAT SET a = REPEAT('x', 2); UNTIL a END REPEAT; "
            "DROP TABLE IF EXISTS t; SET b = IF(a, 1, 2); "
            "END; SELECT 9",
            None,
        ),
        (
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1; SELECT 2",
            ["CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1", "SELECT 2"],
        ),
        (
            "BEGIN NOT ATOMIC DECLARE x INT; SET x = 1; END; SELECT 2",
            ["BEGIN NOT ATOMIC DECLARE x INT; SET x = 1; END", "SELECT 2"],
        ),
        ("BEGIN; SELECT 1; COMMIT", ["BEGIN", "SELECT 1", "COMMIT"]),
        (
            "CREATE TABLE t (a int, b int as (case when a then 1 else 2 end)); select 1",
            ["CREATE TABLE t (a int, b int as (case when a then 1 else 2 end))", "select 1"],
        ),
    ],
)
def test_split(sql: str, expected: list[str] | None) -> None:
    found = statements(sql)
    if expected is None:  # the long procedure: the body is one statement
        assert len(found) == 2
        assert found[1] == "SELECT 9"
    else:
        assert found == expected


def test_sql_text_keeps_adjacency_and_normalises() -> None:
    sql = "select  1.5,db.t /* c */from  x where a=%s and b like 'q%%' and c = 2 %% 3"
    tokens = tokenize(sql).tokens
    assert sql_text(tokens, 0, len(tokens)) == (
        "select 1.5,db.t from x where a=? and b like 'q%%' and c = 2 % 3"
    )
