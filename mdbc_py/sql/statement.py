"""What the driver needs to know about one SQL statement, as immutable values.

A :class:`Statement` says what a statement does to the database (its
:class:`Kind`), which tables it reads and changes, and how it changes the
session (transaction control, ``USE``, ``SET autocommit``). The driver uses it
to decide whether a statement must be attributed to a range, refused, or
simply sent to the local MariaDB.

Everything here is frozen and hashable so that one classification can be
cached and shared by every connection of a process.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ANY_TABLE",
    "Kind",
    "Statement",
    "TableRef",
    "Tcl",
    "combine",
]

ANY_TABLE = "*"
"""Table name of the wildcard :class:`TableRef`: "any table of that database".

Used where a statement may change tables that cannot be named: SQL that could
not be parsed, ``CALL`` of a stored procedure, DDL of a whole database or of
a stored routine. A table really named ``*`` (legal when backquoted) is taken
for the wildcard too, which only makes the classification more conservative.
"""


@dataclass(frozen=True, slots=True, order=True)
class TableRef:
    """A table as MariaDB resolves it: database and table name, case kept.

    ``db`` is ``None`` only when the statement did not qualify the table and
    the connection has no current database (MariaDB would refuse such a
    statement with "No database selected"). Names are compared exactly as
    written, because MariaDB on Linux (``lower_case_table_names=0``) treats
    ``Service`` and ``service`` as two tables.
    """

    db: str | None
    name: str

    @classmethod
    def any_of(cls, db: str | None) -> TableRef:
        """The wildcard for every table of ``db`` (see :data:`ANY_TABLE`)."""
        return cls(db, ANY_TABLE)

    @property
    def is_wildcard(self) -> bool:
        """True for the "any table of this database" sentinel."""
        return self.name == ANY_TABLE

    def __str__(self) -> str:
        db = "?" if self.db is None else self.db
        return f"{db}.{self.name}"


class Kind(enum.Enum):
    """What a statement does, from the point of view of replication.

    The order of :attr:`strength` decides the kind of a multi-statement
    string (``"a; b"``): the strongest part wins, because the driver must
    treat the whole string the way it would treat its most demanding part.
    From strongest to weakest: DDL (cannot be rolled back, logged as a
    statement), WRITE (row changes, logged as row images), UNKNOWN (treated
    by the driver as a write of the current database), TCL (ends or starts
    transactions), SESSION (session state only), READ.
    """

    READ = "read"
    """Reads rows and changes nothing (``SELECT``, ``HANDLER``, empty input)."""
    WRITE = "write"
    """Changes rows of tables through DML (``INSERT``, ``UPDATE``, ``LOAD DATA``...)."""
    DDL = "ddl"
    """Changes a schema object; MariaDB commits implicitly around it."""
    TCL = "tcl"
    """Transaction control: ``BEGIN``, ``COMMIT``, savepoints, ``LOCK TABLES``..."""
    SESSION = "session"
    """Changes or inspects session state without touching rows (``SET``, ``USE``, ``SHOW``)."""
    UNKNOWN = "unknown"
    """Effect not known: unparsable SQL, ``CALL``, ``EXECUTE``, compound blocks."""

    @property
    def strength(self) -> int:
        """Rank used to combine the parts of a multi-statement string."""
        return _STRENGTH[self]


_STRENGTH = {
    Kind.READ: 0,
    Kind.SESSION: 1,
    Kind.TCL: 2,
    Kind.UNKNOWN: 3,
    Kind.WRITE: 4,
    Kind.DDL: 5,
}


class Tcl(enum.Enum):
    """Which transaction-control statement a :attr:`Kind.TCL` statement is.

    The driver must act on each differently: ``COMMIT`` goes through the
    commit path, ``ROLLBACK`` discards staged rows, ``BEGIN`` commits what is
    open and starts anew.
    """

    BEGIN = "begin"
    """``BEGIN [WORK]`` or ``START TRANSACTION [...]``."""
    COMMIT = "commit"
    ROLLBACK = "rollback"
    SAVEPOINT = "savepoint"
    ROLLBACK_TO_SAVEPOINT = "rollback_to_savepoint"
    RELEASE_SAVEPOINT = "release_savepoint"
    SET_TRANSACTION = "set_transaction"
    """``SET [GLOBAL|SESSION] TRANSACTION ...`` (isolation level, access mode)."""
    LOCK_TABLES = "lock_tables"
    UNLOCK_TABLES = "unlock_tables"
    XA = "xa"
    """Any ``XA ...`` statement (distributed transactions)."""


_EMPTY: frozenset[TableRef] = frozenset()


@dataclass(frozen=True, slots=True)
class Statement:
    """The classification of one SQL string (one statement or several).

    Attributes:
        kind: what the statement does (see :class:`Kind`).
        tables: every table the statement names as a table, read or changed;
            CTE names, ``DUAL`` and session variables are not tables. Empty
            for :attr:`Kind.SESSION` statements such as ``SHOW``.
        written: tables whose rows the statement changes through DML, the
            changes the capture triggers see. ``INSERT ... SELECT`` writes
            only its target; a multi-table ``UPDATE`` writes the tables its
            ``SET`` assigns to. A wildcard :class:`TableRef` (see
            :data:`ANY_TABLE`) means "any table of that database": the
            driver must treat the statement as a write of that database.
        ddl_tables: schema objects a DDL statement creates, changes or
            drops: tables, views and sequences by name, the table of an index
            or trigger, the wildcard of the database for ``CREATE/DROP
            DATABASE`` and stored routines, ``mysql.*`` for accounts and
            grants. ``TRUNCATE`` and ``CREATE TABLE ... SELECT`` change rows
            too, but as DDL (no trigger fires), so they appear here only.
        locking: a locking read (``SELECT ... FOR UPDATE`` / ``LOCK IN SHARE
            MODE``), which must run where the rows' owner is.
        use_db: the database a ``USE`` statement switches to.
        autocommit: the value a ``SET autocommit = ...`` gives the session.
        parsed: False when the analysis is incomplete: the SQL could not be
            parsed (then :attr:`kind` is UNKNOWN and :attr:`written` holds
            the wildcard of the current database), or a part of it could
            not (for example the query of ``CREATE VIEW``), or ``SET
            autocommit`` assigns a value only the server knows (``@var``).
        tcl: which transaction-control statement, for :attr:`Kind.TCL`.
        implicit_commit: MariaDB commits the open transaction before
            running this statement (DDL, ``BEGIN``, ``LOCK TABLES``,
            ``SET autocommit = 1``, ``ANALYZE TABLE``...), so the driver must
            finish its own commit first.
        temporary: ``CREATE/DROP TEMPORARY TABLE``: session-local, never
            replicated, no implicit commit.
        parts: for a string of several statements, the classification of
            each, in order; empty for a single statement. The other
            attributes are then the union of the parts.
        calls_routine: a query or session statement (``SELECT f(x)``, ``DO
            f(x)``, ``SET @v = f(x)``) that calls a stored function, which
            may write tables nobody can see from the SQL (see
            :mod:`mdbc_py.sql.routines`). The driver treats it as a possible
            write: the staged rows at commit say what it wrote.
    """

    kind: Kind
    tables: frozenset[TableRef] = _EMPTY
    written: frozenset[TableRef] = _EMPTY
    ddl_tables: frozenset[TableRef] = _EMPTY
    locking: bool = False
    use_db: str | None = None
    autocommit: bool | None = None
    parsed: bool = True
    tcl: Tcl | None = None
    implicit_commit: bool = False
    temporary: bool = False
    parts: tuple[Statement, ...] = ()
    calls_routine: bool = False

    @property
    def changed(self) -> frozenset[TableRef]:
        """Every table whose contents or definition the statement changes."""
        if not self.ddl_tables:
            return self.written
        return self.written | self.ddl_tables


def combine(parts: Iterable[Statement]) -> Statement:
    """The classification of several statements sent as one string.

    Sets are united, the strongest kind wins (see :class:`Kind`), and the
    session effects that persist after the string ran (``USE``, ``SET
    autocommit``, the last transaction-control statement) are those of the
    last part that had one. One part is returned as it is.
    """
    items = tuple(parts)
    if len(items) == 1:
        return items[0]
    if not items:
        return Statement(Kind.READ)
    kind = max((p.kind for p in items), key=lambda k: k.strength)
    use_db: str | None = None
    autocommit: bool | None = None
    tcl: Tcl | None = None
    for p in items:
        use_db = p.use_db if p.use_db is not None else use_db
        autocommit = p.autocommit if p.autocommit is not None else autocommit
        tcl = p.tcl if p.tcl is not None else tcl
    return Statement(
        kind=kind,
        tables=frozenset().union(*(p.tables for p in items)),
        written=frozenset().union(*(p.written for p in items)),
        ddl_tables=frozenset().union(*(p.ddl_tables for p in items)),
        locking=any(p.locking for p in items),
        use_db=use_db,
        autocommit=autocommit,
        parsed=all(p.parsed for p in items),
        tcl=tcl,
        implicit_commit=any(p.implicit_commit for p in items),
        temporary=any(p.temporary for p in items),
        parts=items,
        calls_routine=any(p.calls_routine for p in items),
    )
