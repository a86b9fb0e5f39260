"""mdbc_py: MDBC-style multi-site durability and replication for MariaDB.

A PEP 249 (DB-API 2.0) module. An SO service switches from PyMySQL by
changing its import and saying where its MUSIC store is::

    import mdbc_py
    conn = mdbc_py.connect(site="dc1", config="/etc/mdbc/mdbc.toml", database="requestdb")

``connect`` takes every keyword argument of ``pymysql.connect`` (they win over
the site's entry in the configuration), plus ``site=`` and ``config=`` (a
path or a ``Config``; default ``MDBC_CONFIG``, then ``./mdbc.toml``).
"""

from __future__ import annotations

from typing import Any

from pymysql import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)

from mdbc_py.driver.retry import retry, retrying
from mdbc_py.errors import (
    CommitOutcomeUnknownError,
    CrossRangeError,
    DatabaseError,
    DataError,
    EntryTooLargeError,
    Error,
    FailoverError,
    FencedError,
    IntegrityError,
    InterfaceError,
    InternalError,
    LogDivergedError,
    MdbcError,
    NotCapturedError,
    NotOwnerError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    RetryableError,
    StoreUnavailableError,
    Warning,
)

__version__ = "0.1.0"

apilevel = "2.0"
threadsafety = 1
"""Threads may share the module, not connections (as PyMySQL)."""
paramstyle = "pyformat"


def connect(*args: Any, **kwargs: Any) -> Any:
    """Open a connection to a site's MariaDB whose commits are durable in the MUSIC store."""
    from mdbc_py.driver.connection import Connection

    if args:
        raise InterfaceError("mdbc_py.connect takes keyword arguments only")
    return Connection(**kwargs)


Connect = connect

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "CommitOutcomeUnknownError",
    "Connect",
    "CrossRangeError",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "EntryTooLargeError",
    "Error",
    "FailoverError",
    "FencedError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "LogDivergedError",
    "MdbcError",
    "NotCapturedError",
    "NotOwnerError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "RetryableError",
    "StoreUnavailableError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "__version__",
    "apilevel",
    "connect",
    "paramstyle",
    "retry",
    "retrying",
    "threadsafety",
]
