"""Which statements may call a stored function (and so may write what nobody can see)."""

from __future__ import annotations

import pytest

from mdbc_py.sql import Kind, classify

MAY_WRITE = [
    "SELECT f('x')",
    "select audit(%s) from dual",
    "DO f(1)",
    "SET @v = f(1)",
    "SET @a = 1, @b = g(@a)",
    "SELECT db.f(1)",
    "SELECT `count`(1)",
    "SELECT (SELECT f(1))",
    "SELECT id FROM t WHERE id = f(2)",
    "SELECT 1; SELECT g(2)",
    "SELECT COALESCE(NULL, my_func (3))",
]

PURE = [
    "SELECT 1",
    "SELECT count(*), MAX(a), NOW(), CONCAT(a, 'x') FROM t",
    "SELECT * FROM t WHERE a IN (1, 2) AND EXISTS (SELECT 1 FROM u)",
    "SELECT CAST(a AS CHAR(10)), CONVERT(b, DECIMAL(10, 2)) FROM t",
    "SELECT a FROM t1 JOIN t2 USING (id) WHERE x = COALESCE(y, 1) FOR UPDATE",
    "SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) FROM t",
    "SELECT JSON_EXTRACT(doc, '$.a'), DATE_FORMAT(ts, '%Y') FROM t",
    "SET NAMES utf8mb4",
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SET @x = CONCAT('a', UUID())",
    "SHOW TABLES",
]


@pytest.mark.parametrize("sql", MAY_WRITE)
def test_a_call_of_a_stored_function_is_a_possible_write(sql: str) -> None:
    stmt = classify(sql, "app")
    assert stmt.kind in (Kind.READ, Kind.SESSION)
    assert stmt.calls_routine


@pytest.mark.parametrize("sql", PURE)
def test_built_in_functions_and_keywords_are_not_calls(sql: str) -> None:
    assert not classify(sql, "app").calls_routine


def test_writes_are_not_flagged_their_triggers_are_read_anyway() -> None:
    stmt = classify("INSERT INTO t VALUES (f(1))", "app")
    assert stmt.kind is Kind.WRITE and not stmt.calls_routine
