"""Transaction-control and session statements, read from their tokens.

These statements have a fixed, short grammar, and sqlglot misreads several
of them (``SAVEPOINT sp`` becomes an alias expression, ``RELEASE SAVEPOINT``
and ``XA`` do not parse, ``LOCK TABLES`` is an opaque command), so they are
read directly. They are also among the most frequent statements a driver
sees (``SET autocommit``, ``COMMIT``, ``ROLLBACK``), which makes reading them
without a parser worthwhile on its own.
"""

from __future__ import annotations

from mdbc_py.sql.lexer import STRING, WORD, Token
from mdbc_py.sql.scan import read_name
from mdbc_py.sql.statement import Kind, Statement, TableRef, Tcl

__all__ = ["ADMIN", "admin", "set_statement", "transaction", "use"]

ADMIN = frozenset(
    {
        "SHOW",
        "DESCRIBE",
        "DESC",
        "EXPLAIN",
        "HELP",
        "DO",
        "PREPARE",
        "DEALLOCATE",
        "FLUSH",
        "KILL",
        "RESET",
        "PURGE",
        "CHECK",
        "CHECKSUM",
        "OPTIMIZE",
        "REPAIR",
        "ANALYZE",
        "CACHE",
        "INSTALL",
        "UNINSTALL",
        "SIGNAL",
        "RESIGNAL",
        "GET",
        "CHANGE",
        "STOP",
        "START",
        "SHUTDOWN",
        "BACKUP",
        "LOAD",
    }
)
"""Leading words of statements that inspect or administer, never change rows.

``START`` and ``LOAD`` are here for ``START SLAVE`` and ``LOAD INDEX``; the
caller dispatches ``START TRANSACTION`` and ``LOAD DATA`` first. ``EXPLAIN``
and ``DESCRIBE`` do not run the statement they explain (MariaDB's
``ANALYZE <statement>`` does, and is dispatched by the caller).
"""

# Admin statements that MariaDB runs only after committing the open transaction.
_ADMIN_COMMITS = frozenset(
    {
        "FLUSH",
        "RESET",
        "CHECK",
        "OPTIMIZE",
        "REPAIR",
        "ANALYZE",
        "CACHE",
        "INSTALL",
        "UNINSTALL",
        "CHANGE",
        "STOP",
        "START",
        "LOAD",
    }
)


def admin(tokens: list[Token], start: int) -> Statement:
    """A statement of :data:`ADMIN`: session kind, no tables."""
    return Statement(Kind.SESSION, implicit_commit=tokens[start].key in _ADMIN_COMMITS)


def _tcl(op: Tcl, *, implicit_commit: bool = False) -> Statement:
    return Statement(Kind.TCL, tcl=op, implicit_commit=implicit_commit)


def _lock_tables(tokens: list[Token], start: int, end: int, db: str | None) -> Statement | None:
    """``LOCK TABLE[S] t [[AS] a] READ|WRITE ..., ...``: the tables locked."""
    refs: set[TableRef] = set()
    i = start + 2
    while True:
        name = read_name(tokens, i, end)
        if name is None:
            return None
        refs.add(name.ref(db))
        i = name.next
        while i < end and tokens[i].key != ",":
            i += 1
        if i >= end:
            break
        i += 1
    return Statement(Kind.TCL, tables=frozenset(refs), tcl=Tcl.LOCK_TABLES, implicit_commit=True)


def transaction(tokens: list[Token], start: int, end: int, db: str | None) -> Statement | None:
    """Classify a transaction-control statement; ``None`` if it is not one.

    ``BEGIN NOT ATOMIC`` (a compound block), ``START SLAVE`` and ``LOCK``
    without ``TABLES`` are not transaction control and return ``None``.
    """
    key = tokens[start].key
    nxt = tokens[start + 1].key if start + 1 < end else ""
    if key == "BEGIN":
        if nxt in ("", "WORK") and end - start <= 2:
            return _tcl(Tcl.BEGIN, implicit_commit=True)
        return None
    if key == "START":
        return _tcl(Tcl.BEGIN, implicit_commit=True) if nxt == "TRANSACTION" else None
    if key == "COMMIT":
        return _tcl(Tcl.COMMIT)
    if key == "ROLLBACK":
        if any(tokens[i].key == "TO" for i in range(start + 1, end)):
            return _tcl(Tcl.ROLLBACK_TO_SAVEPOINT)
        return _tcl(Tcl.ROLLBACK)
    if key == "SAVEPOINT":
        return _tcl(Tcl.SAVEPOINT)
    if key == "RELEASE":
        return _tcl(Tcl.RELEASE_SAVEPOINT) if nxt == "SAVEPOINT" else None
    if key == "XA":
        return _tcl(Tcl.XA)
    if key == "LOCK":
        return _lock_tables(tokens, start, end, db) if nxt in ("TABLE", "TABLES") else None
    if key == "UNLOCK":
        return _tcl(Tcl.UNLOCK_TABLES, implicit_commit=True)
    return None


_TRUE_WORDS = frozenset({"1", "ON", "TRUE"})
_FALSE_WORDS = frozenset({"0", "OFF", "FALSE"})
_GLOBAL_SCOPES = frozenset({"GLOBAL", "@@GLOBAL"})
_SESSION_SCOPES = frozenset({"SESSION", "LOCAL", "@@SESSION", "@@LOCAL"})


def _switch_value(tokens: list[Token]) -> bool | None:
    """The boolean a ``SET`` assigns, if it is a literal the server would accept."""
    if len(tokens) != 1:
        return None
    tok = tokens[0]
    if tok.type == STRING:
        text = tok.text[1:-1].upper()
    elif tok.type == WORD:
        text = tok.key
    else:
        return None
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    return None


def _assignments(tokens: list[Token], start: int, end: int) -> list[tuple[int, int]]:
    """Token ranges of the comma-separated items of a SET list."""
    items: list[tuple[int, int]] = []
    depth = 0
    item_start = start
    for i in range(start, end):
        key = tokens[i].key
        if key == "(":
            depth += 1
        elif key == ")":
            depth -= 1
        elif key == "," and depth == 0:
            items.append((item_start, i))
            item_start = i + 1
    items.append((item_start, end))
    return items


def _autocommit_assignment(tokens: list[Token], start: int, end: int) -> tuple[bool, bool | None]:
    """Whether an item assigns the session's autocommit, and the value if known."""
    eq = next((i for i in range(start, end) if tokens[i].key == "="), None)
    if eq is None:
        return False, None
    lhs = [t for t in tokens[start:eq] if t.key not in (".", ":")]
    if not lhs or lhs[-1].key.lstrip("@") != "AUTOCOMMIT":
        return False, None
    if lhs[-1].key.startswith("@") and not lhs[-1].key.startswith("@@"):
        return False, None  # a user variable named @autocommit
    if lhs[0].key in _GLOBAL_SCOPES:
        return False, None  # the default for new sessions, not this one
    if len(lhs) > 1 and lhs[0].key not in _SESSION_SCOPES:
        return False, None
    return True, _switch_value(tokens[eq + 1 : end])


def set_statement(tokens: list[Token], start: int, end: int) -> Statement:
    """Classify ``SET ...`` (``SET STATEMENT ... FOR`` is the caller's).

    ``SET [GLOBAL|SESSION] TRANSACTION`` is transaction control; ``SET
    PASSWORD`` and ``SET DEFAULT ROLE`` change accounts (DDL of the ``mysql``
    schema); everything else changes session variables. ``SET autocommit``
    reports the value it sets; when that value is not a literal (``@saved``,
    ``DEFAULT``) only the server knows it, and ``parsed`` is False.
    """
    first = tokens[start + 1].key if start + 1 < end else ""
    second = tokens[start + 2].key if start + 2 < end else ""
    if first == "TRANSACTION" or (
        first in ("GLOBAL", "SESSION", "LOCAL") and second == "TRANSACTION"
    ):
        return _tcl(Tcl.SET_TRANSACTION)
    if first == "PASSWORD" or (first == "DEFAULT" and second == "ROLE"):
        mysql = frozenset((TableRef.any_of("mysql"),))
        return Statement(Kind.DDL, tables=mysql, ddl_tables=mysql, implicit_commit=True)
    assigned = False
    value: bool | None = None
    for item_start, item_end in _assignments(tokens, start + 1, end):
        is_autocommit, item_value = _autocommit_assignment(tokens, item_start, item_end)
        if is_autocommit:
            assigned, value = True, item_value
    return Statement(
        Kind.SESSION,
        autocommit=value,
        implicit_commit=value is True,
        parsed=not assigned or value is not None,
    )


def use(tokens: list[Token], start: int, end: int) -> Statement | None:
    """``USE db``: the database the session switches to."""
    name = read_name(tokens, start + 1, end)
    if name is None or name.db is not None or name.next != end:
        return None
    return Statement(Kind.SESSION, use_db=name.name)
