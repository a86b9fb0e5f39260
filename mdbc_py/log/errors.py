"""Errors of the log entry format.

They are DB-API ``DataError`` subclasses because every one of them is about the
content of a value or of stored bytes, never about a connection or the server:
an application that already catches ``DataError`` for "this value cannot be
stored" keeps working, and ``MdbcError`` tells it the refusal came from
mdbc_py rather than from MariaDB.
"""

from __future__ import annotations

from mdbc_py.errors import DataError, MdbcError

__all__ = ["LogEncodeError", "LogFormatError", "UnsupportedValueTypeError"]


class LogFormatError(MdbcError, DataError):
    """Stored bytes are not a valid log entry of a format version this code knows.

    Raised for wrong magic, an unknown format version or flag, a CRC mismatch,
    truncated or trailing data and any malformed body. A replica that meets
    one must stop applying rather than guess, so the message says what was
    wrong and where.
    """


class LogEncodeError(MdbcError, DataError, ValueError):
    """A value cannot be encoded without changing it.

    For example a ``str`` holding a lone surrogate (no UTF-8 form exists), a
    timezone-aware ``datetime`` (MariaDB columns hold naive ones) or a SET
    member that is not a ``str``. Refusing is the only safe choice: a replica
    must receive exactly what the owner stored. Also a ``ValueError`` because
    that is what Python code expects for a bad value of a supported type.
    """


class UnsupportedValueTypeError(LogEncodeError, TypeError):
    """A value's type has no encoding, so it could not come back as the same type.

    Also a ``TypeError``, which is what Python callers expect for a value of
    the wrong type. The message names the type (and, when known, the table
    and column).
    """
