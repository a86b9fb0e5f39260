"""How an mdbc error reaches a MySQL client: one ERR packet, a code, a SQLSTATE.

The codes are MariaDB's own, chosen so that JDBC pools and Spring's
exception translation classify them rightly (the table is repeated in the
package docstring, for operators):

=============================  =====  ========  ======================================
mdbc error                     errno  SQLSTATE  why this code
=============================  =====  ========  ======================================
NotOwnerError                  1290   HY000     like ``read_only``: writes go elsewhere
FailoverError, FencedError     1184   08S01     connection-level: the session is
                                                closed after it; reconnect and retry
CommitOutcomeUnknownError      1180   08007     "transaction resolution unknown";
                                                session closed; look the txid up
StoreUnavailableError          1213   40001     serialization failure: retry the
                                                whole transaction (nothing was kept)
CrossRangeError                1235   42000     not supported: one range per transaction
NotCapturedError,              1173   42000     the table needs a primary key / capture
NoPrimaryKeyError
EntryTooLargeError             1197   HY000     like "max_binlog_cache_size exceeded"
refused statement (XA, stacked 1235   42000     not supported by the proxy (message says
text, non-UTF-8 DDL)                            what to do); stacked text the client did
                                                not ask for: 1064 / 42000, as MariaDB
prepared DDL / TCL             1295   HY000     "not supported in the prepared
                                                statement protocol yet"
unsupported command            1047   08S01     unknown command
too many sessions              1040   08004     too many connections
proxy shutting down            1053   08S01     server shutdown in progress
login: site unreachable        1184   08S01     as a connection cut: retry later
login: TLS to the site failed  2026   HY000     "SSL connection error" (the message
(BackendTlsError)                               names the site and its [tls] table)
login: TLS asked, not offered  1043   08S01     bad handshake: the proxy has no
                                                certificate (--tls-cert)
login: plaintext, TLS required 3159   HY000     MySQL's "insecure transport
                                                prohibited" (--tls-required)
anything else (LogDiverged,    1105   HY000     unknown error; the message says what
a database error on the                         happened
proxy's own statements)
=============================  =====  ========  ======================================

The message is the mdbc error's own text (it names range, site, epoch and
what to do); it never holds a password.
"""

from __future__ import annotations

from dataclasses import dataclass

import pymysql

from mdbc_py import errors
from mdbc_py.capture import NoPrimaryKeyError


@dataclass(frozen=True)
class ClientError:
    """An error as the client gets it; ``close`` ends the session after sending it."""

    errno: int
    sqlstate: str
    message: str
    close: bool = False


class RefusedError(Exception):
    """A statement or command the proxy refuses before sending it (``answer`` says how)."""

    def __init__(self, answer: ClientError) -> None:
        super().__init__(answer.message)
        self.answer = answer


ER_UNKNOWN_ERROR = 1105
ER_NOT_SUPPORTED_YET = 1235
ER_PARSE_ERROR = 1064
ER_UNSUPPORTED_PS = 1295
ER_UNKNOWN_COM_ERROR = 1047
ER_CON_COUNT_ERROR = 1040
ER_SERVER_SHUTDOWN = 1053
ER_SECURE_TRANSPORT_REQUIRED = 3159
"""MySQL's code for a plaintext login where TLS is required (``--tls-required``)."""
CR_SSL_CONNECTION_ERROR = 2026
"""The client library's "SSL connection error": TLS toward a site's MariaDB failed."""

CLIENT_LOST = frozenset({2006, 2013, 2055})
"""PyMySQL's own codes for a lost backend session: the proxy's session ends."""


def refused(
    message: str, errno: int = ER_NOT_SUPPORTED_YET, sqlstate: str = "42000"
) -> RefusedError:
    """A refusal the client gets as an ERR packet; nothing was sent to the database."""
    return RefusedError(ClientError(errno, sqlstate, message))


def to_client(exc: BaseException) -> ClientError:
    """The ERR packet contents for an error raised while serving a client."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, RefusedError):
        return exc.answer
    if isinstance(exc, errors.NotOwnerError):
        return ClientError(1290, "HY000", message)
    if isinstance(exc, errors.FailoverError | errors.FencedError):
        return ClientError(1184, "08S01", message, close=True)
    if isinstance(exc, errors.CommitOutcomeUnknownError):
        return ClientError(1180, "08007", message, close=True)
    if isinstance(exc, errors.StoreUnavailableError):
        return ClientError(1213, "40001", message)
    if isinstance(exc, errors.CrossRangeError):
        return ClientError(ER_NOT_SUPPORTED_YET, "42000", message)
    if isinstance(exc, errors.NotCapturedError | NoPrimaryKeyError):
        return ClientError(1173, "42000", message)
    if isinstance(exc, errors.EntryTooLargeError):
        return ClientError(1197, "HY000", message)
    if isinstance(exc, pymysql.err.Error) and not isinstance(exc, errors.MdbcError):
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        text = exc.args[1] if len(exc.args) > 1 else message
        if code in CLIENT_LOST or code == 0:
            return ClientError(
                ER_UNKNOWN_ERROR,
                "08S01",
                f"the proxy lost its database session: {text}",
                close=True,
            )
        return ClientError(
            ER_UNKNOWN_ERROR, "HY000", f"the proxy's commit statements failed: ({code}) {text}"
        )
    return ClientError(ER_UNKNOWN_ERROR, "HY000", f"{type(exc).__name__}: {message}")
