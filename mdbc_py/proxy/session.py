"""One client session of the proxy: its backend session, its commands, its transaction.

A session is a thread with two blocking sockets: the client's, and its own
backend session on the site's MariaDB (never shared). After the relayed
login (:mod:`.handshake`) it reads one command at a time and decides:

- reads, session statements, savepoints: relayed as they are;
- a write (DML, ``CALL``, SQL nobody can parse, a query calling a stored
  function): the range it writes must be owned here (else an ERR, and the
  statement is not sent) and be the transaction's only range; in
  autocommit mode the proxy wraps it in a ``BEGIN`` of its own and commits
  it through the log before the client gets its answer;
- ``COMMIT`` of a transaction that wrote: the commit core
  (:mod:`.commit`), ending with the client's own ``COMMIT``;
- statements that commit implicitly (``BEGIN`` inside a transaction, ``SET
  autocommit = 1``, ``LOCK TABLES``, ``UNLOCK TABLES`` after a lock, DDL,
  admin statements): the open transaction is committed through the log
  first, then the statement is relayed;
- DDL of a range: as the driver logs it: executed, then logged as a
  statement entry, then its capture regenerated;
- ``ROLLBACK``, ``COM_QUIT``, a dropped client, ``COM_RESET_CONNECTION``,
  ``COM_CHANGE_USER``: relayed; the server rolls back, nothing is logged.

Transaction state comes from the server's status flags
(``SERVER_STATUS_IN_TRANS``, ``SERVER_STATUS_AUTOCOMMIT``) of every OK/EOF
packet and from classifying the statement text with :mod:`mdbc_py.sql`.
Prepared statements are classified at ``COM_STMT_PREPARE`` and remembered
by id; each ``COM_STMT_EXECUTE`` of a write is handled like the same write
sent as text. Preparing DDL, transaction control or ``SET autocommit`` is
refused (ERR 1295): send those as text.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import struct
import threading
from collections.abc import Callable

import pymysql
from pymysql.connections import Connection as RawConnection

from mdbc_py import capture
from mdbc_py.config import SiteConfig
from mdbc_py.core import ownership, write_check
from mdbc_py.core.runtime import Runtime
from mdbc_py.core.transaction import Transaction
from mdbc_py.errors import FailoverError, StoreUnavailableError
from mdbc_py.music import RangeInfo
from mdbc_py.proxy import backend as backend_mod
from mdbc_py.proxy import commit as commit_mod
from mdbc_py.proxy import errors as perr
from mdbc_py.proxy import handshake, route, wire
from mdbc_py.proxy.metrics import ProxyMetrics
from mdbc_py.proxy.relay import Relay
from mdbc_py.sql import Kind, Statement, TableRef, Tcl, classify
from mdbc_py.sql.keys import missing_primary_key

log = logging.getLogger(__name__)


HANDSHAKE_SECONDS = 10.0
"""How long a client may take to log in."""

_CHARSET_WORDS = ("NAMES", "CHARACTER", "CHARSET", "COLLATION")
_PLAIN_UTF8MB4 = ("SET NAMES UTF8MB4", "SET NAMES 'UTF8MB4'", 'SET NAMES "UTF8MB4"')
_UNSUPPORTED_COMMANDS = "binlog, replication and other administrative commands"
_ROUTED = frozenset({wire.COM_QUERY, wire.COM_STMT_PREPARE, wire.COM_STMT_EXECUTE})
"""Commands that may start a transaction: in mode route the owner is checked first."""


class Session:
    """One client connection and its backend session (see the module docstring)."""

    def __init__(
        self,
        client_sock: socket.socket,
        site: SiteConfig,
        runtime: Runtime,
        stopping: threading.Event,
        stop_fd: int,
        observer: ProxyMetrics | None = None,
        routing: bool = False,
        listener_tls: ssl.SSLContext | None = None,
        tls_required: bool = False,
    ) -> None:
        self.client_sock = client_sock
        self.home = site
        """The site this proxy serves."""
        self.site = site
        """The site of the backend session: ``home``, or in mode route the owner at login."""
        self.routing = routing
        """Mode route (see :mod:`.route`)."""
        self.listener_tls = listener_tls
        """The listener's server context: the client may ask for TLS (None: SSL is masked)."""
        self.tls_required = tls_required
        """Refuse a client that does not ask for TLS."""
        self.runtime = runtime
        self.stopping = stopping
        self.stop_fd = stop_fd
        self.client = wire.PacketStream(client_sock, "client")
        self.backend_sock: socket.socket | None = None
        # Not read before _login replaces it with the backend session's stream.
        self.backend = wire.PacketStream(client_sock, "backend")
        self.relay = Relay(self.client, self.backend)
        self.raw: RawConnection = None  # type: ignore[assignment]
        self.tx = Transaction()
        self.current_db: str | None = None
        self.client_multi = False
        self.login_collation = 0
        self.charset_clean = False
        self.tables_locked = False
        self.temp_tables: set[TableRef] = set()
        self.prepared: dict[int, Statement] = {}
        self.last_prepared: int | None = None
        self.close_after = False
        self.closed = False
        self.observer = observer if observer is not None else ProxyMetrics(site.name)
        """Where statements, commits and the proxy's own errors are counted."""

    # -- state --------------------------------------------------------------------

    @property
    def autocommit(self) -> bool:
        return bool(self.relay.status & wire.SERVER_STATUS_AUTOCOMMIT)

    @property
    def in_transaction(self) -> bool:
        """True while the client has a transaction open (the drain waits for it)."""
        return bool(self.relay.status & wire.SERVER_STATUS_IN_TRANS) or self.tx.has_writes

    def ok_status(self) -> int:
        """Status flags for an OK packet the proxy makes (no transaction open)."""
        return self.relay.status & wire.SERVER_STATUS_AUTOCOMMIT

    def _after_response(self, terminal: wire.Packet) -> None:
        """The server answered a client statement: trust its word on the transaction.

        No transaction open on the server means the tracked one ended (a
        deadlock rolls a transaction back): forget it, its staged rows went
        with it.
        """
        if wire.status_of(terminal) is None:
            return
        if not self.relay.status & wire.SERVER_STATUS_IN_TRANS and not self.tx.implicit:
            self.tx.reset()

    # -- life cycle -----------------------------------------------------------------

    def run(self) -> None:
        """Serve the client until it leaves, the proxy stops, or a session ends on error."""
        try:
            if self._login():
                self._serve()
        except wire.ConnectionClosed as exc:
            log.debug("session ended: %s", exc)
        except Exception:
            log.exception("session ended on an unexpected error")
        finally:
            self.close()

    def close(self) -> None:
        """Close both sockets; an open transaction is rolled back by the server."""
        if self.closed:
            return
        self.closed = True
        if self.backend_sock is not None:
            with contextlib.suppress(OSError):
                self.backend_sock.sendall(b"\x01\x00\x00\x00\x01")  # COM_QUIT
            with contextlib.suppress(OSError):
                self.backend_sock.close()
        with contextlib.suppress(OSError):
            self.client_sock.close()

    def abort(self) -> None:
        """Cut both connections now (end of the drain): the blocked thread wakes and ends."""
        for sock in (self.client_sock, self.backend_sock):
            if sock is not None:
                with contextlib.suppress(OSError):
                    wire.shutdown(sock, socket.SHUT_RDWR)

    def _login(self) -> bool:
        try:
            if self.routing:
                self.backend_sock, self.site = route.open_any(self.runtime, self.home)
            else:
                self.backend_sock = backend_mod.open_socket(self.site)
        except backend_mod.BackendUnavailableError as exc:
            log.warning("%s", exc)
            self.observer.error(type(exc).__name__, perr.ER_UNKNOWN_ERROR)
            self.client.send(wire.err_packet_pre41(0, perr.ER_UNKNOWN_ERROR, str(exc)))
            return False
        self.backend = wire.PacketStream(self.backend_sock, "backend")
        self.relay.backend = self.backend
        self.client_sock.settimeout(HANDSHAKE_SECONDS)
        self.backend_sock.settimeout(HANDSHAKE_SECONDS)
        cseq = 2  # the sequence id of the proxy's next packet to the client
        try:
            greeting = handshake.parse_greeting(
                self.backend.read_packet(), offer_tls=self.listener_tls is not None
            )
            self.client.send(greeting.packet)
            login = self._client_login()
            cseq = login.packet.next_seq
            if self.routing:
                self.client_sock.settimeout(route.OWNER_WAIT_SECONDS + HANDSHAKE_SECONDS)
                switched = self._route_login(login)
                if switched is not None:
                    greeting, login = switched
                    cseq = (cseq + 2) % 256  # the auth switch and the client's answer
            bseq = 1
            if self.site.tls is not None:
                backend_mod.start_tls(self.backend_sock, self.backend, self.site, greeting, login)
                self.backend_sock = self.backend.sock
                login = login.over_tls()
                bseq = 2
        except handshake.HandshakeError as exc:
            log.info("login refused: %s", exc.reason)
            with contextlib.suppress(wire.ConnectionClosed):
                self.client.send(wire.err_packet(cseq, exc.errno, exc.sqlstate, exc.reason))
            return False
        except (backend_mod.BackendUnavailableError, backend_mod.BackendTlsError) as exc:
            log.warning("%s", exc)
            errno, sqlstate = (
                (perr.CR_SSL_CONNECTION_ERROR, "HY000")
                if isinstance(exc, backend_mod.BackendTlsError)
                else (1184, "08S01")
            )
            self.observer.error(type(exc).__name__, errno)
            with contextlib.suppress(wire.ConnectionClosed):
                self.client.send(wire.err_packet(cseq, errno, sqlstate, str(exc)))
            return False
        except TimeoutError:
            log.info("login timed out after %.0f s", HANDSHAKE_SECONDS)
            return False
        self.backend.send(wire.Packet(bseq, login.packet.payload))
        offset = (cseq - 1 - bseq) % 256  # client ids run this far ahead of the server's
        try:
            final = handshake.relay_auth(
                self.client, self.backend, offset, self._explain_refusal(greeting)
            )
        except TimeoutError:
            log.info("authentication timed out after %.0f s", HANDSHAKE_SECONDS)
            return False
        if not final.is_ok:
            return False
        self.client_sock.settimeout(None)
        self.backend_sock.settimeout(None)
        self.client_multi = bool(login.client_flags & wire.CLIENT_MULTI_STATEMENTS)
        self.current_db = login.database
        self.login_collation = login.collation
        self.charset_clean = login.collation in handshake.UTF8MB4_COLLATIONS
        self.relay.status = wire.parse_ok(final.payload).status
        self.raw = backend_mod.adopt(
            self.backend_sock, self.backend, greeting, login.backend_flags, self.relay.status
        )
        log.debug("session %d of %s at site %s", greeting.thread_id, login.user, self.site.name)
        return True

    def _client_login(self) -> handshake.Login:
        """The client's login; after its SSL request, over the listener's TLS.

        The first packet is read without buffering past it: after an SSL
        request the client's TLS handshake follows at once.
        """
        first = self.client.read_packet_exact()
        if not handshake.asks_for_tls(first):
            if self.tls_required:
                raise handshake.HandshakeError(
                    "this mdbc proxy accepts TLS connections only (--tls-required): connect "
                    "with TLS",
                    errno=perr.ER_SECURE_TRANSPORT_REQUIRED,
                )
            return handshake.parse_login(first)
        if self.listener_tls is None:
            raise handshake.HandshakeError(handshake.NO_LISTENER_TLS)
        try:
            tls = self.listener_tls.wrap_socket(self.client_sock, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            detail = f"TLS handshake failed: {getattr(exc, 'reason', None) or exc}"
            log.info("client refused: %s", detail)
            raise wire.ConnectionClosed("client", detail) from None
        self.client_sock = tls
        self.client.use(tls)
        return handshake.parse_login(self.client.read_packet(), encrypted=True)

    def _explain_refusal(
        self, greeting: handshake.Greeting
    ) -> Callable[[wire.Packet], wire.Packet]:
        """How the server's refusal of the login reaches the client (see :func:`explain`)."""
        site = self.site
        plaintext_to_tls_server = site.tls is None and bool(greeting.capabilities & wire.CLIENT_SSL)

        def explain(refusal: wire.Packet) -> wire.Packet:
            """Access denied by a server that offers TLS, to a plaintext session: say why it may be.

            MariaDB answers a plaintext login under ``require_secure_transport``
            with the same 1045 as a wrong password, and says nothing of it in
            the greeting; the hint names the table that turns TLS on.
            """
            if not plaintext_to_tls_server or wire.parse_err(refusal.payload)[0] != 1045:
                return refusal
            hint = (
                f" (mdbc proxy reached site {site.name!r} without TLS, as the configuration has "
                f"no [sites.{site.name}.tls]; a server with require_secure_transport=ON refuses "
                "such logins so)"
            )
            return wire.Packet(refusal.seq, refusal.payload + hint.encode())

        return explain

    def _route_login(
        self, login: handshake.Login
    ) -> tuple[handshake.Greeting, handshake.Login] | None:
        """Mode route: move the login to the owner of its database's range, if elsewhere.

        Returns the new server's greeting and the login with the client's
        answer to its salt, or None when the greeting's server is the owner.
        """
        sock, site = route.owner_backend(self.runtime, self.home, login.database, self.site)
        if sock is None:
            return None
        if not login.client_flags & wire.CLIENT_PLUGIN_AUTH:
            sock.close()
            raise handshake.HandshakeError(
                "mode route needs a client that supports authentication plugins "
                "(CLIENT_PLUGIN_AUTH) to log in at the owner's MariaDB"
            )
        assert self.backend_sock is not None
        with contextlib.suppress(OSError):
            self.backend_sock.close()
        self.backend_sock, self.site = sock, site
        sock.settimeout(HANDSHAKE_SECONDS)
        self.backend = wire.PacketStream(sock, "backend")
        self.relay.backend = self.backend
        greeting = handshake.parse_greeting(self.backend.read_packet())
        plugin = greeting.plugin or "mysql_native_password"
        self.client.send(handshake.auth_switch(greeting, login.packet.next_seq))
        answer = self.client.read_packet()
        log.debug("route: login of %s moved to site %s, the owner", login.user, site.name)
        return greeting, login.with_auth(answer.payload, plugin)

    def wake_if_idle(self) -> None:
        """The proxy stops: wake this session from its wait if no transaction is open.

        Shutting the reading side ends the ``recv`` the session blocks in
        (see :meth:`_wait_for_command`); a transaction that opens at that very
        instant may be cut with it (rolled back, nothing logged).
        """
        if not self.in_transaction:
            with contextlib.suppress(OSError):
                wire.shutdown(self.client_sock, socket.SHUT_RD)

    def _wait_for_command(self) -> bool:
        """Wait for the client's next command; False when the proxy stops this session.

        A stopping proxy ends idle sessions at once; a session with a
        transaction open keeps serving it until the drain deadline cuts it.
        Until the stop, the wait is the ``recv`` itself (one system call per
        command, not select and recv): the stop wakes idle sessions through
        :meth:`wake_if_idle`.
        """
        if not self.client.buffered() and not self.stopping.is_set():
            if self.client.fill():
                return True
            return not self.stopping.is_set()  # the client left (read_packet says so), or a stop
        while not self.client.buffered():
            watch = (
                [self.client_sock] if self.stopping.is_set() else [self.client_sock, self.stop_fd]
            )
            if self.stopping.is_set() and not self.in_transaction:
                return False
            readable, _, _ = select.select(watch, [], [], 1.0 if self.stopping.is_set() else None)
            if self.client_sock in readable:
                return True
        return True

    def _serve(self) -> None:
        while not self.close_after and self._wait_for_command():
            packet = self.client.read_packet()
            self.relay.start(packet)
            try:
                if self.routing and packet.first in _ROUTED and not self.in_transaction:
                    self._check_route()
                if not self._command(packet):
                    return
            except wire.ConnectionClosed as exc:
                if exc.peer == "backend":  # tell the client why, if it still listens
                    self.observer.error("BackendConnectionLost", perr.ER_UNKNOWN_ERROR)
                    with contextlib.suppress(wire.ConnectionClosed):
                        self.relay.answer(wire.err_packet(0, perr.ER_UNKNOWN_ERROR, "08S01",
                            f"the proxy lost its database session ({exc.detail}); any open "
                            "transaction was rolled back: reconnect and retry"))  # fmt: skip
                raise
            except Exception as exc:
                answer = perr.to_client(exc)
                self.observer.error(type(exc).__name__, answer.errno)
                if not isinstance(exc, perr.RefusedError | pymysql.err.Error):
                    log.exception("unexpected error serving a command")
                self.relay.answer(wire.err_packet(0, answer.errno, answer.sqlstate, answer.message))
                if answer.close:
                    return
            if self.raw is not None and not self.raw.open:
                return

    # -- commands -------------------------------------------------------------------

    def _command(self, packet: wire.Packet) -> bool:
        """Serve one command; False ends the session."""
        cmd = packet.first
        if cmd == wire.COM_QUIT:
            return False
        if cmd == wire.COM_QUERY:
            self._query(packet)
        elif cmd == wire.COM_STMT_PREPARE:
            self._prepare(packet)
        elif cmd == wire.COM_STMT_EXECUTE:
            self._execute(packet)
        elif cmd in (wire.COM_STMT_CLOSE, wire.COM_STMT_SEND_LONG_DATA):
            if cmd == wire.COM_STMT_CLOSE and len(packet.payload) >= 5:
                self.prepared.pop(struct.unpack_from("<I", packet.payload, 1)[0], None)
            self.relay.forward(packet)  # no response
        elif cmd in (
            wire.COM_PING,
            wire.COM_STMT_RESET,
            wire.COM_PROCESS_KILL,
            wire.COM_STATISTICS,
            wire.COM_DEBUG,
        ):
            self.relay.forward(packet)
            self.relay.simple()
        elif cmd in (wire.COM_FIELD_LIST, wire.COM_STMT_FETCH):
            self.relay.forward(packet)
            self.relay.until_eof()
        elif cmd == wire.COM_INIT_DB:
            self.relay.forward(packet)
            if self.relay.simple().is_ok:
                self.current_db = packet.payload[1:].decode("utf-8", "surrogateescape")
        elif cmd == wire.COM_SET_OPTION:
            option = (
                struct.unpack_from("<H", packet.payload, 1)[0] if len(packet.payload) >= 3 else 0
            )
            self.client_multi = option == 0  # the backend keeps multi-statements on for the proxy
            self.relay.answer(wire.eof_packet(0, self.relay.status))
        elif cmd == wire.COM_RESET_CONNECTION:
            self.relay.forward(packet)
            if self.relay.simple().is_ok:
                self._session_reset(self.login_collation)
        elif cmd == wire.COM_CHANGE_USER:
            self.relay.forward(packet)
            if not self.relay.auth().is_ok:
                return False
            self._session_reset(None)
            with self.raw.cursor() as cur:
                cur.execute("SELECT DATABASE()")
                row = cur.fetchone()
            self.current_db = row[0] if row else None
        else:
            raise perr.refused(
                f"command 0x{cmd:02x} is not supported through mdbc proxy "
                f"({_UNSUPPORTED_COMMANDS} go to MariaDB directly)",
                perr.ER_UNKNOWN_COM_ERROR,
                "08S01",
            )
        return True

    def _session_reset(self, collation: int | None) -> None:
        """The server reset the session (rolled back, dropped temporaries and statements)."""
        self.tx.reset()
        self.temp_tables.clear()
        self.prepared.clear()
        self.last_prepared = None
        self.tables_locked = False
        self.charset_clean = collation in handshake.UTF8MB4_COLLATIONS

    def _query(self, packet: wire.Packet) -> None:
        text = packet.payload[1:].decode("utf-8", "surrogateescape")
        stmt = classify(text, self.current_db)
        self._refuse_stacked(stmt, text)
        self._note_charset(text)
        self._statement(stmt, text, packet)

    def _prepare(self, packet: wire.Packet) -> None:
        text = packet.payload[1:].decode("utf-8", "surrogateescape")
        stmt = classify(text, self.current_db)
        if (
            stmt.parts
            or stmt.kind in (Kind.DDL, Kind.TCL)
            or stmt.use_db is not None
            or stmt.autocommit is not None
            or stmt.implicit_commit
            or (stmt.kind is Kind.SESSION and not stmt.parsed)
        ):
            raise perr.refused(
                "mdbc proxy does not prepare DDL, transaction control, USE or SET autocommit "
                "(their effect on the transaction must be seen as they run): send them as "
                "text queries; nothing was prepared",
                perr.ER_UNSUPPORTED_PS,
                "HY000",
            )
        self._note_charset(text)
        self.relay.forward(packet)
        first = self.relay.prepare()
        if first.is_ok:
            stmt_id = struct.unpack_from("<I", first.payload, 1)[0]
            self.prepared[stmt_id] = stmt
            self.last_prepared = stmt_id

    def _execute(self, packet: wire.Packet) -> None:
        stmt_id = struct.unpack_from("<I", packet.payload, 1)[0] if len(packet.payload) >= 5 else 0
        if stmt_id == 0xFFFFFFFF and self.last_prepared is not None:
            stmt_id = self.last_prepared
        stmt = self.prepared.get(stmt_id)
        if stmt is None:  # unknown to the server too: it answers with its own error
            self.relay.forward(packet)
            self._after_response(self.relay.query())
            return
        self._statement(stmt, None, packet)

    # -- statements -----------------------------------------------------------------

    def _refuse_stacked(self, stmt: Statement, text: str) -> None:
        """Several statements in one query: only plain reads, and only if the client asked."""
        if not stmt.parts:
            return
        if not self.client_multi:
            raise perr.refused(
                f"{len(stmt.parts)} statements in one query ({text[:80]!r}), and the client did "
                "not enable multi-statements; nothing was executed",
                perr.ER_PARSE_ERROR,
            )
        if all(p.kind is Kind.READ and not p.calls_routine for p in stmt.parts):
            return
        raise perr.refused(
            f"mdbc proxy runs several statements in one query only when all are plain reads "
            f"({text[:80]!r}): send them one by one; nothing was executed"
        )

    def _note_charset(self, text: str) -> None:
        """Remember whether the session may have left utf8mb4 (see :mod:`.commit`)."""
        upper = text.upper()
        if not any(word in upper for word in _CHARSET_WORDS):
            return
        if " ".join(upper.rstrip("; \n\t").split()).startswith(_PLAIN_UTF8MB4) and (
            "," not in upper
        ):
            self.charset_clean = True
        else:
            self.charset_clean = False

    def _statement(self, stmt: Statement, text: str | None, packet: wire.Packet) -> None:
        """Serve one statement sent as text (``text``) or as a prepared execute."""
        self.observer.statement(stmt.kind)
        if stmt.tcl is Tcl.XA:
            raise perr.refused(
                "XA transactions are not supported through mdbc proxy (a prepared XA branch "
                "would commit outside the log); nothing was executed"
            )
        if stmt.tcl is Tcl.COMMIT and text is not None:
            self._commit_statement(text, packet)
            return
        if stmt.kind is Kind.DDL and text is not None:
            self._ddl(stmt, text, packet)
            return
        unknown_autocommit = stmt.kind is Kind.SESSION and not stmt.parsed
        if unknown_autocommit and (self.tx.has_writes or self.tx.may_write):
            raise perr.refused(
                "SET autocommit to a value only the server knows, inside a transaction "
                "that wrote: COMMIT or ROLLBACK first; nothing was executed"
            )
        if self._is_write(stmt):
            self._write(stmt, packet)
            return
        if self._commits_implicitly(stmt):
            self._commit_open()
        self.relay.forward(packet)
        terminal = self.relay.query()
        if terminal.is_err:
            return
        self._note_effects(stmt, text)
        if stmt.tcl in (Tcl.ROLLBACK, Tcl.BEGIN) or stmt.autocommit is not None:
            self.tx.reset()
        if stmt.tcl is Tcl.BEGIN:
            self.tx.explicit = True
        self._after_response(terminal)

    @staticmethod
    def _is_write(stmt: Statement) -> bool:
        return stmt.kind in (Kind.WRITE, Kind.UNKNOWN) or stmt.calls_routine

    def _commits_implicitly(self, stmt: Statement) -> bool:
        if stmt.tcl is Tcl.UNLOCK_TABLES:
            return self.tables_locked
        return stmt.implicit_commit

    def _note_effects(self, stmt: Statement, text: str | None) -> None:
        """Track ``USE``, table locks and temporary tables after a statement succeeded."""
        if stmt.use_db is not None:
            self.current_db = stmt.use_db
        if stmt.tcl is Tcl.LOCK_TABLES:
            self.tables_locked = True
        elif stmt.tcl is Tcl.UNLOCK_TABLES:
            self.tables_locked = False
        if stmt.temporary and text is not None:
            tables = {t for t in stmt.ddl_tables if not t.is_wildcard}
            if text.lstrip().upper().startswith("DROP"):
                self.temp_tables -= tables
            else:
                self.temp_tables |= tables

    # -- transactions ---------------------------------------------------------------

    def _commit_open(self) -> None:
        """Commit the open transaction through the log if it wrote (an implicit commit follows)."""
        if not (self.tx.has_writes or self.tx.may_write):
            return
        try:
            done = commit_mod.commit(self, "COMMIT")
        finally:
            self.tx.reset()
        if done.lost:
            self.close_after = True
        elif done.packet.is_err:
            errno, _, message = wire.parse_err(done.packet.payload)
            raise pymysql.err.OperationalError(errno, message)

    def _commit_statement(self, text: str, packet: wire.Packet) -> None:
        """The client's COMMIT: through the log if the transaction wrote."""
        if not (self.tx.has_writes or self.tx.may_write):
            self.relay.forward(packet)
            terminal = self.relay.query()
            if not terminal.is_err:
                self.tx.reset()
            return
        try:
            done = commit_mod.commit(self, text.strip().rstrip(";").strip())
        finally:
            self.tx.reset()
        self.relay.note(done.packet)
        self.relay.answer(done.packet)
        if done.lost:
            self.close_after = True

    def _write(self, stmt: Statement, packet: wire.Packet) -> None:
        """A statement that writes (or may): checks, then run it, committing if autocommit."""
        range_name = self._before_write(stmt)
        wrap = self.autocommit and not self.relay.status & wire.SERVER_STATUS_IN_TRANS
        if wrap:
            self.raw.begin()
            self.tx.implicit = True
        if range_name is not None:
            self.tx.range_name = range_name
            self.tx.has_writes = True
            self.tx.tables.update(t for t in stmt.written if t.db is not None)
        else:
            self._note_possible_write()
        self.relay.forward(packet)
        terminal = self.relay.query(hold=True)
        if not wrap:
            self.relay.answer(terminal)
            self._after_response(terminal)
            return
        if terminal.is_err:
            commit_mod.rollback(self)
            self.tx.reset()
            self.relay.answer(terminal)
            return
        try:
            done = commit_mod.commit(self, "COMMIT")
        finally:
            self.tx.reset()
        if done.lost:
            self.close_after = True
        elif done.packet.is_err:
            errno, state, message = wire.parse_err(done.packet.payload)
            self.relay.answer(wire.err_packet(0, errno, state, message))
            return
        self.relay.status = wire.status_of(done.packet) or self.relay.status
        self.relay.answer(wire.with_status(terminal, wire.SERVER_STATUS_IN_TRANS))

    def _before_write(self, stmt: Statement) -> str | None:
        """The range a write changes, checked: one range, owned here, captured.

        Raises (and nothing is sent) like the driver's ``before_statement``:
        both run :func:`mdbc_py.core.write_check.check_write`.
        """
        range_name = write_check.check_write(
            self.runtime,
            self.site.name,
            stmt,
            self.tx,
            self.temp_tables,
            here="this proxy runs",
            elsewhere=lambda owner: f"send writes to the proxy of {owner!r}",
            on_epoch_change=(
                "the session is closed and the transaction rolled back: reconnect and retry"
            ),
            reroute=self._reroute if self.routing else None,
        )
        if range_name is not None and stmt.kind is not Kind.DDL:
            self._require_captured(stmt, range_name)
        return range_name

    def _reroute(self, range_name: str, info: RangeInfo) -> str:
        """Mode route: a write to the session's own range, now owned elsewhere, cuts it.

        A range other than the session database's is not followed: the write
        is refused as at any non-owner.
        """
        if range_name == route.range_of_db(self.runtime, self.current_db):
            self._moved(range_name, info)
        return self.site.name

    def _check_route(self) -> None:
        """Mode route, before a statement outside a transaction: still at the owner?

        From the runtime's cache (refreshed every second); if the store
        cannot be asked, the session goes on (a stale owner is fenced at
        append, and reads stay available).
        """
        range_name = route.range_of_db(self.runtime, self.current_db)
        if range_name is None:
            return
        try:
            info = self.runtime.owner(range_name)
        except StoreUnavailableError:
            return
        if info.owner != self.site.name:
            self._moved(range_name, info)

    def _moved(self, range_name: str, info: RangeInfo) -> None:
        raise FailoverError(
            f"range {range_name!r} is now owned by site {info.owner!r} (epoch {info.epoch}), "
            f"and this session is at {self.site.name!r}: the session is closed and any open "
            f"transaction rolled back (nothing of it was logged); reconnect and retry: mode "
            f"route sends the new session to {info.owner!r}"
        )

    def _require_captured(self, stmt: Statement, range_name: str) -> None:
        ownership.require_captured(
            self.runtime, self.site.name, self.raw, stmt, range_name, self.temp_tables
        )

    def _note_possible_write(self) -> None:
        """A statement whose writes nobody can see: remember which ranges are ours now."""
        self.tx.may_write = True
        ownership.note_possible_write(self.runtime, self.site.name, self.tx.routine_epochs)

    # -- DDL ------------------------------------------------------------------------

    def _ddl(self, stmt: Statement, text: str, packet: wire.Packet) -> None:
        """DDL: executed, then (for a range's tables) logged and its capture regenerated."""
        range_name = self._before_write(stmt)
        if range_name is None:
            if not stmt.temporary:
                self._commit_open()
            self.relay.forward(packet)
            terminal = self.relay.query()
            if not terminal.is_err:
                self._note_effects(stmt, text)
                if not stmt.temporary:
                    self.tx.reset()
                self._after_response(terminal)
            return
        epoch = self.tx.epoch
        assert epoch is not None, "_before_write checked the owner"
        reason = missing_primary_key(text)
        if reason is not None:
            tables = sorted(str(t) for t in stmt.ddl_tables if not t.is_wildcard)
            raise capture.NoPrimaryKeyError(tables, f"{reason}; nothing was executed at any site")
        if not (text.isascii() or (self.charset_clean and _is_utf8(text))):
            raise perr.refused(
                "DDL with non-ASCII text is logged only from a utf8mb4 session (SET NAMES "
                "utf8mb4), so every site runs the very same statement; nothing was executed"
            )
        self._commit_open()
        self.tx.reset()
        self.relay.forward(packet)
        terminal = self.relay.query(hold=True)
        if terminal.is_err:
            self.relay.answer(terminal)
            return
        seq = commit_mod.log_ddl(self, range_name, epoch, text)
        try:
            commit_mod.recapture(self, text)
        except capture.NoPrimaryKeyError as exc:
            raise capture.NoPrimaryKeyError(
                exc.tables,
                f"the statement ran at site {self.site.name!r} and is entry {seq} of range "
                f"{range_name!r}, so every site has the table; it is not captured, and writes "
                "to it are refused until it has a primary key",
            ) from None
        self._note_effects(stmt, text)
        self.relay.answer(terminal)
        self._after_response(terminal)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes: not UTF-8
        return False
    return True
