"""``mdbc_py`` cursors: PyMySQL cursors with every statement checked and committed right.

A cursor delegates fetching, description and row counts to the PyMySQL
cursor it wraps (any class: Cursor, DictCursor, SSCursor ...), so results
look exactly as they would without mdbc_py. What it adds is the statement
routing of ``Connection``: classification, range and ownership checks
before a write is sent, DDL logging, and the commit of autocommit writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mdbc_py.errors import InterfaceError, ProgrammingError
from mdbc_py.sql import Kind, Statement

if TYPE_CHECKING:  # the connection imports this module; a cursor only needs its type
    from mdbc_py.driver.connection import Connection

Params = Sequence[Any] | Mapping[str, Any] | None


class Cursor:
    """A DB-API 2.0 cursor of an mdbc_py connection."""

    def __init__(self, connection: Connection, raw: Any) -> None:
        self.connection = connection
        self._raw = raw
        self._closed = False

    # -- delegated result API --------------------------------------------------

    @property
    def description(self) -> Any:
        return self._raw.description

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)

    @property
    def lastrowid(self) -> Any:
        return self._raw.lastrowid

    @property
    def rownumber(self) -> Any:
        return self._raw.rownumber

    @property
    def arraysize(self) -> int:
        return int(self._raw.arraysize)

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._raw.arraysize = value

    @property
    def _executed(self) -> Any:
        return self._raw._executed

    def fetchone(self) -> Any:
        self._check()
        return self._raw.fetchone()

    def fetchmany(self, size: int | None = None) -> Any:
        self._check()
        return self._raw.fetchmany(size) if size is not None else self._raw.fetchmany()

    def fetchall(self) -> Any:
        self._check()
        return self._raw.fetchall()

    def nextset(self) -> bool | None:
        self._check()
        return self._raw.nextset()

    def scroll(self, value: int, mode: str = "relative") -> None:
        self._check()
        self._raw.scroll(value, mode)

    def setinputsizes(self, *args: Any) -> None:
        """Does nothing, as PEP 249 allows."""

    def setoutputsizes(self, *args: Any) -> None:
        """Does nothing, as PEP 249 allows."""

    def mogrify(self, query: str, args: Params = None) -> str:
        return str(self._raw.mogrify(query, args))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchone, None)

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the cursor (remaining results are discarded)."""
        if not self._closed:
            self._closed = True
            self._raw.close()

    def _check(self) -> None:
        if self._closed:
            raise ProgrammingError("cursor closed")
        if not self.connection.open:
            raise InterfaceError(0, "the connection is closed")

    def _prepare(self) -> None:
        """Before executing: the connection may have moved to another session (route)."""
        self._check()
        self.connection.ensure_open()
        self._rebind()

    def _rebind(self) -> None:
        """Follow the connection to its current session (it moves in mode route)."""
        if self._raw.connection is not self.connection.raw:
            self._raw = self.connection.raw.cursor(type(self._raw))

    # -- execution ----------------------------------------------------------------

    def execute(self, query: str, args: Params = None) -> int:
        """Run one SQL string (see the module docstring for what is checked)."""
        self._prepare()
        conn = self.connection
        stmt = conn.classify(_as_sent(query, args is not None))
        self._refuse_several(stmt, query)
        if conn.transaction_control(stmt):
            return 0
        range_name = conn.before_statement(stmt)
        self._rebind()
        if stmt.kind is Kind.DDL and range_name is not None:
            sql = self.mogrify(query, args) if args is not None else query
            return conn.run_ddl(self._raw, sql, stmt, range_name)
        return self._run(stmt, range_name, lambda: self._raw.execute(query, args), query)

    def executemany(self, query: str, args: Sequence[Params]) -> int | None:
        """Run one statement for each parameter set; one commit in autocommit mode."""
        self._prepare()
        conn = self.connection
        stmt = conn.classify(_as_sent(query, True))
        self._refuse_several(stmt, query)
        if stmt.kind in (Kind.DDL, Kind.TCL) or stmt.autocommit is not None:
            total = 0
            for params in args:
                total += self.execute(query, params)
            return total
        range_name = conn.before_statement(stmt)
        self._rebind()
        return self._run(stmt, range_name, lambda: self._raw.executemany(query, args), query)

    def _refuse_several(self, stmt: Statement, query: str) -> None:
        """Refuse ``a; b`` unless the application asked for multi-statements.

        The session itself accepts them (the commit path batches its own
        statements), so the check PyMySQL leaves to the server is made here,
        with the server's error code: a stacked query never runs by accident.
        """
        if stmt.parts and not self.connection.multi_statements:
            raise ProgrammingError(
                1064,
                f"{len(stmt.parts)} statements in one execute() ({query[:80]!r}): open the "
                "connection with client_flag=CLIENT.MULTI_STATEMENTS to send several at once, "
                "or execute them one by one; nothing was executed",
            )

    def callproc(self, procname: str, args: Sequence[Any] = ()) -> Sequence[Any]:
        """Call a stored procedure: treated as a write of the current database."""
        self._prepare()
        conn = self.connection
        stmt = conn.classify(f"CALL {procname}()")
        range_name = conn.before_statement(stmt)
        self._rebind()
        result: list[Sequence[Any]] = []

        def call() -> int:
            result.append(self._raw.callproc(procname, args))
            return 0

        self._run(stmt, range_name, call, f"CALL {procname}")
        return result[0]

    def _run(self, stmt: Statement, range_name: str | None, send: Any, sql: str) -> Any:
        conn = self.connection
        writes = (
            range_name is not None or stmt.kind in (Kind.WRITE, Kind.UNKNOWN) or stmt.calls_routine
        )
        if writes:
            conn.start_write(stmt, range_name)
        try:
            result = send()
        except BaseException:
            if writes:
                conn.after_write(ok=False)
            raise
        conn.note_session_effects(sql, stmt)
        if writes:
            conn.after_write(ok=True)
        return result


def _as_sent(query: str, with_args: bool) -> str:
    """The template as MariaDB will read its names: with parameters, PyMySQL turns '%%' into '%'.

    Classification needs the real table names (`` `a%%b` `` in the template
    is the table ``a%b``); the placeholders themselves stay (``%s`` reads
    as one).
    """
    return query.replace("%%", "%") if with_args and "%%" in query else query
