"""``mdbc_py.Connection``: a PEP 249 connection whose commits are durable across sites.

It wraps one PyMySQL connection to the local site's MariaDB and keeps
PyMySQL's behaviour and errors for everything that is only local (reads,
session state). For writes it adds three things:

- before a write runs: the range it touches must be owned by this site and
  be the only range of the transaction (else ``NotOwnerError`` /
  ``CrossRangeError``, and the statement is not sent);
- at commit: the staged row images become one log entry, appended to the
  MUSIC store (group commit) before the local COMMIT (see ``commit``);
- DDL: executed locally, then logged as a statement entry, and the capture
  triggers of the tables it touched are regenerated.

In autocommit mode the server session runs with autocommit on, so reads
cost nothing extra; each write statement is wrapped in a transaction of its
own and committed through the same path.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import pymysql
from pymysql.connections import Connection as RawConnection
from pymysql.constants import CLIENT
from pymysql.cursors import Cursor

from mdbc_py import capture, errors
from mdbc_py.capture.collect import Taken
from mdbc_py.config import Config, SiteConfig, load
from mdbc_py.core import apply, ownership, positions, write_check
from mdbc_py.core import commit as commit_path
from mdbc_py.core import commit_metrics as driver_metrics
from mdbc_py.core.runtime import Runtime
from mdbc_py.core.transaction import Transaction
from mdbc_py.driver.raw_session import RawSession
from mdbc_py.errors import (
    CommitOutcomeUnknownError,
    ConfigError,
    FailoverError,
    FencedError,
    LogDivergedError,
    StoreUnavailableError,
)
from mdbc_py.log import DdlStatement
from mdbc_py.log.chunks import check_size
from mdbc_py.music import RangeInfo
from mdbc_py.music.group_commit import GroupCommitter, Ticket
from mdbc_py.sql import Kind, Statement, TableRef, Tcl, classify
from mdbc_py.sql.keys import missing_primary_key

log = logging.getLogger(__name__)

PASSTHROUGH = frozenset(
    {
        "get_server_info",
        "server_version",
        "server_thread_id",
        "server_capabilities",
        "server_status",
        "thread_id",
        "get_host_info",
        "get_proto_info",
        "host_info",
        "host",
        "port",
        "user",
        "db",
        "charset",
        "collation",
        "encoding",
        "character_set_name",
        "set_character_set",
        "set_charset",
        "show_warnings",
        "insert_id",
        "affected_rows",
        "use_unicode",
        "sql_mode",
        "decoders",
        "encoders",
        "get_transaction_status",
        "write_timeout",
        "read_timeout",
    }
)
"""PyMySQL connection attributes that mdbc_py connections pass through (see __getattr__)."""

ADDRESS_KEYS = ("host", "port", "unix_socket", "user", "password", "passwd")
"""Arguments that say where to connect: taken from the configuration in mode route."""


class Connection:
    """A DB-API 2.0 connection to one site (see the module docstring)."""

    # PEP 249 optional extension: the exception classes as attributes.
    Error = errors.Error
    Warning = errors.Warning
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    def __init__(
        self, *, site: str | None = None, config: str | Config | None = None, **kwargs: Any
    ) -> None:
        cfg = config if isinstance(config, Config) else load(config)
        site_name = site or cfg.local_site
        if site_name is None:
            raise ConfigError(
                "which site is this connection at? pass site='dc1', set MDBC_SITE, or "
                "set local_site in mdbc.toml"
            )
        self.config = cfg
        self.home_site = cfg.site(site_name)
        self.site = self.home_site
        """The site the session is at: home, or in mode ``route`` the owner it follows."""
        self.runtime = Runtime.for_config(cfg)
        self.mode = cfg.mode
        self._autocommit = bool(kwargs.pop("autocommit", False))
        self.cursorclass = kwargs.pop("cursorclass", pymysql.cursors.Cursor)
        if "db" in kwargs and "database" not in kwargs:
            kwargs["database"] = kwargs.pop("db")
        self._user_kwargs = kwargs
        self._current_db: str | None = kwargs.get("database")
        if self.mode == "route" and self._current_db is not None:
            owner = self._owner_of_db(self._current_db)
            if owner is not None:
                self.site = cfg.site(owner)
        self._raw: RawConnection = self._open_raw(self.site)
        self._tx = Transaction()
        self._closed_by_user = False
        self._temp_tables: set[TableRef] = set()
        self.messages: list[tuple[type, Any]] = []

    def _site_kwargs(self, site: SiteConfig) -> dict[str, Any]:
        """PyMySQL arguments for ``site``: its address, then the caller's other arguments.

        In mode ``route`` the address always comes from the configuration
        (the session moves between sites); otherwise the caller's win.
        """
        user = dict(self._user_kwargs)
        if self.mode == "route":
            for key in ADDRESS_KEYS:
                user.pop(key, None)
        return {**site.connect_kwargs(), **user}

    def _open_raw(self, site: SiteConfig) -> RawConnection:
        """Open the session; always with ``CLIENT.MULTI_STATEMENTS``, for the commit path.

        The commit path sends its own statements in batches (two round trips
        per commit instead of five). The application still gets PyMySQL's
        behaviour: a string of several statements is refused before it is
        sent unless it asked for the flag itself (``multi_statements``).
        """
        kwargs = self._site_kwargs(site)
        if self._current_db is not None:
            kwargs["database"] = self._current_db
        kwargs["client_flag"] = int(kwargs.get("client_flag", 0)) | CLIENT.MULTI_STATEMENTS
        return RawSession(**kwargs, autocommit=self._autocommit, cursorclass=self.cursorclass)

    @property
    def multi_statements(self) -> bool:
        """True if the application opened the connection with ``CLIENT.MULTI_STATEMENTS``."""
        return bool(int(self._user_kwargs.get("client_flag", 0)) & CLIENT.MULTI_STATEMENTS)

    @property
    def client_flag(self) -> int:
        """The session's capability flags, as the application asked for them."""
        flag = int(self._raw.client_flag)
        return flag if self.multi_statements else flag & ~CLIENT.MULTI_STATEMENTS

    @property
    def _connect_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self._site_kwargs(self.site).items() if k != "database"}

    def _owner_of_db(self, db: str) -> str | None:
        try:
            range_name = self.runtime.ranges.range_of(TableRef.any_of(db))
        except ValueError:  # the database is split over several ranges: no single owner
            return None
        if range_name is None:
            return None
        return self.runtime.owner(range_name).owner

    def _follow(self, owner: str) -> None:
        """Mode ``route``: move the session to the range's new owner.

        Only between transactions: a transaction cut by the change of owner
        raises FailoverError (its rows were at the old owner and are gone).
        """
        cut = self._tx.has_writes or self._tx.explicit
        old = self._raw
        self.site = self.config.site(owner)
        self._raw = self._open_raw(self.site)
        self._tx.reset()
        with contextlib.suppress(pymysql.err.Error):
            old.close()
        log.info("route: connection now at %s, the owner", owner)
        if cut:
            raise FailoverError(
                f"the owner changed to {owner!r} during this transaction; it was rolled back, "
                "retry it (the connection now points at the new owner)"
            )

    # -- PEP 249 ------------------------------------------------------------

    def cursor(self, cursor: type | None = None) -> Any:
        """A new cursor (``cursor=`` picks a PyMySQL cursor class, e.g. DictCursor)."""
        from mdbc_py.driver.cursor import Cursor

        return Cursor(self, self._raw.cursor(cursor or self.cursorclass))

    def commit(self) -> None:
        """Make the open transaction durable in the store, then commit locally."""
        self._check_open()
        try:
            self._commit()
        finally:
            self._tx.reset()

    def rollback(self) -> None:
        """Discard the open transaction (its staged rows go with it)."""
        self._check_open()
        try:
            self._raw.rollback()
        finally:
            self._tx.reset()

    def close(self) -> None:
        """Close the connection; an open transaction is rolled back (by the server).

        Closing twice raises Error, as PyMySQL does (and PEP 249 allows).
        """
        if self._closed_by_user:
            raise errors.Error("Already closed")
        self._closed_by_user = True
        if self._raw.open:
            self._raw.close()
        self._tx.reset()

    @property
    def open(self) -> bool:
        """True until ``close`` (or, outside mode route, until the server goes away)."""
        return not self._closed_by_user and (bool(self._raw.open) or self.mode == "route")

    def autocommit(self, value: bool) -> None:
        """Switch autocommit; switching it on commits the open transaction first."""
        value = bool(value)
        if value and not self._autocommit and self._tx.has_writes:
            self.commit()
        elif value and not self._autocommit:
            self._raw.commit()
            self._tx.reset()
        self._raw.autocommit(value)
        self._autocommit = value

    def get_autocommit(self) -> bool:
        """The driver's autocommit mode."""
        return self._autocommit

    def ping(self, reconnect: bool = True) -> None:
        """Check the connection to the local database (reconnecting if asked)."""
        self._raw.ping(reconnect=reconnect)

    def select_db(self, db: str) -> None:
        """Change the current database (``USE``)."""
        self._raw.select_db(db)
        self._current_db = db

    def begin(self) -> None:
        """Start a transaction explicitly (committing an open one first)."""
        if self._tx.has_writes:
            self.commit()
        self._raw.begin()
        self._tx.reset()
        self._tx.explicit = True

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def escape(self, obj: Any, mapping: Any = None) -> str:
        """Escape a value as PyMySQL would."""
        return self._raw.escape(obj, mapping)

    def literal(self, obj: Any) -> str:
        """Alias of ``escape`` kept for PyMySQL compatibility."""
        return self._raw.literal(obj)

    def __getattr__(self, name: str) -> Any:
        """PyMySQL's introspection attributes (server version, charset ...), read-only.

        Only names on the allow-list pass: anything that could send SQL
        around the driver (``query``, ``_execute_command``) must not.
        """
        if name in PASSTHROUGH:
            return getattr(self.__dict__["_raw"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def raw(self) -> RawConnection:
        """The underlying PyMySQL connection (reads and diagnostics only)."""
        return self._raw

    @property
    def current_db(self) -> str | None:
        """The database unqualified table names resolve to."""
        return self._current_db

    def _check_open(self) -> None:
        if not self._raw.open:
            raise errors.InterfaceError(0, "the connection is closed")

    def ensure_open(self) -> None:
        """Before a statement: a session lost to a dead server is replaced in mode route.

        In mode ``route`` the connection follows the owner, so after its
        server died it reconnects to the database's current owner (a
        transaction that was open is lost: FailoverError). Otherwise, as with
        PyMySQL, a closed connection raises InterfaceError.
        """
        if self._raw.open:
            return
        if self._closed_by_user or self.mode != "route":
            raise errors.InterfaceError(
                0, f"the connection to site {self.site.name!r} is closed; open a new one"
            )
        cut = self._tx.has_writes or self._tx.explicit
        self._tx.reset()
        owner = self._owner_of_db(self._current_db) if self._current_db else None
        self.site = self.config.site(owner or self.home_site.name)
        self._raw = self._open_raw(self.site)
        log.info("route: reconnected to %s", self.site.name)
        if cut:
            raise FailoverError(
                "the connection was lost during this transaction, which was rolled back; "
                f"retry it (the connection now points at {self.site.name!r})"
            )

    # -- statement hooks (called by the cursor) -----------------------------------

    def classify(self, sql: str) -> Statement:
        """Classify ``sql`` against this connection's current database."""
        return classify(sql, self._current_db)

    def before_statement(self, stmt: Statement) -> str | None:
        """Check a statement before it is sent; return the range it writes, if any.

        Raises (and sends nothing) for a cross-range transaction, a write at a
        site that does not own the range, or a range in a change of owner
        (:func:`mdbc_py.core.write_check.check_write`, shared with the proxy).
        """
        range_name = write_check.check_write(
            self.runtime,
            self.site.name,
            stmt,
            self._tx,
            self._temp_tables,
            here="this connection is",
            elsewhere=lambda owner: f'send writes to {owner!r}, or set mode = "route"',
            on_epoch_change="roll back and retry",
            reroute=self._reroute if self.mode == "route" else None,
        )
        if range_name is not None and stmt.kind is not Kind.DDL:
            self._require_captured(stmt, range_name)
        return range_name

    def _reroute(self, range_name: str, info: RangeInfo) -> str:
        """Mode route: move this connection to the owner; return where it is now."""
        self._follow(str(info.owner))
        return self.site.name

    def _require_captured(self, stmt: Statement, range_name: str) -> None:
        """Refuse a write to a range table without capture: it would not be replicated."""
        ownership.require_captured(
            self.runtime, self.site.name, self._raw, stmt, range_name, self._temp_tables
        )

    def start_write(self, stmt: Statement, range_name: str | None) -> None:
        """Record a write that is about to run; wrap it if in autocommit mode."""
        if self._autocommit and not self._tx.explicit and not self._tx.implicit:
            self._raw.begin()
            self._tx.implicit = True
        if range_name is not None:
            self._tx.range_name = range_name
            self._tx.has_writes = True
            self._tx.tables.update(t for t in stmt.written if t.db is not None)
        elif stmt.calls_routine or stmt.kind is Kind.UNKNOWN:
            self._note_possible_write()

    def _note_possible_write(self) -> None:
        """A statement whose writes nobody can see is about to run (``SELECT f(x)``).

        Its writes fire the capture triggers like any other; the commit reads
        them from the stage (see :func:`ownership.routine_range`).
        """
        self._tx.may_write = True
        ownership.note_possible_write(self.runtime, self.site.name, self._tx.routine_epochs)

    def after_write(self, ok: bool) -> None:
        """End the wrapping transaction of an autocommit write statement."""
        if not self._tx.implicit:
            return
        if ok:
            self.commit()
        else:
            self.rollback()

    def note_session_effects(self, sql: str, stmt: Statement) -> None:
        """Track ``USE`` and temporary tables after a statement succeeded."""
        if stmt.use_db is not None:
            self._current_db = stmt.use_db
        if stmt.temporary:
            tables = {t for t in stmt.ddl_tables if not t.is_wildcard}
            if sql.lstrip().upper().startswith("DROP"):
                self._temp_tables -= tables
            else:
                self._temp_tables |= tables

    def transaction_control(self, stmt: Statement) -> bool:
        """Handle COMMIT / ROLLBACK / BEGIN / SET autocommit sent as SQL; True if handled.

        A statement before which MariaDB commits by itself (``LOCK TABLES``,
        DDL of a table in no range, ``ANALYZE TABLE`` ...) would commit the
        open transaction locally before it is durable in the log: the driver
        commits it through the log first, as MariaDB's own semantics say.
        """
        implicit = stmt.implicit_commit and stmt.tcl is not Tcl.BEGIN and stmt.autocommit is None
        if implicit and (self._tx.has_writes or self._tx.may_write):
            self.commit()
        if stmt.parts:
            return False
        if stmt.tcl is Tcl.COMMIT:
            self.commit()
            return True
        if stmt.tcl is Tcl.ROLLBACK:
            self.rollback()
            return True
        if stmt.tcl is Tcl.BEGIN:
            self.begin()
            return False  # still sent: it may carry options (READ ONLY, CONSISTENT SNAPSHOT)
        if stmt.kind is Kind.SESSION and stmt.autocommit is not None:
            self.autocommit(stmt.autocommit)
            return True
        return False

    # -- commit path ----------------------------------------------------------------

    def _commit(self) -> None:
        if not self._tx.has_writes and not self._tx.may_write:
            self._raw.commit()
            return
        # Announced before the rows are read, so that a concurrent leader
        # waits for this entry and carries it in the same append.
        committer = self.runtime.committer
        with committer.announced(self._tx.range_name if self._tx.has_writes else None) as ticket:
            self._commit_writes(committer, ticket)

    def _commit_writes(self, committer: GroupCommitter, ticket: Ticket | None) -> None:
        metrics = driver_metrics.active()  # None unless the process opted in
        began = time.perf_counter() if metrics is not None else 0.0
        try:
            taken = commit_path.collect_changes(self._raw, self._tx.tables)
            changes = taken.changes
            if not changes:
                self._raw.commit()
                return
            range_of = {
                c.table: self.runtime.ranges.range_of(TableRef(*c.table.split(".", 1)))
                for c in changes
            }
            if self._tx.has_writes:
                range_name, epoch = self._tx.range_name, self._tx.epoch
            else:
                range_name, epoch = self._routine_range(range_of)
            if range_name is None:  # staged rows of tables in no range: nothing to log
                self._raw.commit()
                return
            assert epoch is not None
            commit_path.check_changes_in_range(changes, range_of, range_name)
            payload = commit_path.build_payload(self.site.name, range_name, changes)
            entry = commit_path.encode_entry(payload)
            check_size(entry.payload)
        except BaseException:
            self._safe_rollback()
            raise
        captured = time.perf_counter() if metrics is not None else 0.0
        try:
            seq = committer.append(range_name, epoch, entry, ticket)
        except BaseException as exc:
            self._safe_rollback()
            if isinstance(exc, FencedError):
                self.runtime.forget_owner(range_name)
            if metrics is not None:
                metrics.commit(self.site.name, range_name, _append_result(exc),
                               captured - began, time.perf_counter() - captured,
                               size=len(entry.payload))  # fmt: skip
            raise
        appended = time.perf_counter() if metrics is not None else 0.0
        result = "ok"
        try:
            self._local_commit(range_name, seq, payload.txid, taken)
        except LogDivergedError:
            result = "error"
            raise
        except pymysql.err.Error as exc:
            result = "local_commit_failed"
            log.warning("range %s entry %s (txid %s) is durable in the log but the local COMMIT "
                        "failed (%s): applying it from the log", range_name, seq, payload.txid,
                        exc)  # fmt: skip
            commit_path.repair_from_log(self._connect_kwargs, seq, payload)
        except BaseException:
            result = "error"
            raise
        finally:
            if metrics is not None:
                metrics.commit(self.site.name, range_name, result, captured - began,
                               appended - captured, time.perf_counter() - appended,
                               len(entry.payload))  # fmt: skip

    def _routine_range(self, range_of: dict[str, str | None]) -> tuple[str | None, int | None]:
        """Range and epoch of rows staged by writes the classifier could not see."""
        return ownership.routine_range(
            self.runtime, self.site.name, self._tx.routine_epochs, range_of
        )

    def _local_commit(
        self, range_name: str, seq: int, txid: str, taken: Taken | None = None
    ) -> None:
        """``commit_path.local_commit``, marking the site needs-resync if the log diverged."""
        try:
            commit_path.local_commit(self._raw, range_name, seq, txid, taken)
        except LogDivergedError as exc:
            self._safe_rollback()
            self._mark_needs_resync(range_name, str(exc))
            raise LogDivergedError(
                f"{exc}. Site {self.site.name!r} is marked needs-resync: rebuild it with "
                f"'mdbc resync --site {self.site.name} --full'. The transaction itself is "
                f"entry {seq} of the log and reaches the other sites."
            ) from None

    def _safe_rollback(self) -> None:
        # If the connection is gone, the server has rolled the transaction back.
        with contextlib.suppress(pymysql.err.Error):
            self._raw.rollback()

    # -- DDL ------------------------------------------------------------------

    def run_ddl(self, raw_cursor: Any, sql: str, stmt: Statement, range_name: str) -> int:
        """Execute DDL locally, then log it, then regenerate capture of its tables.

        DDL cannot be rolled back, so it runs first: a statement MariaDB
        refuses never reaches the log. If the append then fails, this site's
        schema is ahead of the log: the site is marked ``needs-resync`` and
        the error says so.
        """
        epoch = self._tx.epoch
        assert epoch is not None, "before_statement checked the owner"
        self._refuse_keyless(sql, stmt)
        if self._tx.has_writes:
            self.commit()
        else:
            self._raw.commit()
            self._tx.reset()
        result = raw_cursor.execute(sql)
        payload = commit_path.build_payload(
            self.site.name, range_name, [], DdlStatement(self._current_db, sql)
        )
        entry = commit_path.encode_entry(payload)
        seq = self._append_ddl(range_name, epoch, entry)
        self._raw.begin()
        self._local_commit(range_name, seq, payload.txid)
        try:
            self._recapture(sql)
        except capture.NoPrimaryKeyError as exc:
            raise capture.NoPrimaryKeyError(
                exc.tables,
                f"the statement ran at site {self.site.name!r} and is entry {seq} of range "
                f"{range_name!r}, so every site has the table; it is not captured, and writes "
                "to it are refused until it has a primary key",
            ) from None
        return int(result)

    def _refuse_keyless(self, sql: str, stmt: Statement) -> None:
        """Refuse, before it runs, DDL that would leave a range table without a primary key.

        DDL cannot be undone once it ran and was logged; such a table could
        then be neither written nor copied by a full resync at any site.
        """
        reason = missing_primary_key(sql)
        if reason is None:
            return
        tables = sorted(str(t) for t in stmt.ddl_tables if not t.is_wildcard)
        raise capture.NoPrimaryKeyError(tables, f"{reason}; nothing was executed at any site")

    def _append_ddl(self, range_name: str, epoch: int, entry: Any) -> int:
        """Append a DDL entry that already ran here (see :func:`ownership.append_ddl`)."""
        return ownership.append_ddl(
            self.runtime,
            self.site.name,
            range_name,
            epoch,
            entry,
            lambda why: self._mark_needs_resync(range_name, why),
        )

    def _mark_needs_resync(self, range_name: str, why: str) -> None:
        try:
            with self._raw.cursor(Cursor) as cur:
                positions.set_state(cur, f"needs-resync:{range_name}", why[:1000])
            self._raw.commit()
        except pymysql.err.Error:
            log.error("site %s must be resynced for range %s (%s)", self.site.name, range_name, why)

    def _recapture(self, sql: str) -> None:
        """Regenerate (or drop) the capture of every table the DDL named."""
        self.runtime.forget_captured(self.site.name)
        apply.recapture(self._raw, self._current_db, sql, strict=True)


def _append_result(exc: BaseException) -> str:
    """The ``result`` label of a commit whose append raised ``exc``."""
    if isinstance(exc, FencedError):
        return "fenced"
    if isinstance(exc, StoreUnavailableError):
        return "store_unavailable"
    if isinstance(exc, CommitOutcomeUnknownError):
        return "outcome_unknown"
    return "error"
