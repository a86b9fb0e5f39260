"""Classify the common simple DML and SELECT statements from tokens alone.

Nearly everything SO sends is one of a few shapes: Hibernate's ``select ...
from t1 left join t2 on ... where ...``, ``insert into t (...) values
(...)``, ``update t set ... where ...``, ``delete from t where ...``, and
Camunda's MyBatis statements of the same shapes. For those the token list
alone says which tables are read and written, and whether a SELECT ends in
``FOR UPDATE`` / ``LOCK IN SHARE MODE``, in tens of microseconds instead of
the millisecond sqlglot needs.

Each reader here accepts only shapes it understands completely and returns
``None`` for anything else (a subquery, a CTE, a union, ``INTO``, index
hints, a sequence function ...); the caller then asks sqlglot. The unit
tests check that, whenever a reader answers, sqlglot answers the same.
"""

from __future__ import annotations

from mdbc_py.sql.lexer import PUNCT, WORD, Token
from mdbc_py.sql.scan import is_identifier, read_name, skip_group
from mdbc_py.sql.statement import Kind, Statement, TableRef

__all__ = ["simple_delete", "simple_insert", "simple_select", "simple_update"]

# Words that make a SELECT too complex for the fast path, wherever they are
# (a trailing locking clause is removed before this check). FOR and LOCK
# elsewhere: FOR SYSTEM_TIME, NEXT VALUE FOR; NEXTVAL/SETVAL: sequence
# functions, which write; INTO: SELECT ... INTO.
_SELECT_BAIL = frozenset(
    {
        "SELECT",
        "WITH",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "INTO",
        "FOR",
        "LOCK",
        "PROCEDURE",
        "NEXTVAL",
        "SETVAL",
        "JSON_TABLE",
        "LATERAL",
        "VALUES",
    }
)
_DML_BAIL = frozenset({"SELECT", "WITH", "TABLE", "FOR", "NEXTVAL", "SETVAL"})

_CLAUSE_END = frozenset({"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "WINDOW"})
_JOIN_START = frozenset({"JOIN", "INNER", "CROSS", "LEFT", "RIGHT", "NATURAL", "STRAIGHT_JOIN"})
_JOIN_PREFIX = frozenset({"NATURAL", "LEFT", "RIGHT", "OUTER", "INNER", "CROSS"})
# Words that, after a table name, cannot be its alias.
_NOT_ALIAS = (
    _CLAUSE_END
    | _JOIN_START
    | frozenset(
        {
            "ON",
            "USING",
            "AS",
            "OUTER",
            "USE",
            "FORCE",
            "IGNORE",
            "PARTITION",
            "FOR",
            "LOCK",
            "INTO",
            "UNION",
            "EXCEPT",
            "INTERSECT",
            "SET",
            "VALUES",
            "VALUE",
            "RETURNING",
            "OFFSET",
            "FETCH",
            "PROCEDURE",
        }
    )
)


def _has_word(tokens: list[Token], words: frozenset[str], start: int, end: int) -> bool:
    return any(tokens[j].type == WORD and tokens[j].key in words for j in range(start, end))


def _skip_alias(tokens: list[Token], i: int, end: int) -> int | None:
    """Index after an optional ``[AS] alias`` at ``i``; ``None`` if malformed."""
    if i < end and tokens[i].key == "AS":
        return i + 2 if i + 1 < end and is_identifier(tokens[i + 1]) else None
    if i < end and is_identifier(tokens[i]) and tokens[i].key not in _NOT_ALIAS:
        return i + 1
    return i


def _table_factor(
    tokens: list[Token], i: int, end: int, db: str | None, refs: set[TableRef]
) -> int | None:
    """Read ``name [PARTITION (...)] [[AS] alias]``; add the table to ``refs``."""
    name = read_name(tokens, i, end)
    if name is None:
        return None
    tok = tokens[i]
    if not (name.db is None and tok.type == WORD and tok.key == "DUAL"):
        refs.add(name.ref(db))
    i = name.next
    if i < end and tokens[i].key == "PARTITION":
        j = skip_group(tokens, i + 1, end)
        if j is None:
            return None
        i = j
    return _skip_alias(tokens, i, end)


def _skip_on(tokens: list[Token], i: int, end: int) -> int:
    """Index after a join condition: at the next join, ``,`` or clause at depth 0."""
    depth = 0
    while i < end:
        tok = tokens[i]
        key = tok.key
        if key == "(":
            depth += 1
        elif key == ")":
            depth -= 1
        elif depth == 0:
            if key == "," or (tok.type == WORD and key in _CLAUSE_END):
                return i
            is_function = i + 1 < end and tokens[i + 1].key == "("  # LEFT(), RIGHT()
            if tok.type == WORD and key in _JOIN_START and not is_function:
                return i
        i += 1
    return i


def _from_clause(
    tokens: list[Token], i: int, end: int, db: str | None
) -> frozenset[TableRef] | None:
    """Tables of a FROM clause made of plain tables, commas and joins."""
    refs: set[TableRef] = set()
    while True:
        nxt = _table_factor(tokens, i, end, db, refs)
        if nxt is None:
            return None
        i = nxt
        if i < end and tokens[i].key == "ON":
            i = _skip_on(tokens, i + 1, end)
        elif i < end and tokens[i].key == "USING":
            nxt = skip_group(tokens, i + 1, end)
            if nxt is None:
                return None
            i = nxt
        if i >= end or tokens[i].key in _CLAUSE_END:
            return frozenset(refs)
        if tokens[i].key == ",":
            i += 1
            continue
        while i < end and tokens[i].key in _JOIN_PREFIX:
            i += 1
        if i < end and tokens[i].key in ("JOIN", "STRAIGHT_JOIN"):
            i += 1
            continue
        return None


def _locking_suffix(tokens: list[Token], start: int, end: int) -> int:
    """Where a trailing ``FOR UPDATE [...]`` or ``LOCK IN SHARE MODE [...]`` starts.

    ``end`` when there is none. The wait options (``NOWAIT``, ``WAIT n``,
    ``SKIP LOCKED``) may follow either.
    """
    i = end
    last_two = [t.key for t in tokens[max(start, end - 2) : end]]
    if last_two[-1:] == ["NOWAIT"]:
        i -= 1
    elif last_two[:1] == ["WAIT"] or last_two == ["SKIP", "LOCKED"]:
        i -= 2
    if i - 2 > start and tokens[i - 2].key == "FOR" and tokens[i - 1].key == "UPDATE":
        return i - 2
    if i - 4 > start and [t.key for t in tokens[i - 4 : i]] == ["LOCK", "IN", "SHARE", "MODE"]:
        return i - 4
    return end


def simple_select(tokens: list[Token], start: int, end: int, db: str | None) -> Statement | None:
    """A plain SELECT over tables and joins, without subqueries, maybe locking."""
    if tokens[start].key != "SELECT":
        return None
    lock_at = _locking_suffix(tokens, start, end)
    locking = lock_at < end
    end = lock_at
    from_at = -1
    depth = 0
    for j in range(start + 1, end):
        tok = tokens[j]
        if tok.type == PUNCT:
            if tok.key == "(":
                depth += 1
            elif tok.key == ")":
                depth -= 1
        elif tok.type == WORD:
            if tok.key in _SELECT_BAIL:
                return None
            if tok.key == "FROM" and depth == 0:
                if from_at >= 0:
                    return None
                from_at = j
    if depth != 0:
        return None
    if from_at < 0:
        return None if locking else Statement(Kind.READ)
    tables = _from_clause(tokens, from_at + 1, end, db)
    if tables is None:
        return None
    return Statement(Kind.READ, tables=tables, locking=locking)


def _write_of(target: TableRef) -> Statement:
    one = frozenset((target,))
    return Statement(Kind.WRITE, tables=one, written=one)


def simple_insert(tokens: list[Token], start: int, end: int, db: str | None) -> Statement | None:
    """``INSERT``/``REPLACE [INTO] t [(cols)] VALUES|SET ...`` without subqueries."""
    if tokens[start].key not in ("INSERT", "REPLACE") or _has_word(tokens, _DML_BAIL, start, end):
        return None
    i = start + 1
    while i < end and tokens[i].key in ("LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"):
        i += 1
    if i < end and tokens[i].key == "INTO":
        i += 1
    name = read_name(tokens, i, end)
    if name is None:
        return None
    i = name.next
    if i < end and tokens[i].key == "PARTITION":
        nxt = skip_group(tokens, i + 1, end)
        if nxt is None:
            return None
        i = nxt
    if i < end and tokens[i].key == "(":
        nxt = skip_group(tokens, i, end)
        if nxt is None:
            return None
        i = nxt
    if i >= end or tokens[i].key not in ("VALUES", "VALUE", "SET"):
        return None
    return _write_of(name.ref(db))


def simple_update(tokens: list[Token], start: int, end: int, db: str | None) -> Statement | None:
    """``UPDATE t [[AS] alias] SET ...`` of one table, without subqueries."""
    if tokens[start].key != "UPDATE" or _has_word(tokens, _DML_BAIL, start, end):
        return None
    i = start + 1
    while i < end and tokens[i].key in ("LOW_PRIORITY", "IGNORE"):
        i += 1
    name = read_name(tokens, i, end)
    if name is None:
        return None
    at_set = _skip_alias(tokens, name.next, end)
    if at_set is None or at_set >= end or tokens[at_set].key != "SET":
        return None
    return _write_of(name.ref(db))


def simple_delete(tokens: list[Token], start: int, end: int, db: str | None) -> Statement | None:
    """``DELETE FROM t [WHERE|ORDER BY|LIMIT|RETURNING ...]`` of one table, without subqueries."""
    if tokens[start].key != "DELETE" or _has_word(tokens, _DML_BAIL, start, end):
        return None
    i = start + 1
    while i < end and tokens[i].key in ("LOW_PRIORITY", "QUICK", "IGNORE"):
        i += 1
    if i >= end or tokens[i].key != "FROM":
        return None
    name = read_name(tokens, i + 1, end)
    if name is None:
        return None
    i = name.next
    if i < end and tokens[i].key == "PARTITION":
        nxt = skip_group(tokens, i + 1, end)
        if nxt is None:
            return None
        i = nxt
    i2 = _skip_alias(tokens, i, end)
    if i2 is None:
        return None
    if i2 < end and tokens[i2].key not in ("WHERE", "ORDER", "LIMIT", "RETURNING"):
        return None
    return _write_of(name.ref(db))
