"""DDL statements, read from their tokens.

What the driver needs from DDL is which objects it changes (to attribute the
statement to a range and regenerate capture triggers) and which other tables
it refers to (foreign-key parents, ``LIKE`` and ``AS SELECT`` sources). All of
that sits in the statement's head and in a few keywords (``REFERENCES``,
``RENAME TO``), so the tokens are read directly rather than parsed: sqlglot
gives up on much of MariaDB's DDL (``CREATE TRIGGER``, ``RENAME TABLE``,
``ALTER DATABASE``, partitioned tables) and reads ``ALTER TABLE t DROP
FOREIGN KEY fk`` as if ``fk`` were a table.

Objects that are not tables are reported as :class:`TableRef` too, so that
one set (``ddl_tables``) carries everything a range needs: the wildcard of
the database for ``CREATE/DROP DATABASE`` and stored programs, and
``mysql.*`` for accounts, roles and grants (which no range replicates).
"""

from __future__ import annotations

from collections.abc import Callable

from mdbc_py.sql.lexer import WORD, Token
from mdbc_py.sql.scan import Name, find_word, read_name
from mdbc_py.sql.statement import Kind, Statement, TableRef

__all__ = ["DDL_WORDS", "QueryTables", "ddl"]

DDL_WORDS = frozenset({"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "GRANT", "REVOKE"})
"""Leading words of the statements :func:`ddl` reads."""

QueryTables = Callable[[list[Token], int, int], "frozenset[TableRef] | None"]
"""Tables read by the query at ``tokens[start:end]``; ``None`` if it cannot tell."""

_MYSQL = TableRef.any_of("mysql")
_ACCOUNTS = frozenset({"USER", "ROLE", "SERVER", "TABLESPACE", "LOGFILE"})
_ROUTINES = frozenset({"PROCEDURE", "FUNCTION", "EVENT", "PACKAGE"})
_OBJECTS = (
    frozenset({"TABLE", "TABLES", "INDEX", "VIEW", "TRIGGER", "DATABASE", "SCHEMA", "SEQUENCE"})
    | _ACCOUNTS
    | _ROUTINES
)
_DB_OPTIONS = frozenset({"CHARACTER", "CHARSET", "DEFAULT", "COLLATE", "COMMENT"})


class _Ddl:
    """What one DDL statement touches, collected while reading it."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self.changed: set[TableRef] = set()
        self.read: set[TableRef] = set()
        self.complete = True
        self.temporary = False

    def statement(self) -> Statement:
        changed = frozenset(self.changed)
        return Statement(
            Kind.DDL,
            tables=changed | self.read,
            ddl_tables=changed,
            parsed=self.complete,
            implicit_commit=not self.temporary,
            temporary=self.temporary,
        )


def _skip_if_exists(tokens: list[Token], i: int, end: int) -> int:
    """Index after an optional ``IF [NOT] EXISTS``."""
    if i < end and tokens[i].key == "IF":
        j = i + 1
        if j < end and tokens[j].key == "NOT":
            j += 1
        if j < end and tokens[j].key == "EXISTS":
            return j + 1
    return i


def _object(tokens: list[Token], i: int, end: int, limit: int = 16) -> int | None:
    """Index of the object word (TABLE, VIEW ...) after the statement's modifiers.

    Skips ``OR REPLACE``, ``TEMPORARY``, ``DEFINER = user``, ``SQL SECURITY``,
    ``ALGORITHM = ...``, ``UNIQUE`` and the like without interpreting them.
    """
    for j in range(i, min(end, i + limit)):
        if tokens[j].type == WORD and tokens[j].key in _OBJECTS:
            return j
    return None


def _names(tokens: list[Token], i: int, end: int) -> list[Name] | None:
    """A comma-separated list of names, as in ``DROP TABLE a, db.b``."""
    names: list[Name] = []
    while True:
        name = read_name(tokens, i, end)
        if name is None:
            return None
        names.append(name)
        i = name.next
        if i < end and tokens[i].key == ",":
            i += 1
            continue
        return names


def _references(tokens: list[Token], start: int, end: int, out: _Ddl) -> None:
    """Add the parent tables of ``REFERENCES parent (...)`` clauses to ``out.read``."""
    for j in range(start, end):
        if tokens[j].key == "REFERENCES" and tokens[j].type == WORD:
            name = read_name(tokens, j + 1, end)
            if name is not None:
                out.read.add(name.ref(out.db))


def _query_start(tokens: list[Token], i: int, end: int) -> int | None:
    """Index where the query of ``CREATE TABLE ... [AS] SELECT`` or a view starts."""
    depth = 0
    for j in range(i, end):
        key = tokens[j].key
        if key in ("SELECT", "WITH") and tokens[j].type == WORD:
            if depth == 0:
                return j
            if depth == 1 and tokens[j - 1].key == "(":
                return j - 1
        if key == "(":
            depth += 1
        elif key == ")":
            depth -= 1
    return None


def _query(tokens: list[Token], q: int | None, end: int, out: _Ddl, query: QueryTables) -> None:
    if q is None:
        return
    tables = query(tokens, q, end)
    if tables is None:
        out.complete = False
    else:
        out.read.update(tables)


def _create(tokens: list[Token], start: int, end: int, out: _Ddl, query: QueryTables) -> bool:
    obj = _object(tokens, start + 1, end)
    if obj is None:
        return False
    out.temporary = any(tokens[j].key == "TEMPORARY" for j in range(start + 1, obj))
    kind = tokens[obj].key
    i = obj + 1
    if kind == "PACKAGE" and i < end and tokens[i].key == "BODY":
        i += 1
    if kind in _ACCOUNTS:  # named 'user'@'host', not like a table
        out.changed.add(_MYSQL)
        return True
    i = _skip_if_exists(tokens, i, end)
    if kind == "INDEX":
        on = find_word(tokens, frozenset({"ON"}), i, end)
        name = read_name(tokens, on + 1, end) if on is not None else None
        if name is None:
            return False
        out.changed.add(name.ref(out.db))
        return True
    name = read_name(tokens, i, end)
    if name is None:
        return False
    if kind in _ROUTINES:
        out.changed.add(TableRef.any_of(name.db or out.db))
    elif kind in ("DATABASE", "SCHEMA"):
        out.changed.add(TableRef.any_of(name.name))
    elif kind == "TRIGGER":
        on = find_word(tokens, frozenset({"ON"}), name.next, end)
        table = read_name(tokens, on + 1, end) if on is not None else None
        if table is None:
            return False
        out.changed.add(table.ref(name.db or out.db))
    else:  # TABLE, VIEW, SEQUENCE
        out.changed.add(name.ref(out.db))
        i = name.next
        if kind == "TABLE":
            like = i + 1 if i < end and tokens[i].key == "(" else i
            if like < end and tokens[like].key == "LIKE":
                source = read_name(tokens, like + 1, end)
                if source is None:
                    return False
                out.read.add(source.ref(out.db))
                return True
        q = _query_start(tokens, i, end) if kind in ("TABLE", "VIEW") else None
        _references(tokens, i, q if q is not None else end, out)
        _query(tokens, q, end, out, query)
    return True


def _alter(tokens: list[Token], start: int, end: int, out: _Ddl, query: QueryTables) -> bool:
    obj = _object(tokens, start + 1, end)
    if obj is None:
        return False
    kind = tokens[obj].key
    if kind in _ACCOUNTS:
        out.changed.add(_MYSQL)
        return True
    i = _skip_if_exists(tokens, obj + 1, end)
    if kind in ("DATABASE", "SCHEMA"):
        if i >= end or tokens[i].key in _DB_OPTIONS:
            out.changed.add(TableRef.any_of(out.db))
            return True
        name = read_name(tokens, i, end)
        if name is None:
            return False
        out.changed.add(TableRef.any_of(name.name))
        return True
    name = read_name(tokens, i, end)
    if name is None:
        return False
    if kind in _ROUTINES:
        out.changed.add(TableRef.any_of(name.db or out.db))
    elif kind == "VIEW":
        out.changed.add(name.ref(out.db))
        _query(tokens, _query_start(tokens, name.next, end), end, out, query)
    elif kind in ("TABLE", "SEQUENCE"):
        out.changed.add(name.ref(out.db))
        _alter_table_actions(tokens, name.next, end, out)
    else:
        return False
    return True


def _alter_table_actions(tokens: list[Token], i: int, end: int, out: _Ddl) -> None:
    """Tables named by ``ALTER TABLE`` actions: renames, exchanges, FK parents."""
    _references(tokens, i, end, out)
    depth = 0
    for j in range(i, end):
        key = tokens[j].key
        if key == "(":
            depth += 1
        elif key == ")":
            depth -= 1
        elif depth or tokens[j].type != WORD:
            continue
        elif key == "RENAME":
            k = j + 1
            if k < end and tokens[k].key in ("COLUMN", "INDEX", "KEY", "CONSTRAINT"):
                continue
            if k < end and tokens[k].key in ("TO", "AS"):
                k += 1
            target = read_name(tokens, k, end)
            if target is not None:
                out.changed.add(target.ref(out.db))
        elif key == "WITH" and j + 1 < end and tokens[j + 1].key == "TABLE":
            other = read_name(tokens, j + 2, end)  # EXCHANGE PARTITION p WITH TABLE t
            if other is not None:
                out.changed.add(other.ref(out.db))


def _drop(tokens: list[Token], start: int, end: int, out: _Ddl) -> bool:
    obj = _object(tokens, start + 1, end, limit=3)
    if obj is None:
        return False
    out.temporary = tokens[start + 1].key == "TEMPORARY"
    kind = tokens[obj].key
    if kind in _ACCOUNTS:
        out.changed.add(_MYSQL)
        return True
    i = _skip_if_exists(tokens, obj + 1, end)
    names = _names(tokens, i, end)
    if not names:
        return False
    if kind == "INDEX":
        if names[0].next >= end or tokens[names[0].next].key != "ON":
            return False
        table = read_name(tokens, names[0].next + 1, end)
        if table is None:
            return False
        out.changed.add(table.ref(out.db))
    elif kind in ("DATABASE", "SCHEMA"):
        out.changed.add(TableRef.any_of(names[0].name))
    elif kind in _ROUTINES or kind == "TRIGGER":
        # A trigger's table is not named by DROP TRIGGER: any table of its database.
        out.changed.update(TableRef.any_of(n.db or out.db) for n in names)
    else:  # TABLE, VIEW, SEQUENCE
        out.changed.update(n.ref(out.db) for n in names)
    return True


def _rename(tokens: list[Token], start: int, end: int, out: _Ddl) -> bool:
    """``RENAME TABLE a TO b [, c TO d]``: old and new names are both changed."""
    kind = tokens[start + 1].key if start + 1 < end else ""
    if kind in _ACCOUNTS:
        out.changed.add(_MYSQL)
        return True
    if kind not in ("TABLE", "TABLES"):
        return False
    i = _skip_if_exists(tokens, start + 2, end)
    while True:
        old = read_name(tokens, i, end)
        if old is None:
            return False
        i = old.next
        while i < end and tokens[i].key != "TO":  # WAIT n | NOWAIT
            i += 1
        new = read_name(tokens, i + 1, end)
        if new is None:
            return False
        out.changed.add(old.ref(out.db))
        out.changed.add(new.ref(out.db))
        i = new.next
        if i >= end:
            return True
        if tokens[i].key != ",":
            return False
        i += 1


def _truncate(tokens: list[Token], start: int, end: int, out: _Ddl) -> bool:
    i = start + 1
    if i < end and tokens[i].key == "TABLE":
        i += 1
    name = read_name(tokens, i, end)
    if name is None:
        return False
    out.changed.add(name.ref(out.db))
    return True


def ddl(
    tokens: list[Token], start: int, end: int, db: str | None, query: QueryTables
) -> Statement | None:
    """Classify a statement led by a word of :data:`DDL_WORDS`.

    ``query`` analyses embedded queries (``CREATE VIEW ... AS SELECT``).
    ``None`` means the statement is not DDL MariaDB would accept, as far as
    can be told, and the caller treats it as unknown. ``DROP PREPARE`` is a
    session statement and is returned as such.
    """
    key = tokens[start].key
    out = _Ddl(db)
    if key in ("GRANT", "REVOKE"):
        out.changed.add(_MYSQL)
        return out.statement()
    if key == "DROP" and start + 1 < end and tokens[start + 1].key == "PREPARE":
        return Statement(Kind.SESSION)
    if key == "CREATE":
        ok = _create(tokens, start, end, out, query)
    elif key == "ALTER":
        ok = _alter(tokens, start, end, out, query)
    elif key == "DROP":
        ok = _drop(tokens, start, end, out)
    elif key == "RENAME":
        ok = _rename(tokens, start, end, out)
    elif key == "TRUNCATE":
        ok = _truncate(tokens, start, end, out)
    else:
        ok = False
    return out.statement() if ok else None
