"""MariaDB's error numbers, by PyMySQL's names, and the one way to read them off an error.

Every module that branches on a server or client error asks here, with
``pymysql.constants.ER`` / ``CR`` names rather than bare numbers, so that a
reader sees *which* error is meant and a search finds every place that
handles it.
"""

from __future__ import annotations

from pymysql.constants import CR, ER

__all__ = [
    "CLIENT_ERRORS_FROM",
    "CONNECTION_LOST",
    "DDL_ALREADY_DONE",
    "NO_SUCH_TABLE_OR_DB",
    "TRANSIENT",
    "errno",
]

CLIENT_ERRORS_FROM = 2000
"""Error numbers from here up are the client library's (a lost connection ...), not the server's."""

CONNECTION_LOST = frozenset(
    {CR.CR_CONN_HOST_ERROR, CR.CR_SERVER_GONE_ERROR, CR.CR_SERVER_LOST, 2055}
)
"""The connection is gone (2055: lost at a system call): whatever was open was rolled back."""

TRANSIENT = frozenset({ER.LOCK_WAIT_TIMEOUT, ER.LOCK_DEADLOCK})
"""Lock wait timeout and deadlock: MariaDB rolled the transaction (or statement) back; retry."""

NO_SUCH_TABLE_OR_DB = frozenset({ER.BAD_DB_ERROR, ER.NO_SUCH_TABLE})

DDL_ALREADY_DONE = frozenset(
    {
        ER.DB_CREATE_EXISTS,
        ER.DB_DROP_EXISTS,
        ER.TABLE_EXISTS_ERROR,
        ER.BAD_TABLE_ERROR,
        ER.DUP_FIELDNAME,
        ER.DUP_KEYNAME,
        ER.CANT_DROP_FIELD_OR_KEY,
        ER.NO_SUCH_TABLE,
    }
)
"""Errors that mean "this DDL already happened here" when a DDL entry is replayed on a
site where it ran before its applied row could be recorded."""


def errno(exc: BaseException) -> int | None:
    """The MariaDB or client error number of a PyMySQL error, else None."""
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None
