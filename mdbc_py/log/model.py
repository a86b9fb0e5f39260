"""The in-memory form of a log entry: what one committed transaction changed.

These are the objects the capture side builds and the replay side consumes;
the byte format lives elsewhere (``values``, ``body``, ``envelope``) so that
the model can stay stable while the format gets new versions.

The dataclasses are frozen because an entry is a fact about the past: once
built it is shared between the append path, group commit and retries, and
nobody may change it underneath the others. Sequence number and epoch are
deliberately absent: the store assigns them at append time, and the same
payload must be appendable again (with a new sequence number) after a
fenced or timed-out attempt.
"""

from __future__ import annotations

import datetime
import decimal
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = ["Column", "DdlStatement", "EntryPayload", "Op", "RowChange", "Value"]

Value: TypeAlias = (
    bool
    | int
    | float
    | decimal.Decimal
    | str
    | bytes
    | datetime.datetime
    | datetime.date
    | datetime.timedelta
    | datetime.time
    | set[str]
    | frozenset[str]
    | None
)
"""A column value exactly as PyMySQL returns it for a MariaDB 10.11 column."""

Column: TypeAlias = tuple[str, Value]
"""One ``(column name, value)`` pair; pairs keep the table's column order."""


class Op(enum.Enum):
    """The kind of row change; it decides how replay applies the row image."""

    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


def _pairs(what: str, pairs: Iterable[Any]) -> tuple[Column, ...]:
    """Return ``pairs`` as a tuple of 2-tuples with ``str`` names, or raise.

    Callers may pass lists (the capture side reads rows into lists); storing
    tuples keeps the frozen dataclass really immutable and hashable by shape.
    """
    if isinstance(pairs, (str, bytes)):
        raise TypeError(f"{what} must be a sequence of (column, value) pairs, not {pairs!r}")
    out: list[Column] = []
    for pair in pairs:
        if not isinstance(pair, tuple):
            pair = tuple(pair)
        if len(pair) != 2 or not isinstance(pair[0], str):
            raise TypeError(f"{what} must hold (column: str, value) pairs, got {pair!r}")
        out.append(pair)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RowChange:
    """One row inserted, updated or deleted by the transaction.

    ``pk`` identifies the row on the replica (it is the before-image key for
    UPDATE and DELETE, so a changed primary key is still found). ``row`` is
    the full after-image for INSERT and UPDATE, so replay never depends on
    the replica's current row; for DELETE it is the before-image, kept for
    audit and verification, or ``None`` when it was not captured.
    """

    table: str
    """Qualified name ``"db.table"``: one entry may touch several databases of one range."""
    op: Op
    pk: tuple[Column, ...]
    row: tuple[Column, ...] | None

    def __post_init__(self) -> None:
        if not isinstance(self.table, str) or not self.table:
            raise TypeError(f"RowChange.table must be a non-empty str, got {self.table!r}")
        if not isinstance(self.op, Op):
            raise TypeError(f"RowChange.op must be an Op, got {self.op!r}")
        object.__setattr__(self, "pk", _pairs(f"RowChange.pk of {self.table}", self.pk))
        if not self.pk:
            # A row without a key cannot be found again on a replica.
            raise ValueError(f"RowChange.pk of {self.table} is empty: a primary key is required")
        if self.row is None:
            if self.op is not Op.DELETE:
                raise ValueError(
                    f"RowChange of {self.table}: {self.op.value} needs the full row image"
                )
        else:
            object.__setattr__(self, "row", _pairs(f"RowChange.row of {self.table}", self.row))


def row_change_unchecked(
    table: str, op: Op, pk: tuple[Column, ...], row: tuple[Column, ...] | None
) -> RowChange:
    """Build a ``RowChange`` from fields a decoder has already validated.

    ``__post_init__`` walks every pair of every row; a decoder that produced
    the tuples itself (and checked the key and row-image rules) would pay
    that twice, which dominates decoding a large entry.
    """
    change = object.__new__(RowChange)
    object.__setattr__(change, "table", table)
    object.__setattr__(change, "op", op)
    object.__setattr__(change, "pk", pk)
    object.__setattr__(change, "row", row)
    return change


@dataclass(frozen=True, slots=True)
class DdlStatement:
    """A schema change, logged as the statement text that the owner executed.

    DDL is replayed as SQL because its effect cannot be expressed as row
    images. ``database`` is the default database the statement ran in (so
    unqualified names resolve the same way on the replica), or ``None``.
    """

    database: str | None
    sql: str

    def __post_init__(self) -> None:
        if self.database is not None and not isinstance(self.database, str):
            raise TypeError(f"DdlStatement.database must be a str or None, got {self.database!r}")
        if not isinstance(self.sql, str) or not self.sql:
            raise TypeError(f"DdlStatement.sql must be a non-empty str, got {self.sql!r}")


@dataclass(frozen=True, slots=True)
class EntryPayload:
    """Everything a log entry says about one committed transaction of one range.

    An entry carries either row changes or one DDL statement, never both:
    MariaDB commits implicitly around DDL, so a mix cannot come from one
    transaction, and replay would not know which to apply first.
    """

    txid: str
    """Globally unique id; lets a driver prove whether its commit reached the log."""
    commit_time_us: int
    """Owner's wall clock at commit, microseconds since the Unix epoch (for lag)."""
    origin_site: str
    range_name: str
    changes: tuple[RowChange, ...]
    ddl: DdlStatement | None = None

    def __post_init__(self) -> None:
        for name in ("txid", "origin_site", "range_name"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"EntryPayload.{name} must be a str, got {value!r}")
        if type(self.commit_time_us) is not int:
            raise TypeError(
                f"EntryPayload.commit_time_us must be an int, got {self.commit_time_us!r}"
            )
        if not -(2**63) <= self.commit_time_us < 2**63:
            raise ValueError(
                f"EntryPayload.commit_time_us {self.commit_time_us} does not fit in 64 bits"
            )
        if type(self.changes) is not tuple:
            object.__setattr__(self, "changes", tuple(self.changes))
        for change in self.changes:
            if not isinstance(change, RowChange):
                raise TypeError(f"EntryPayload.changes must hold RowChange, got {change!r}")
        if self.ddl is not None:
            if not isinstance(self.ddl, DdlStatement):
                raise TypeError(f"EntryPayload.ddl must be a DdlStatement, got {self.ddl!r}")
            if self.changes:
                raise ValueError("an entry holds row changes or one DDL statement, not both")
