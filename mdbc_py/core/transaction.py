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

    ``may_write`` is True once a statement ran whose writes the classifier
    cannot see (it calls a stored function, or nobody can parse it): the
    commit then reads the staged rows even if no known write ran.
    ``routine_epochs`` holds, for each range this site owned (open) when the
    first such statement ran, the epoch it owned it in: staged rows of a
    range are logged only if this site owned it then and still does now.
    """

    range_name: str | None = None
    tables: set[TableRef] = field(default_factory=set)
    has_writes: bool = False
    explicit: bool = False
    implicit: bool = False
    epoch: int | None = None
    may_write: bool = False
    routine_epochs: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget everything: the transaction ended."""
        self.range_name = None
        self.tables.clear()
        self.has_writes = False
        self.explicit = False
        self.implicit = False
        self.epoch = None
        self.may_write = False
        self.routine_epochs.clear()
