"""Would a DDL statement leave a table of a range without a primary key?

A replica applies a row image by its primary key, so capture refuses a
table without one. DDL cannot be rolled back: a ``CREATE TABLE`` without a
key that ran (and was logged) leaves a table at every site that nobody may
write and that ``mdbc resync --full`` cannot copy. So the driver asks this
module *before* it runs the statement, and refuses it with nothing done.

Read from tokens: a ``PRIMARY KEY`` anywhere in ``CREATE TABLE`` (column or
table constraint) counts; ``CREATE TABLE ... LIKE`` copies its source's key
and is left to MariaDB. Where the statement is anything else, or the
answer is not certain, it says nothing (``None``) and capture's own check
after the statement remains the backstop.
"""

from __future__ import annotations

from mdbc_py.sql.lexer import WORD, tokenize

__all__ = ["missing_primary_key"]


def _words(sql: str) -> list[str]:
    return [t.key if t.type == WORD else f"\0{t.text}" for t in tokenize(sql).tokens]


def _count(words: list[str], phrase: tuple[str, ...]) -> int:
    n = len(phrase)
    return sum(1 for i in range(len(words) - n + 1) if tuple(words[i : i + n]) == phrase)


def missing_primary_key(sql: str) -> str | None:
    """Why the table ``sql`` creates or alters would have no primary key; ``None`` if not.

    ``None`` also when the statement is not ``CREATE TABLE`` / ``ALTER
    TABLE``, creates a temporary table, or copies another table (``LIKE``).
    """
    words = _words(sql)
    if len(words) < 3:
        return None
    head = 3 if words[1:3] == ["OR", "REPLACE"] else 1
    if words[0] == "CREATE":
        if words[head : head + 1] == ["TEMPORARY"] or words[head : head + 1] != ["TABLE"]:
            return None
        if "LIKE" in words or _count(words, ("PRIMARY", "KEY")):
            return None
        return "it declares no PRIMARY KEY"
    if words[0] == "ALTER" and "TABLE" in words[1:4]:
        drops = _count(words, ("DROP", "PRIMARY", "KEY"))
        if drops and _count(words, ("PRIMARY", "KEY")) == drops:
            return "it drops the PRIMARY KEY and adds none"
    return None
