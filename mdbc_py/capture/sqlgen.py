"""The SQL of the capture: shadow tables, triggers, and the statements that read them.

Where things are: the triggers of ``db.t`` sit on the table (MariaDB keeps
triggers in the table's database); its shadow is ``mdbc_s_<t>`` in the stage
database ``mdbc_stage_<db>`` (see :func:`naming.stage_database`), so the
application's database lists only the application's tables. The triggers
run with their DEFINER's rights, so writers need no privilege on the stage
database; the statements that read and delete staged rows run as the
session's user.

Why a shadow table per captured table: a trigger that *encodes* a row
(``JSON_OBJECT``, ``CAST(... AS CHAR)``, ``HEX``) breaks on BIT, BLOB,
latin1 text and doubles. A column of the very same type, charset and
collation receives ``NEW.col`` unchanged, and reading it back through PyMySQL
gives exactly what a ``SELECT`` of the table gives. So nothing is converted
anywhere.

Shadow layout (the reader relies on it, see :func:`decode_layout`):

- ``mdbc_conn``: ``CONNECTION_ID()`` of the writer, so out-of-band writes can
  be told apart from the live driver connections;
- ``mdbc_seq``: the writer's running row number, which orders the rows of all
  tables of one connection. It starts at ``UNIX_TIMESTAMP() << 24`` when the
  session first stages a row (kept in ``@mdbc_base``), so a session never
  claims or collides with rows that an earlier session with the same
  connection id (before a server restart) left behind;
- ``mdbc_op``: ``I``, ``U`` or ``D``;
- ``mdbc_old_<n>``: the before-image of each primary-key column, in key
  order, for ``U`` and ``D``; ``n`` is the 1-based position of that column
  among the data columns, so the reader learns the key from the column names;
- then every non-generated column of the table, same name, same type, all
  NULLable. Generated columns are left out: replay cannot write them and the
  replica computes them itself.

The primary key is ``(mdbc_conn, mdbc_seq)``. The table is InnoDB, so staged
rows commit and roll back with the transaction that staged them. Its comment
records the table it shadows and a fingerprint of the layout, so an install
can tell whether the table changed since.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mdbc_py.capture.errors import CaptureStateError, UnsupportedTableError
from mdbc_py.capture.naming import (
    BASE_VAR,
    DIRTY_GEN_VAR,
    DIRTY_VAR,
    DONE_VAR,
    GEN_VAR,
    REPLAY_VAR,
    SEQ_VAR,
    Event,
    dirty_token,
    escape_percent,
    qualified,
    quote_ident,
    shadow_name,
    stage_database,
    trigger_name,
)
from mdbc_py.capture.schema import ColumnInfo, TableInfo

__all__ = [
    "COMMENT_PREFIX",
    "KEY_LIST_SQL",
    "LAYOUT_VERSION",
    "MARKER_SQL",
    "META_COLUMNS",
    "TRIGGER_SQL_MODE",
    "CapturePlan",
    "Layout",
    "create_shadow_sql",
    "create_stage_sql",
    "create_trigger_sql",
    "decode_layout",
    "delete_staged_param",
    "delete_staged_sql",
    "key_list_param",
    "parse_shadow_comment",
    "plan",
    "select_staged_sql",
    "shadow_comment",
    "shadow_table",
    "stamp",
]

META_CONN = "mdbc_conn"
META_SEQ = "mdbc_seq"
META_OP = "mdbc_op"
META_COLUMNS = (META_CONN, META_SEQ, META_OP)
OLD_PREFIX = "mdbc_old_"

LAYOUT_VERSION = 1
"""Bumped whenever the shadow layout or the trigger logic changes meaning."""

COMMENT_PREFIX = "mdbc-capture"

TRIGGER_SQL_MODE = "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION"
"""The ``sql_mode`` triggers are created with (a trigger keeps it for life).

Strict, so a value that could not be copied exactly fails the write instead
of staging a truncated image; no ``NO_ZERO_DATE``, so rows the table
accepted (zero dates) are accepted by the shadow too.
"""

_CHARSET_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True, slots=True)
class CapturePlan:
    """Everything to create for one table, derived from its definition only."""

    table: TableInfo
    stage: str
    """The stage database that holds the shadow (``naming.stage_database(table.db)``)."""
    shadow: str
    columns_sql: str
    """The parenthesised column and key list of the shadow's CREATE TABLE."""
    fingerprint: str
    triggers: dict[str, Event]
    """Trigger name -> event, for the three triggers of the table."""

    def trigger_body(self, event: Event) -> str:
        """The body of the trigger for ``event`` (compared verbatim on re-install)."""
        return _trigger_body(self.table, self.stage, self.shadow, event)


def _charset(name: str | None) -> str:
    if name is None:
        return ""
    if not _CHARSET_NAME.match(name):
        raise UnsupportedTableError(f"unexpected character set or collation name {name!r}")
    return name


def column_definition(name: str, col: ColumnInfo) -> str:
    """One NULLable shadow column with ``col``'s exact type, charset and collation."""
    sql = f"{quote_ident(name)} {col.column_type}"
    if col.charset is not None:
        sql += f" CHARACTER SET {_charset(col.charset)}"
    if col.collation is not None:
        sql += f" COLLATE {_charset(col.collation)}"
    return sql + " NULL DEFAULT NULL"


def key_columns(table: TableInfo) -> list[tuple[str, ColumnInfo]]:
    """``(shadow column name, column)`` of the before-image key columns, in key order."""
    image = table.image_columns
    position = {c.name.lower(): i for i, c in enumerate(image, start=1)}
    out = []
    for key in table.primary_key:
        n = position.get(key.lower())
        if n is None:
            raise UnsupportedTableError(
                f"{table.qualified_name}: primary key column {key!r} is generated or missing"
            )
        out.append((f"{OLD_PREFIX}{n}", image[n - 1]))
    return out


def plan(table: TableInfo) -> CapturePlan:
    """The shadow and triggers of ``table`` (checked with ``schema.check_capturable``)."""
    defs = [
        f"{quote_ident(META_CONN)} BIGINT UNSIGNED NOT NULL",
        f"{quote_ident(META_SEQ)} BIGINT UNSIGNED NOT NULL",
        f"{quote_ident(META_OP)} CHAR(1) CHARACTER SET ascii COLLATE ascii_bin NOT NULL",
    ]
    defs += [column_definition(name, col) for name, col in key_columns(table)]
    defs += [column_definition(col.name, col) for col in table.image_columns]
    defs.append(f"PRIMARY KEY ({quote_ident(META_CONN)}, {quote_ident(META_SEQ)})")
    columns_sql = "(\n  " + ",\n  ".join(defs) + "\n)"
    digest = hashlib.sha256(f"{LAYOUT_VERSION}\n{columns_sql}".encode()).hexdigest()[:16]
    return CapturePlan(
        table=table,
        stage=stage_database(table.db),
        shadow=shadow_name(table.name),
        columns_sql=columns_sql,
        fingerprint=digest,
        triggers={trigger_name(event, table.name): event for event in Event},
    )


def shadow_comment(p: CapturePlan) -> str:
    """The shadow's table comment: marker, layout version, fingerprint, table name."""
    return f"{COMMENT_PREFIX} {LAYOUT_VERSION} {p.fingerprint} {p.table.name}"


def parse_shadow_comment(comment: str | None) -> tuple[str, str] | None:
    """``(stamp, table)`` of a shadow's comment, or None if it is not a shadow's.

    The stamp is compared with :func:`stamp` to tell whether the shadow is up
    to date.
    """
    if not comment or not comment.startswith(COMMENT_PREFIX + " "):
        return None
    parts = comment.split(" ", 3)
    if len(parts) != 4 or not parts[3]:
        return None
    return f"{parts[1]}:{parts[2]}", parts[3]


def stamp(p: CapturePlan) -> str:
    """The stamp :func:`parse_shadow_comment` returns for an up-to-date shadow."""
    return f"{LAYOUT_VERSION}:{p.fingerprint}"


def shadow_table(db: str, table: str) -> str:
    """The qualified name (```stage`.`shadow```) of the shadow of ``db.table``."""
    return qualified(stage_database(db), shadow_name(table))


def create_stage_sql(db: str, charset: str, collation: str) -> str:
    """``CREATE DATABASE IF NOT EXISTS`` of the stage database of ``db``.

    It gets the application database's defaults; they matter little, since
    every shadow column names its own character set and collation.
    """
    return (
        f"CREATE DATABASE IF NOT EXISTS {quote_ident(stage_database(db))} "
        f"CHARACTER SET {_charset(charset)} COLLATE {_charset(collation)}"
    )


def create_shadow_sql(p: CapturePlan, *, replace: bool = False) -> str:
    """CREATE statement of the shadow (in the stage database); the comment is its parameter."""
    verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
    sql = f"{verb} {qualified(p.stage, p.shadow)} {p.columns_sql} ENGINE=InnoDB"
    return escape_percent(sql) + " COMMENT = %s"


def create_trigger_sql(p: CapturePlan, name: str, precedes: str | None = None) -> str:
    """``CREATE OR REPLACE TRIGGER`` of the trigger ``name`` of the plan.

    ``precedes`` names the application's first ``AFTER`` trigger of the same
    event: the capture trigger must fire before it, so that the rows that
    trigger writes are staged after the row that fired it.
    """
    event = p.triggers[name]
    order = f"PRECEDES {quote_ident(precedes)} " if precedes else ""
    return (
        f"CREATE OR REPLACE TRIGGER {qualified(p.table.db, name)} AFTER {event.name} "
        f"ON {qualified(p.table.db, p.table.name)} FOR EACH ROW {order}{p.trigger_body(event)}"
    )


def _trigger_body(table: TableInfo, stage: str, shadow: str, event: Event) -> str:
    image = "OLD" if event is Event.DELETE else "NEW"
    cols = [quote_ident(c) for c in META_COLUMNS]
    vals = ["CONNECTION_ID()", SEQ_VAR, f"'{event.value}'"]
    if event is not Event.INSERT:
        for name, col in key_columns(table):
            cols.append(quote_ident(name))
            vals.append(f"OLD.{quote_ident(col.name)}")
    for col in table.image_columns:
        cols.append(quote_ident(col.name))
        vals.append(f"{image}.{quote_ident(col.name)}")
    token = "X'" + dirty_token(table.db, table.name).hex().upper() + "'"
    return (
        "BEGIN\n"
        f"  IF {REPLAY_VAR} IS NULL THEN\n"
        f"    IF {BASE_VAR} IS NULL THEN\n"
        f"      SET {BASE_VAR} = UNIX_TIMESTAMP() << 24;\n"
        f"      SET {SEQ_VAR} = {BASE_VAR};\n"
        "    END IF;\n"
        f"    IF IFNULL({DIRTY_GEN_VAR}, -1) <> IFNULL({GEN_VAR}, 0) THEN\n"
        f"      SET {DIRTY_GEN_VAR} = CAST(IFNULL({GEN_VAR}, 0) AS SIGNED);\n"
        f"      SET {DONE_VAR} = {SEQ_VAR};\n"
        f"      SET {DIRTY_VAR} = {token};\n"
        f"    ELSEIF {DIRTY_VAR} IS NULL OR LOCATE({token}, {DIRTY_VAR}) = 0 THEN\n"
        f"      SET {DIRTY_VAR} = CONCAT(IFNULL({DIRTY_VAR}, X''), {token});\n"
        "    END IF;\n"
        f"    SET {SEQ_VAR} = {SEQ_VAR} + 1;\n"
        f"    INSERT INTO {qualified(stage, shadow)}\n"
        f"      ({', '.join(cols)})\n"
        f"      VALUES ({', '.join(vals)});\n"
        "  END IF;\n"
        "END"
    )


MARKER_SQL = (
    f"SELECT {DIRTY_VAR}, {DIRTY_GEN_VAR}, {GEN_VAR} := CAST(IFNULL({GEN_VAR}, 0) + 1 AS SIGNED)"
)
"""First statement of a collect: the dirty marker, and the start of a new generation.

The marker holds the tables staged into during generation ``@mdbc_dirty_gen``;
it is current only if that is the generation this statement ends (the
returned ``@mdbc_gen`` minus one). The first row a trigger stages in a new
generation starts a new marker and records in ``@mdbc_done`` that every row
staged before was collected. So no statement is needed to reset the marker
after a collect, and the three values read here do not depend on the order
in which MariaDB evaluates them (only ``@mdbc_gen`` is both read and set).

A collect that fails half-way leaves its transaction to be rolled back,
which removes the rows it did not read; rows that were committed anyway stay
in the shadow and are reported by ``out_of_band``.
"""


def select_staged_sql(db: str, shadow: str) -> str:
    """Read this session's staged rows of one shadow (a plain, non-locking read).

    ``db`` is the captured table's database; the shadow is read from its
    stage database.

    Rows up to ``@mdbc_done`` were collected already: starting the key range
    after them skips the deleted rows InnoDB has not purged yet, and the rows
    an earlier session with the same connection id may have left.

    The rows come back with the shadow's column metadata, so PyMySQL converts
    them exactly as it converts a ``SELECT`` of the captured table.
    """
    return (
        f"SELECT * FROM {qualified(stage_database(db), shadow)} "
        f"WHERE {quote_ident(META_CONN)} = CONNECTION_ID() AND {quote_ident(META_SEQ)} > {DONE_VAR}"
    )


def delete_staged_sql(db: str, shadow: str, count: int) -> str:
    """Delete ``count`` staged rows of this session by exact key; one parameter.

    ``db`` is the captured table's database; the rows are deleted from the
    shadow in its stage database.

    For one row the parameter is its ``mdbc_seq``; for several, a JSON array
    of their ``mdbc_seq`` values as strings (JSON numbers above 2**53 may
    pass through a double). See :func:`delete_staged_param`.

    Why not ``DELETE ... WHERE mdbc_seq > @mdbc_done`` (or ``IN (...)``, or
    ``RETURNING``): in REPEATABLE READ a range scan takes next-key locks,
    which lock the gap in front of this session's first row and the row
    after its last one. Another session's next staged row lands exactly in
    such a gap, so its write would wait for this transaction's commit (and
    on a small shadow the optimizer scans, locking every row). A lookup of
    the whole primary key (``const``, or ``eq_ref`` in a join driven by the
    key list) locks the found rows only.
    """
    target = escape_percent(qualified(stage_database(db), shadow))
    conn = quote_ident(META_CONN)
    seq = quote_ident(META_SEQ)
    if count == 1:
        return f"DELETE FROM {target} WHERE {conn} = CONNECTION_ID() AND {seq} = %s"
    return (
        f"DELETE staged FROM {KEY_LIST_SQL} STRAIGHT_JOIN {target} AS staged "
        f"ON staged.{conn} = CONNECTION_ID() AND staged.{seq} = keys_.seq"
    )


def delete_staged_param(seqs: list[int]) -> int | str:
    """The one parameter of :func:`delete_staged_sql` for the rows ``seqs``."""
    if len(seqs) == 1:
        return seqs[0]
    return key_list_param(seqs)


KEY_LIST_SQL = "JSON_TABLE(%s, '$[*]' COLUMNS (seq BIGINT UNSIGNED PATH '$')) AS keys_"
"""A table ``keys_(seq)`` of the keys in one parameter (:func:`key_list_param`).

A ``DELETE`` joined ``STRAIGHT_JOIN`` from it finds each row by its whole
primary key (``eq_ref``) and locks those rows only, where a range or
``IN (...)`` would also lock gaps (see :func:`delete_staged_sql`).
"""


def key_list_param(seqs: Iterable[int]) -> str:
    """The parameter of :data:`KEY_LIST_SQL`: the keys as a JSON array of strings.

    Strings, because JSON numbers above 2**53 may pass through a double.
    """
    return json.dumps([str(s) for s in seqs])


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things are in a row of a shadow, learnt from its column names alone.

    Reading the layout from the result's own column names means the commit
    path needs no ``information_schema`` query and no cache that a concurrent
    DDL could make stale.
    """

    data_start: int
    """Index of the first data column in a shadow row."""
    data_names: tuple[str, ...]
    key_names: tuple[str, ...]
    """Primary-key column names, in key order."""
    key_data_index: tuple[int, ...]
    """For each key column, its index in the row among the data columns (absolute)."""
    key_old_index: tuple[int, ...]
    """For each key column, the index in the row of its before-image."""


def decode_layout(names: tuple[str, ...]) -> Layout:
    """The :class:`Layout` of a shadow whose columns are ``names`` (in order)."""
    if tuple(names[: len(META_COLUMNS)]) != META_COLUMNS:
        raise CaptureStateError(f"not a capture shadow table layout: {names!r}")
    i = len(META_COLUMNS)
    positions: list[int] = []
    old_index: list[int] = []
    while i < len(names) and names[i].startswith(OLD_PREFIX):
        positions.append(int(names[i][len(OLD_PREFIX) :]))
        old_index.append(i)
        i += 1
    data_names = tuple(names[i:])
    if not positions or any(not 1 <= n <= len(data_names) for n in positions):
        raise CaptureStateError(f"capture shadow table has a bad key layout: {names!r}")
    return Layout(
        data_start=i,
        data_names=data_names,
        key_names=tuple(data_names[n - 1] for n in positions),
        key_data_index=tuple(i + n - 1 for n in positions),
        key_old_index=tuple(old_index),
    )
