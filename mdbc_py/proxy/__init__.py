"""``mdbc proxy``: the MySQL-protocol front end, for clients that are not Python.

Any MySQL/MariaDB client (the ``mysql`` command-line client, PyMySQL,
MariaDB Connector/J) gets the driver's guarantees by connecting to the
proxy instead of to MariaDB: every transaction that wrote is durable in the
MUSIC log before its COMMIT returns, and a write at a site that does not own
its range is refused. Run one proxy per site::

    mdbc proxy --site dc1 --listen 127.0.0.1:3307 -c mdbc.toml

and point the client at it (a JDBC URL changes only its host and port:
``jdbc:mariadb://127.0.0.1:3307/requestdb``). Options: ``--max-sessions``
(default 256), ``--tls-cert``/``--tls-key`` (TLS for clients; see below),
``--drain-seconds`` (default 10: on SIGTERM, how long open
transactions may still finish), ``--metrics-listen [HOST:]PORT`` (Prometheus
``/metrics``, ``/health``, ``/health/live``), ``--heartbeat-seconds``
(default 2: its health check and its line in ``mdbc status``; see
docs/operations.md). The client logs in with its own MariaDB
account (the handshake passes through); that account also needs the
privileges of the commit path, as for the driver: ``mdbc_stage_<db>`` and
``mdbc.applied`` (see ``deploy/grant-mdbc.sql``).

How it works (modules):

- :mod:`.wire`: packet framing, OK/ERR/EOF;
- :mod:`.handshake`: the relayed login, the capabilities it masks, the
  SSL request;
- :mod:`.backend`: the client's own backend session (over TLS when the
  site has it) and a PyMySQL handle on it, for the commit core's statements;
- :mod:`.route`: mode route, which server a session logs in at;
- :mod:`.relay`: reading one response and relaying it;
- :mod:`.session`: one client's commands and transaction tracking;
- :mod:`.commit`: the commit core on that session;
- :mod:`.server`: listener, threads, limits, drain;
- :mod:`.metrics`: sessions, statements, commits and errors for Prometheus;
- :mod:`.monitor`: the database check, the heartbeat in the store, ``/health``.

What this version supports, and refuses (each refusal is an ERR packet
whose message says what to do):

- modes ``master-slave`` (the backend is the site's own MariaDB, writes
  at a non-owner are refused) and ``route`` (the backend is the MariaDB of
  the owner of the login database's range; a change of owner cuts a
  session at its next statement with 1184/08S01 and its next session lands
  at the new owner: see :mod:`.route`); ``--mode`` overrides the
  configuration's;
- TLS toward MariaDB as ``[sites.NAME.tls]`` says (CA, client certificate,
  checks), as for the driver: the proxy sends the SSL request and the TLS
  handshake itself, then relays the client's login over it (also to the
  owner in mode route). TLS from clients only with ``--tls-cert`` and
  ``--tls-key`` (optionally ``--tls-client-ca``, ``--tls-required``);
  without them SSL is masked in the greeting. The two links are separate:
  MariaDB sees the proxy's client certificate, not the client's (an
  account with ``REQUIRE X509`` is checked against the site's ``cert``;
  ``--tls-client-ca`` is checked by the proxy). No compression; no ``LOAD
  DATA LOCAL INFILE`` (masked: the server refuses it);
- several statements in one query only when all are plain reads (and the
  client enabled multi-statements); ``XA`` is refused;
- prepared statements: prepared, executed, fetched, reset and closed as
  MariaDB does; each ``COM_STMT_EXECUTE`` of a write is handled like the
  same write sent as text (checked, logged at commit). Preparing DDL,
  transaction control, ``USE`` or ``SET autocommit`` is refused: send
  those as text;
- DDL is logged as its text; non-ASCII DDL only from a ``utf8mb4``
  session.

Errors reach the client as ERR packets (errno / SQLSTATE):

=============================  ===========  =====================================
mdbc error                     errno/state  meaning for the client
=============================  ===========  =====================================
NotOwnerError                  1290 HY000   like read_only: send writes to the owner
FailoverError, FencedError     1184 08S01   connection-level: the session is closed,
                                            the transaction rolled back; reconnect,
                                            retry
CommitOutcomeUnknownError      1180 08007   transaction resolution unknown; session
                                            closed; look the transaction id up
StoreUnavailableError          1213 40001   retryable: nothing was kept, run the
                                            transaction again
CrossRangeError                1235 42000   one transaction, one range
NotCapturedError,              1173 42000   table without primary key or capture
NoPrimaryKeyError
EntryTooLargeError             1197 HY000   transaction too large for one log entry
refused statement              1235 42000   XA, stacked writes, non-UTF-8 DDL
stacked text, not asked for    1064 42000   as MariaDB answers it
prepared DDL / TCL             1295 HY000   send it as text
unsupported command            1047 08S01   replication/binlog commands
too many sessions              1040 08004   ``--max-sessions`` reached
TLS to the site failed         2026 HY000   at login: untrusted certificate, server
                                            without TLS ...; the message names the
                                            site and its ``[sites.NAME.tls]``
TLS asked, proxy has no cert   1043 08S01   at login: start it with ``--tls-cert``
plaintext, ``--tls-required``  3159 HY000   at login: connect with TLS
other (LogDivergedError, the   1105 HY000   the message says what happened
proxy's own statements)
=============================  ===========  =====================================
"""

from __future__ import annotations

from mdbc_py.proxy.server import ProxyServer, ProxySettings

__all__ = ["ProxyServer", "ProxySettings"]
