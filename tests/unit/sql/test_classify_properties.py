"""Property tests: ``classify`` never raises, whatever text the application sends.

Its contract (module docstring of ``mdbc_py.sql.classify``) is that SQL it
cannot understand is reported as ``Kind.UNKNOWN``, never an exception: the
driver calls it on every ``execute()`` before MariaDB sees the statement,
so a crash here would turn a syntax error into a driver failure. Plain
random text rarely gets past the lexer, so a second strategy strings
together SQL keywords, identifiers, quotes, comments and punctuation.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdbc_py.sql.classify import cache_clear, classify
from mdbc_py.sql.statement import Statement

BOUNDED = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_WORDS = [
    "SELECT",
    "INSERT",
    "REPLACE",
    "UPDATE",
    "DELETE",
    "FROM",
    "INTO",
    "VALUES",
    "SET",
    "WHERE",
    "JOIN",
    "ON",
    "USING",
    "WITH",
    "RECURSIVE",
    "AS",
    "TABLE",
    "CREATE",
    "ALTER",
    "DROP",
    "RENAME",
    "TRUNCATE",
    "DATABASE",
    "SCHEMA",
    "INDEX",
    "VIEW",
    "TRIGGER",
    "PROCEDURE",
    "FUNCTION",
    "EVENT",
    "SEQUENCE",
    "BEGIN",
    "START",
    "TRANSACTION",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "XA",
    "LOCK",
    "UNLOCK",
    "TABLES",
    "CALL",
    "DO",
    "HANDLER",
    "LOAD",
    "DATA",
    "INFILE",
    "ANALYZE",
    "EXPLAIN",
    "SHOW",
    "USE",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "GLOBAL",
    "SESSION",
    "AUTOCOMMIT",
    "PRIMARY",
    "KEY",
    "IF",
    "NOT",
    "EXISTS",
    "RETURNING",
    "DUPLICATE",
    "NEXTVAL",
    "SETVAL",
    "LASTVAL",
    "FOR",
    "UNION",
    "ALL",
    "SELECT",
    "DEFAULT",
    "NULL",
    "LIMIT",
    "ORDER",
    "BY",
    "GROUP",
    "HAVING",
    "PARTITION",
    "LOW_PRIORITY",
    "IGNORE",
    "DELAYED",
]
_PIECES = (
    "t",
    "db.t",
    "`a``b`",
    "`x.y`.`z`",
    '"q"',
    "'s''t'",
    "'\\''",
    "@v",
    "@@autocommit",
    "?",
    "%s",
    "%(p)s",
    ":1",
    "(",
    ")",
    ",",
    ";",
    ".",
    "=",
    "*",
    "/* c */",
    "/*!50000 SELECT */",
    "/*M!100100 x */",
    "-- c\n",
    "# c\n",
    "0x1F",
    "b'01'",
    "1e9",
    "-1",
    "f(",
    "mdbc_stage_db",
    "DELIMITER",
    "\\",
    "`",
    "'",
    '"',
    "/*",
    "é",
    "\x00",
)
_tokens = st.sampled_from(_WORDS) | st.sampled_from(_PIECES) | st.text(max_size=6)
sql_like = st.lists(_tokens, max_size=30).map(" ".join) | st.lists(_tokens, max_size=30).map(
    "".join
)
_LEADS = (
    "SELECT * FROM",
    "SELECT f(1) FROM t WHERE",
    "INSERT INTO t (a, b) VALUES",
    "INSERT INTO db.t SELECT * FROM",
    "REPLACE INTO t SET",
    "UPDATE t SET a =",
    "UPDATE t JOIN u ON",
    "DELETE FROM t WHERE",
    "DELETE t, u FROM t JOIN u",
    "WITH x AS (SELECT 1)",
    "CREATE TABLE t (id INT PRIMARY KEY,",
    "CREATE TABLE IF NOT EXISTS db.t LIKE",
    "ALTER TABLE t DROP PRIMARY KEY,",
    "ALTER TABLE t ADD COLUMN",
    "DROP TABLE IF EXISTS",
    "RENAME TABLE t TO",
    "TRUNCATE TABLE",
    "CREATE DATABASE",
    "DROP DATABASE",
    "SET @v =",
    "SET autocommit =",
    "SET SESSION TRANSACTION",
    "LOCK TABLES t WRITE,",
    "CALL p(",
    "DO",
    "USE",
    "SHOW CREATE TABLE",
    "PREPARE s FROM",
    "EXECUTE s USING",
    "XA START",
    "START TRANSACTION",
    "LOAD DATA INFILE 'f' INTO TABLE",
    "HANDLER t OPEN",
    "ANALYZE SELECT * FROM",
    "SELECT NEXTVAL(",
    "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW",
    "CREATE SEQUENCE",
)
statements = st.builds(
    lambda lead, rest: f"{lead} {rest}",
    st.sampled_from(_LEADS),
    st.lists(_tokens, max_size=20).map(" ".join),
)
databases = st.none() | st.text(max_size=12)


@BOUNDED
@given(st.text(max_size=200), databases)
def test_classify_never_raises_on_arbitrary_text(sql: str, db: str | None) -> None:
    assert isinstance(classify(sql, db), Statement)


@BOUNDED
@given(sql_like | statements, databases)
def test_classify_never_raises_on_sql_like_text(sql: str, db: str | None) -> None:
    cache_clear()  # each example exercises the parser, not the cache
    assert isinstance(classify(sql, db), Statement)
