"""What the driver tracks about the open transaction of one connection."""

from __future__ import annotations

from dataclasses import dataclass, field

from mdbc_py.sql import TableRef


@dataclass
class Transaction:
    """Ranges and tables the open transaction has written, and how it began.

    ``explicit`` is True after ``BEGIN`` / ``START TRANSACTION`` in autocommit
    mode; ``implicit`` is True while the driver wrapped one autocommit write
    statement in a transaction of its own.
    """

    range_name: str | None = None
    tables: set[TableRef] = field(default_factory=set)
    has_writes: bool = False
    explicit: bool = False
    implicit: bool = False
    epoch: int | None = None

    def reset(self) -> None:
        """Forget everything: the transaction ended."""
        self.range_name = None
        self.tables.clear()
        self.has_writes = False
        self.explicit = False
        self.implicit = False
        self.epoch = None
