"""Which range a table belongs to, and the check that a transaction stays in one.

A range is a named set of tables with one log and one owner. The usual
configuration has one range per database (``catalogdb``, ``camundabpmn``,
``requestdb``): a :class:`RangeSpec` with ``tables=None``. A range may also
list tables of a database explicitly; such table-level entries win over the
database-level range of the same database.

Some tables belong to no range and are never replicated, whatever the
configuration says about their database: the system schemas (``mysql``,
``information_schema``, ``performance_schema``, ``sys``), the driver's own
bookkeeping tables (names starting with ``mdbc_``), and temporary tables
(which the classifier cannot recognise by name: the driver passes the ones
its session created). :meth:`RangeMap.range_of` returns ``None`` for them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from mdbc_py.errors import ConfigError, CrossRangeError
from mdbc_py.sql.statement import Statement, TableRef

__all__ = [
    "RESERVED_PREFIX",
    "SYSTEM_SCHEMAS",
    "RangeMap",
    "RangeSpec",
    "require_single_range",
]

SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
"""Schemas MariaDB owns; each site keeps its own, none is replicated.

Matched case-insensitively, as MariaDB matches ``INFORMATION_SCHEMA``.
"""


def _is_system(db: str) -> bool:
    return db.lower() in SYSTEM_SCHEMAS


RESERVED_PREFIX = "mdbc_"
"""Prefix of the driver's own tables (staged rows, applied positions ...).

They live next to the application's tables but hold per-site state, so they
are never part of a range.
"""


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """The tables of one range: all tables of ``database``, or those listed."""

    database: str
    tables: frozenset[str] | None = None
    """Table names in ``database``; ``None`` means every table of it."""


class RangeMap:
    """Resolves tables to range names, for a fixed configuration.

    Built once from the configuration and then only read, so one instance
    can be shared by every connection and thread.
    """

    __slots__ = ("_by_database", "_by_table", "_ranges")

    def __init__(self, ranges: Mapping[str, RangeSpec]) -> None:
        """Check ``ranges`` and index them.

        Raises :class:`~mdbc_py.errors.ConfigError` when a table or a
        database would belong to two ranges, a range lists no tables, or a
        range covers a system schema or an ``mdbc_`` table.
        """
        by_database: dict[str, str] = {}
        by_table: dict[tuple[str, str], str] = {}
        for name, spec in ranges.items():
            if not name:
                raise ConfigError("a range needs a non-empty name")
            if _is_system(spec.database):
                raise ConfigError(
                    f"range {name!r} covers the system schema {spec.database!r}, "
                    "which each site keeps for itself and is never replicated"
                )
            if spec.tables is None:
                other = by_database.setdefault(spec.database, name)
                if other != name:
                    raise ConfigError(
                        f"database {spec.database!r} is in two ranges, {other!r} and {name!r}"
                    )
                continue
            if not spec.tables:
                raise ConfigError(f"range {name!r} lists no tables; omit the list for all")
            for table in spec.tables:
                if table.startswith(RESERVED_PREFIX):
                    raise ConfigError(
                        f"range {name!r} lists {spec.database}.{table}, "
                        f"but {RESERVED_PREFIX}* tables are mdbc's own and never replicated"
                    )
                other = by_table.setdefault((spec.database, table), name)
                if other != name:
                    raise ConfigError(
                        f"table {spec.database}.{table} is in two ranges, {other!r} and {name!r}"
                    )
        self._ranges = dict(ranges)
        self._by_database = by_database
        self._by_table = by_table

    @classmethod
    def per_database(cls, databases: Iterable[str]) -> RangeMap:
        """The default: one range per database, named after it."""
        return cls({db: RangeSpec(db) for db in databases})

    @property
    def ranges(self) -> Mapping[str, RangeSpec]:
        """The configuration this map was built from."""
        return dict(self._ranges)

    def ranges_of(self, table: TableRef) -> frozenset[str]:
        """Every range ``table`` may belong to.

        At most one for a named table. For the wildcard (``db.*``, "any table
        of the database"), every range with tables in that database.
        """
        if not table.is_wildcard:
            found = self.range_of(table)
            return frozenset() if found is None else frozenset((found,))
        if table.db is None or _is_system(table.db):
            return frozenset()
        found_all = {r for (db, _), r in self._by_table.items() if db == table.db}
        if table.db in self._by_database:
            found_all.add(self._by_database[table.db])
        return frozenset(found_all)

    def range_of(self, table: TableRef) -> str | None:
        """The range ``table`` belongs to, or ``None`` if it is not replicated.

        A table-level entry wins over its database's range. ``None`` for
        tables of no range: other databases, system schemas, ``mdbc_*``
        tables, and tables without a database (no current database). For
        the wildcard the answer is the one range covering its database;
        when several do, :meth:`ranges_of` must be used and this raises
        ``ValueError``.
        """
        if table.db is None or _is_system(table.db):
            return None
        if table.is_wildcard:
            candidates = self.ranges_of(table)
            if len(candidates) > 1:
                raise ValueError(f"{table} spans ranges {sorted(candidates)}; use ranges_of()")
            return next(iter(candidates), None)
        if table.name.startswith(RESERVED_PREFIX):
            return None
        found = self._by_table.get((table.db, table.name))
        return found if found is not None else self._by_database.get(table.db)

    def group(self, tables: Iterable[TableRef]) -> dict[str, frozenset[TableRef]]:
        """``tables`` by range, leaving out those of no range."""
        grouped: dict[str, set[TableRef]] = {}
        for table in tables:
            for name in self.ranges_of(table):
                grouped.setdefault(name, set()).add(table)
        return {name: frozenset(found) for name, found in grouped.items()}

    def written_by_range(
        self, stmt: Statement, temporary: Collection[TableRef] = ()
    ) -> dict[str, frozenset[TableRef]]:
        """Tables ``stmt`` changes (rows or definition), by range.

        ``temporary`` holds the temporary tables the session has created:
        their name hides a real table of the same name, and neither they nor
        ``CREATE/DROP TEMPORARY TABLE`` are replicated.
        """
        changed: set[TableRef] = set()
        for part in stmt.parts or (stmt,):
            changed.update(t for t in part.written if t not in temporary)
            if not part.temporary:
                changed.update(t for t in part.ddl_tables if t not in temporary)
        return self.group(changed)

    def ranges_written(
        self, stmt: Statement, temporary: Collection[TableRef] = ()
    ) -> frozenset[str]:
        """Ranges whose log must carry what ``stmt`` changes (see :meth:`written_by_range`)."""
        return frozenset(self.written_by_range(stmt, temporary))


def require_single_range(
    ranges: Iterable[str] | Mapping[str, Iterable[TableRef]],
) -> str | None:
    """The one range of a transaction; ``None`` if it touched none.

    Pass a mapping of range to tables (as :meth:`RangeMap.group` returns)
    for an error message that names the tables. Raises
    :class:`~mdbc_py.errors.CrossRangeError` for two ranges or more: each
    range has its own log and owner, so one transaction cannot be made
    durable in two of them atomically.
    """
    if isinstance(ranges, Mapping):
        by_range = {name: sorted(str(t) for t in ranges[name]) for name in ranges}
    else:
        by_range = {name: [] for name in ranges}
    if len(by_range) <= 1:
        return next(iter(by_range), None)
    listed = "; ".join(
        f"{name}: {', '.join(tables)}" if tables else name
        for name, tables in sorted(by_range.items())
    )
    raise CrossRangeError(
        f"one transaction writes to {len(by_range)} ranges ({listed}). "
        "Each range has its own log and owner, so this cannot commit atomically. "
        "Put these tables in one range in the configuration, or split the "
        "transaction into one per range."
    )
