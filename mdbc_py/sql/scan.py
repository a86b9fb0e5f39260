"""Helpers for reading table names and clauses off a token list.

Shared by the fast path, the DDL reader and the session-statement reader,
which all walk :class:`~mdbc_py.sql.lexer.Token` lists instead of parsing.
Every reader returns ``None`` when the tokens do not have the shape it
expects, so that its caller can fall back to something more careful.
"""

from __future__ import annotations

from typing import NamedTuple

from mdbc_py.sql.lexer import QUOTED, WORD, Token
from mdbc_py.sql.statement import TableRef

__all__ = ["Name", "find_word", "is_identifier", "read_name", "skip_group"]


class Name(NamedTuple):
    """A possibly qualified name read at some position, and where it ends."""

    db: str | None
    name: str
    next: int
    """Index of the first token after the name."""

    def ref(self, current_db: str | None) -> TableRef:
        """The table this name denotes when ``current_db`` is the default database."""
        return TableRef(self.db if self.db is not None else current_db, self.name)


def is_identifier(tok: Token) -> bool:
    """True for a token that can name a schema object (not ``@var``, not a string)."""
    return tok.type == QUOTED or (tok.type == WORD and not tok.text.startswith("@"))


def read_name(tokens: list[Token], i: int, end: int) -> Name | None:
    """Read ``name`` or ``db.name`` at ``tokens[i]``.

    Keywords are accepted as names: where this is called the grammar expects
    a name, and MariaDB accepts most keywords there. A trailing ``.*`` (as in
    ``DELETE t.* FROM``) is not part of the name and is left for the caller.
    """
    if i >= end or not is_identifier(tokens[i]):
        return None
    first = tokens[i].value
    if i + 2 < end and tokens[i + 1].key == "." and is_identifier(tokens[i + 2]):
        return Name(first, tokens[i + 2].value, i + 3)
    return Name(None, first, i + 1)


def skip_group(tokens: list[Token], i: int, end: int) -> int | None:
    """Index after the parenthesised group that opens at ``tokens[i]``.

    ``None`` when ``tokens[i]`` is not ``(`` or the group is not closed.
    """
    if i >= end or tokens[i].key != "(":
        return None
    depth = 0
    for j in range(i, end):
        key = tokens[j].key
        if key == "(":
            depth += 1
        elif key == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


def find_word(tokens: list[Token], words: frozenset[str], i: int, end: int) -> int | None:
    """Index of the first keyword of ``words`` at parenthesis depth 0 from ``i``."""
    depth = 0
    for j in range(i, end):
        tok = tokens[j]
        key = tok.key
        if key == "(":
            depth += 1
        elif key == ")":
            depth -= 1
        elif depth == 0 and tok.type == WORD and key in words:
            return j
    return None
