"""The PEP 249 exception hierarchy of mdbc_py, and the errors mdbc_py adds to it.

The base classes *are* PyMySQL's (not copies), so an SO service that switches
its import from ``pymysql`` to ``mdbc_py`` keeps every ``except`` clause it
has: a MariaDB error raised through mdbc_py is the very class, with the very
errno, that PyMySQL would have raised. Every error of mdbc_py's own is a
subclass of the DB-API class an application would expect to catch.
"""

from __future__ import annotations

from pymysql.err import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,  # noqa: A004 - the name PEP 249 prescribes
)

__all__ = [
    "ConfigError",
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "MdbcError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Warning",
]


class MdbcError(Error):
    """Marker base of every error that mdbc_py itself raises (not MariaDB)."""


class ConfigError(MdbcError, InterfaceError):
    """The configuration is missing, unreadable or names something invalid.

    An ``InterfaceError``: the problem is in how mdbc_py was set up, not in
    the database.
    """
