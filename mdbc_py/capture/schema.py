"""What the capture needs to know about a table, read from ``information_schema``.

The shadow table copies each column's exact type (``COLUMN_TYPE`` with its
character set and collation), so only those facts, the primary key and the
kind of table are read. ``information_schema`` compares names with a
case-insensitive collation, while MariaDB on Linux keeps ``Service`` and
``service`` apart, so rows are always filtered again in Python by exact name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pymysql.cursors import Cursor

from mdbc_py.capture.errors import NoPrimaryKeyError, UnsupportedTableError
from mdbc_py.capture.naming import MAX_IDENT, RESERVED_PREFIX, is_internal_table

__all__ = [
    "ROW_TABLE_TYPES",
    "ColumnInfo",
    "TableInfo",
    "check_capturable",
    "read_tables",
]

BASE_TABLE = "BASE TABLE"
ROW_TABLE_TYPES = frozenset({BASE_TABLE, "SYSTEM VERSIONED"})
"""``TABLE_TYPE`` values that hold rows of their own (views and sequences do not)."""


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One column as ``information_schema.COLUMNS`` describes it."""

    name: str
    column_type: str
    """``COLUMN_TYPE``: the full type, e.g. ``decimal(65,30)``, ``enum('a','b')``."""
    charset: str | None
    collation: str | None
    generated: bool
    """A VIRTUAL or STORED generated column: MariaDB computes it, replay cannot write it."""


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One table: kind, columns in table order, primary key in key order."""

    db: str
    name: str
    table_type: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        """``db.table``, as :class:`~mdbc_py.log.model.RowChange` names tables."""
        return f"{self.db}.{self.name}"

    @property
    def image_columns(self) -> tuple[ColumnInfo, ...]:
        """The columns a row image carries: every column that is not generated."""
        return tuple(c for c in self.columns if not c.generated)

    @property
    def has_rows(self) -> bool:
        """True for tables with rows of their own; views and sequences are skipped."""
        return self.table_type in ROW_TABLE_TYPES


def read_tables(cur: Cursor, db: str, table: str | None = None) -> dict[str, TableInfo]:
    """Every table of ``db`` (or just ``table``), by exact name.

    Three queries whatever the number of tables, so that installing a whole
    database stays cheap.
    """
    where = "TABLE_SCHEMA = %s"
    params: tuple[str, ...] = (db,)
    if table is not None:
        where += " AND TABLE_NAME = %s"
        params = (db, table)

    cur.execute(
        f"SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE {where}",
        params,
    )
    kinds = {
        name: kind for schema, name, kind in cur.fetchall() if _wanted(schema, name, db, table)
    }

    cur.execute(
        "SELECT TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, "
        "CHARACTER_SET_NAME, COLLATION_NAME, IS_GENERATED "
        f"FROM information_schema.COLUMNS WHERE {where}",
        params,
    )
    columns: dict[str, list[tuple[int, ColumnInfo]]] = {}
    for schema, name, pos, col, ctype, charset, collation, generated in cur.fetchall():
        if _wanted(schema, name, db, table):
            info = ColumnInfo(col, ctype, charset, collation, generated == "ALWAYS")
            columns.setdefault(name, []).append((int(pos), info))

    cur.execute(
        "SELECT TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX, COLUMN_NAME "
        f"FROM information_schema.STATISTICS WHERE {where} AND INDEX_NAME = 'PRIMARY'",
        params,
    )
    keys: dict[str, list[tuple[int, str]]] = {}
    for schema, name, seq, col in cur.fetchall():
        if _wanted(schema, name, db, table):
            keys.setdefault(name, []).append((int(seq), col))

    return {
        name: TableInfo(
            db=db,
            name=name,
            table_type=kind,
            columns=tuple(c for _, c in sorted(columns.get(name, []), key=lambda p: p[0])),
            primary_key=tuple(c for _, c in sorted(keys.get(name, []))),
        )
        for name, kind in kinds.items()
    }


def _wanted(schema: str, name: str, db: str, table: str | None) -> bool:
    return schema == db and (table is None or name == table)


def check_capturable(tables: Iterable[TableInfo]) -> None:
    """Raise if any of ``tables`` cannot be captured exactly; check them all first.

    Missing primary keys are reported together (:class:`NoPrimaryKeyError`),
    since that is the one problem a whole schema typically has several of;
    any other problem raises :class:`UnsupportedTableError` naming every
    table concerned.
    """
    tables = list(tables)
    no_pk = [t.qualified_name for t in tables if not t.primary_key]
    if no_pk:
        raise NoPrimaryKeyError(no_pk)
    problems = [p for t in tables for p in table_problems(t)]
    if problems:
        raise UnsupportedTableError("; ".join(problems))


def table_problems(table: TableInfo) -> list[str]:
    """Why ``table`` cannot be captured (empty when it can), each naming the table."""
    where = table.qualified_name
    out: list[str] = []
    if is_internal_table(table.name):
        out.append(f"{where}: tables named {RESERVED_PREFIX}* belong to mdbc and are not captured")
    if table.table_type == "SYSTEM VERSIONED":
        out.append(
            f"{where}: system-versioned tables are not supported (replicas would write "
            "their own history); remove versioning or leave the table out of the range"
        )
    elif table.table_type not in ROW_TABLE_TYPES:
        out.append(f"{where}: a {table.table_type} has no rows of its own to capture")
    for col in table.columns:
        if col.name.lower().startswith(RESERVED_PREFIX):
            out.append(
                f"{where}: column {col.name!r} uses the prefix {RESERVED_PREFIX!r} reserved "
                "for the capture's own columns; rename the column"
            )
    by_name = {c.name.lower(): c for c in table.columns}
    for key in table.primary_key:
        col = by_name.get(key.lower())
        if col is None or col.generated:
            out.append(f"{where}: primary key column {key!r} is generated or missing")
    if len(table.name) > MAX_IDENT:
        out.append(f"{where}: the name is longer than {MAX_IDENT} characters")
    return out
