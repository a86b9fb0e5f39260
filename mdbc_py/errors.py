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
    Warning,
)

__all__ = [
    "CommitOutcomeUnknownError",
    "ConfigError",
    "CrossRangeError",
    "DataError",
    "DatabaseError",
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
    "StorePermissionError",
    "StoreSchemaError",
    "StoreUnavailableError",
    "TrimmedError",
    "UnknownRangeError",
    "Warning",
]


class MdbcError(Error):
    """Marker base of every error that mdbc_py itself raises (not MariaDB)."""


class ConfigError(MdbcError, InterfaceError):
    """The configuration is missing, unreadable or names something invalid.

    An ``InterfaceError``: the problem is in how mdbc_py was set up, not in
    the database. ``key`` and ``table`` say where the problem is when it is
    one key of one table (``table`` as written in TOML, e.g. ``[sites.dc1]``),
    and ``known`` lists the keys that table accepts. No attribute and no
    message ever holds a configured value that could be a secret.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        table: str | None = None,
        known: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.key = key
        self.table = table
        self.known = tuple(known)


class RetryableError(MdbcError, OperationalError):
    """A transaction was refused or cut, nothing of it was kept: run it again.

    ``mdbc_py``'s retry helper retries exactly these. Subclasses say why.
    """

    retryable = True


class StoreUnavailableError(RetryableError):
    """The MUSIC store could not be reached with the consistency required.

    Not enough replicas answered, or the store timed out. Nothing was
    committed; once the store is back the transaction can be run again.
    ``operation`` names what the store was doing and ``cause`` the driver's
    own error, when the store raised it.
    """

    operation: str | None = None
    cause: str | None = None


class StorePermissionError(MdbcError, OperationalError):
    """The store's account may not do what was asked (Cassandra ``Unauthorized``).

    ``operation`` names the step; the message says which grant to ask an
    administrator for. Nothing was changed by the refused statement.
    """

    operation: str | None = None


class StoreSchemaError(MdbcError, OperationalError):
    """The store's keyspace lacks a table this version of mdbc_py uses.

    A keyspace created by an older mdbc_py gets new tables from ``mdbc
    init`` (idempotent), never from a running process: concurrent schema
    changes from many processes are what Cassandra handles worst. ``table``
    names the missing table; nothing was written.
    """

    table: str | None = None


class FencedError(RetryableError):
    """The epoch this writer holds is no longer current: another site owns the range.

    Raised when an append carries a stale epoch. The local transaction has
    been rolled back; the application should retry, which reaches the new
    owner (mode ``route``) or raises ``NotOwnerError`` (mode ``master-slave``).
    ``epoch`` is the refused epoch and ``epoch_owner`` the site that held
    it; ``current_epoch``, ``owner`` and ``state`` describe the range now.
    """

    range_name: str | None = None
    epoch: int | None = None
    epoch_owner: str | None = None
    current_epoch: int | None = None
    owner: str | None = None
    state: object = None


class FailoverError(RetryableError):
    """The owner of a range changed while this transaction was open."""


class NotOwnerError(MdbcError, OperationalError):
    """A write was sent to a site that does not own the range.

    The message names the range and the site that owns it, so an operator
    can point the service at the right site or switch to mode ``route``.
    """


class CommitOutcomeUnknownError(MdbcError, OperationalError):
    """The commit may or may not have happened, and the log cannot tell yet.

    Raised only when the store could not be asked whether the transaction id
    is in the log. Never retry blindly: look the transaction id up first.
    ``txid`` is the caller's transaction, ``txids`` every transaction of the
    append it was part of, ``range_name`` the range.
    """

    range_name: str | None = None
    txid: str | None = None
    txids: tuple[str, ...] = ()


class CrossRangeError(MdbcError, ProgrammingError):
    """A transaction touched tables of more than one range.

    Each range has its own log and owner, so such a transaction cannot be
    made durable atomically. Put the tables in one range in the
    configuration, or split the transaction.
    """


class NotCapturedError(MdbcError, ProgrammingError):
    """A write to a table of a range that has no capture triggers at this site.

    Its changes could not be logged, so the write is refused before it runs.
    """


class UnknownRangeError(MdbcError, ProgrammingError):
    """A range name that the store does not know (or that is not valid)."""


class EntryTooLargeError(MdbcError, DataError):
    """A log entry is larger than a limit (64 MiB by default).

    Raised before anything is written, so the log and database are unchanged.
    ``which`` names the limit that was passed: ``"uncompressed"`` (the
    transaction's row images and statements, what MariaDB and every replica
    must handle) or ``"stored"`` (the framed, maybe compressed bytes the
    store keeps); ``size`` and ``limit`` are in bytes. They are ``None`` when
    raised by code that does not know them.
    """

    def __init__(
        self,
        message: str,
        *,
        size: int | None = None,
        limit: int | None = None,
        which: str | None = None,
    ) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit
        self.which = which


class TrimmedError(MdbcError, OperationalError):
    """The requested log entries were trimmed: the reader must resync from a snapshot."""


class LogDivergedError(MdbcError, InternalError):
    """The store handed out a sequence number this site had already applied.

    That only happens when the MUSIC store lost acknowledged entries (for
    example a single Cassandra node killed while running with
    ``commitlog_sync: periodic``). The site no longer matches the log: it is
    marked ``needs-resync`` and must be rebuilt from the owner.
    """
