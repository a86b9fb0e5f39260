"""mdbc_py: MDBC-style multi-site durability and replication for MariaDB.

The DB-API 2.0 surface (``connect``, ``apilevel`` ...) is exported here as the
driver lands; the exception hierarchy is already PyMySQL-compatible.
"""

from __future__ import annotations

from mdbc_py.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)

__version__ = "0.1.0"

apilevel = "2.0"
threadsafety = 1
paramstyle = "pyformat"

__all__ = [
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Warning",
    "__version__",
    "apilevel",
    "paramstyle",
    "threadsafety",
]
