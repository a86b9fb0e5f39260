"""Errors of the capture side: tables that cannot be captured, staged rows in the way.

Each is a subclass of the DB-API class a caller would expect: a table that
cannot be captured is a problem of the schema (``ProgrammingError``); staged
rows that block a change are a state of the database (``OperationalError``);
a shadow that does not look as the capture left it is an ``InternalError``.
"""

from __future__ import annotations

from collections.abc import Iterable

from mdbc_py.errors import InternalError, MdbcError, OperationalError, ProgrammingError

__all__ = [
    "CaptureError",
    "CaptureStateError",
    "NoPrimaryKeyError",
    "StagedRowsError",
    "UnsupportedTableError",
]


class CaptureError(MdbcError):
    """Marker base of every error raised by ``mdbc_py.capture``."""


class NoPrimaryKeyError(CaptureError, ProgrammingError):
    """Tables without a primary key were asked to be captured.

    A row image is applied on a replica by its primary key; without one a
    replica could not find the row again, so such a table cannot be
    replicated exactly. ``tables`` holds every offending ``db.table``;
    ``outcome`` says what was done (by default nothing).
    """

    def __init__(self, tables: Iterable[str], outcome: str = "nothing was installed") -> None:
        self.tables: tuple[str, ...] = tuple(tables)
        self.outcome = outcome
        names = ", ".join(self.tables)
        super().__init__(
            f"cannot capture table(s) without a primary key: {names}. Add a primary key "
            f"to each, or leave the table out of the replicated range ({outcome})"
        )


class UnsupportedTableError(CaptureError, ProgrammingError):
    """A table's definition cannot be captured exactly (reserved column name, versioning...).

    The message says which table, why, and what to change.
    """


class StagedRowsError(CaptureError, OperationalError):
    """A capture table must be recreated or dropped but still holds staged rows.

    Staged rows that no driver commit claimed are out-of-band writes; dropping
    them would lose the only trace of those writes. Inspect them (``mdbc
    status`` reports them), then resolve them or remove the capture with
    ``force=True``.
    """


class CaptureStateError(CaptureError, InternalError):
    """A shadow table is not as the capture left it (altered by hand, rows gone).

    Raised on the commit path; the transaction must be rolled back, and the
    table's capture reinstalled if its shadow was altered.
    """
