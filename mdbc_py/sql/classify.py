"""``classify()``: one SQL string in, one :class:`Statement` out, cached.

The driver calls this for every ``execute()``, with the SQL *template* (before
parameters are interpolated), so the same few hundred strings come back again
and again: an LRU cache keyed by ``(sql, current_db)`` answers those in well
under a microsecond. A miss goes through, in order:

1. the lexer (comments, executable comments, placeholders, ``;``);
2. a dispatch on the leading keyword: transaction control, ``SET``, ``USE``,
   ``SHOW`` and other session statements, DDL and ``LOCK TABLES`` are read
   from their tokens, because their grammar is short and sqlglot misreads
   several of them;
3. for queries and DML, the fast path (plain SELECT/INSERT/UPDATE/DELETE
   shapes, read from tokens), then sqlglot for everything else.

Nothing the application sends makes this raise: SQL that cannot be
understood is reported as :attr:`Kind.UNKNOWN` with ``parsed=False`` and the
wildcard of the current database in ``written`` (MariaDB will reject it, or
it does something this module cannot see; either way the driver must not
treat it as a harmless read).

Limits, by design: stored functions called from a query may write tables
nobody can see from the SQL, so a query or session statement that calls one
is flagged ``calls_routine`` (the driver then reads the staged rows at
commit); ``PREPARE``/``EXECUTE`` of SQL text held in a variable and ``CALL``
are reported as UNKNOWN writes of the routine's database.
"""

from __future__ import annotations

import dataclasses
import functools
import logging

from mdbc_py.sql import ddl as ddl_reader
from mdbc_py.sql import session, tree
from mdbc_py.sql.fastpath import simple_delete, simple_insert, simple_select, simple_update
from mdbc_py.sql.lexer import PUNCT, WORD, Token, split_statements, tokenize
from mdbc_py.sql.rewrite import for_sqlglot
from mdbc_py.sql.routines import calls_stored_function
from mdbc_py.sql.scan import find_word, is_identifier, read_name
from mdbc_py.sql.statement import Kind, Statement, TableRef, combine

__all__ = ["CACHE_SIZE", "MAX_CACHED_LENGTH", "cache_clear", "cache_info", "classify"]

log = logging.getLogger(__name__)

CACHE_SIZE = 4096
"""Most (sql, current_db) pairs kept; far more than the templates SO uses."""

MAX_CACHED_LENGTH = 16384
"""Longer SQL is classified but not cached: such strings (bulk ``INSERT`` with
inlined values, generated scripts) rarely repeat and would crowd the cache."""

_QUERY_WORDS = frozenset({"SELECT", "WITH", "TABLE", "VALUES"})
_DML_WORDS = frozenset({"INSERT", "REPLACE", "UPDATE", "DELETE"})
_TCL_WORDS = frozenset(
    {"BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA", "LOCK", "UNLOCK"}
)
# Statements ANALYZE runs (ANALYZE TABLE is the statistics command instead).
_ANALYZED = frozenset({"SELECT", "WITH", "VALUES", "(", "INSERT", "REPLACE", "UPDATE", "DELETE"})
_COMPOUND_WORDS = frozenset({"BEGIN", "IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"})


def _opaque(db: str | None, *, parsed: bool) -> Statement:
    """A statement that may write any table of ``db``, as far as anyone can tell."""
    anything = frozenset((TableRef.any_of(db),))
    return Statement(Kind.UNKNOWN, tables=anything, written=anything, parsed=parsed)


def _unknown(db: str | None) -> Statement:
    return _opaque(db, parsed=False)


def _query(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    found = simple_select(tokens, start, end, db)
    if found is None:
        found = tree.analyze(for_sqlglot(tokens, start, end), db)
    return found if found is not None else _unknown(db)


def _query_tables(db: str | None) -> ddl_reader.QueryTables:
    """Callback for the DDL reader: tables read by an embedded query."""

    def tables(tokens: list[Token], start: int, end: int) -> frozenset[TableRef] | None:
        found = simple_select(tokens, start, end, db)
        if found is None:
            found = tree.analyze(for_sqlglot(tokens, start, end), db)
        return None if found is None else found.tables

    return tables


def _dml(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    key = tokens[start].key
    if key in ("INSERT", "REPLACE"):
        found = simple_insert(tokens, start, end, db)
    elif key == "UPDATE":
        found = simple_update(tokens, start, end, db)
    else:
        found = simple_delete(tokens, start, end, db)
    if found is None:
        found = tree.analyze(for_sqlglot(tokens, start, end), db)
    return found if found is not None else _unknown(db)


def _load(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    """``LOAD DATA|XML ... INTO TABLE t ...`` writes ``t``."""
    for j in range(start + 2, end - 2):
        if tokens[j].key == "INTO" and tokens[j + 1].key == "TABLE":
            name = read_name(tokens, j + 2, end)
            if name is not None:
                target = frozenset((name.ref(db),))
                return Statement(Kind.WRITE, tables=target, written=target)
    return _unknown(db)


def _call(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    """``CALL [db.]proc(...)``: may write anything in the routine's database."""
    name = read_name(tokens, start + 1, end)
    if name is None:
        return _unknown(db)
    return _opaque(name.db or db, parsed=True)


def _handler(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    """``HANDLER t OPEN|READ|CLOSE``: a read; ``OPEN`` names the table."""
    name = read_name(tokens, start + 1, end)
    if name is None:
        return _unknown(db)
    if name.next < end and tokens[name.next].key == "OPEN":
        return Statement(Kind.READ, tables=frozenset((name.ref(db),)))
    return Statement(Kind.READ)


def _analyze(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    """``ANALYZE TABLE`` administers; ``ANALYZE <statement>`` *runs* the statement."""
    i = start + 1
    if i + 2 < end and tokens[i].key == "FORMAT" and tokens[i + 1].key == "=":
        i += 3
    if i < end and tokens[i].key in _ANALYZED:
        return _one(tokens, i, end, db)
    return session.admin(tokens, start)


def _set(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    """``SET``; ``SET STATEMENT var=value [, ...] FOR <statement>`` runs the statement."""
    if start + 1 < end and tokens[start + 1].key == "STATEMENT":
        at = find_word(tokens, frozenset({"FOR"}), start + 2, end)
        if at is None or at + 1 >= end:
            return _unknown(db)
        return _one(tokens, at + 1, end, db)
    return session.set_statement(tokens, start, end)


def _sequence_writes(tokens: list[Token], start: int, end: int, db: str | None) -> set[TableRef]:
    """Sequences advanced by ``NEXTVAL(s)``, ``SETVAL(s, n)`` or ``NEXT VALUE FOR s``."""
    found: set[TableRef] = set()
    for j in range(start, end - 2):
        key = tokens[j].key
        name = None
        if key in ("NEXTVAL", "SETVAL") and tokens[j + 1].key == "(":
            name = read_name(tokens, j + 2, end)
        elif key == "NEXT" and tokens[j + 1].key == "VALUE" and tokens[j + 2].key == "FOR":
            name = read_name(tokens, j + 3, end)
        if name is not None:
            found.add(name.ref(db))
    return found


def _with_sequences(stmt: Statement, seqs: set[TableRef]) -> Statement:
    """``stmt`` amended with the sequences it advances (a sequence is a table)."""
    kind = Kind.WRITE if stmt.kind in (Kind.READ, Kind.SESSION) else stmt.kind
    return dataclasses.replace(
        stmt, kind=kind, tables=stmt.tables | seqs, written=stmt.written | seqs
    )


def _dispatch(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    lead = start
    while lead < end and tokens[lead].key == "(":
        lead += 1
    if lead == end:
        return _unknown(db)
    tok = tokens[lead]
    key = tok.key
    if tok.type != WORD:
        return _unknown(db)
    if key in _QUERY_WORDS:
        return _query(tokens, start, end, db)
    if lead != start:
        return _unknown(db)
    nxt = tokens[start + 1].key if start + 1 < end else ""
    if key in _DML_WORDS:
        return _dml(tokens, start, end, db)
    if key in ddl_reader.DDL_WORDS:
        found = ddl_reader.ddl(tokens, start, end, db, _query_tables(db))
        return found if found is not None else _unknown(db)
    if key in _TCL_WORDS:
        found = session.transaction(tokens, start, end, db)
        if found is not None:
            return found
        if key == "BEGIN":  # BEGIN NOT ATOMIC ... END: a compound block
            return _opaque(db, parsed=True)
    if key == "SET":
        return _set(tokens, start, end, db)
    if key == "USE":
        return session.use(tokens, start, end) or _unknown(db)
    if key == "LOAD" and nxt in ("DATA", "XML"):
        return _load(tokens, start, end, db)
    if key == "ANALYZE":
        return _analyze(tokens, start, end, db)
    if key in session.ADMIN:
        return session.admin(tokens, start)
    if key == "CALL":
        return _call(tokens, start, end, db)
    if key == "HANDLER":
        return _handler(tokens, start, end, db)
    if key == "EXECUTE" or key in _COMPOUND_WORDS:
        return _opaque(db, parsed=True)
    if nxt == ":" and is_identifier(tok):  # label: BEGIN ... END, a compound block
        return _opaque(db, parsed=True)
    return _unknown(db)


def _one(tokens: list[Token], start: int, end: int, db: str | None) -> Statement:
    """Classify the statement at ``tokens[start:end]``."""
    stmt = _dispatch(tokens, start, end, db)
    if stmt.kind not in (Kind.DDL, Kind.TCL):
        seqs = _sequence_writes(tokens, start, end, db)
        if seqs:
            stmt = _with_sequences(stmt, seqs)
    if stmt.kind in (Kind.READ, Kind.SESSION) and calls_stored_function(tokens, start, end):
        stmt = dataclasses.replace(stmt, calls_routine=True)
    return stmt


def _classify(sql: str, current_db: str | None) -> Statement:
    lexed = tokenize(sql)
    tokens = lexed.tokens
    spans = split_statements(tokens)
    if not spans:
        return _unknown(current_db) if lexed.error else Statement(Kind.READ)
    # An unterminated string or comment cuts the last statement short.
    cut = lexed.error and spans[-1][1] == len(tokens)
    parts: list[Statement] = []
    db = current_db
    for n, (start, end) in enumerate(spans):
        if cut and n == len(spans) - 1:
            break
        try:
            stmt = _one(tokens, start, end, db)
        except Exception as exc:  # a defect here must not fail the application's query
            first = tokens[start].key if tokens[start].type in (WORD, PUNCT) else "?"
            log.warning("cannot classify a %s statement (%r); treating it as unknown", first, exc)
            stmt = _unknown(db)
        parts.append(stmt)
        if stmt.use_db is not None:
            db = stmt.use_db
    if lexed.error:
        parts.append(_unknown(db))
    return combine(parts)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _classify_cached(sql: str, current_db: str | None) -> Statement:
    return _classify(sql, current_db)


def classify(sql: str, current_db: str | None) -> Statement:
    """Classify ``sql`` (one statement or several separated by ``;``).

    ``current_db`` is the connection's current database, used for
    unqualified table names; a ``USE`` inside ``sql`` changes it for the
    statements after it. Parameter placeholders (``%s``, ``%(name)s``,
    ``?``) may be left in: the template is what should be classified.
    Never raises for any string.
    """
    if not isinstance(sql, str):
        raise TypeError(f"SQL must be str, not {type(sql).__name__}")
    if len(sql) > MAX_CACHED_LENGTH:
        return _classify(sql, current_db)
    return _classify_cached(sql, current_db)


def cache_info() -> functools._CacheInfo:
    """Hits, misses and size of the classification cache (for metrics)."""
    return _classify_cached.cache_info()


def cache_clear() -> None:
    """Empty the classification cache."""
    _classify_cached.cache_clear()
