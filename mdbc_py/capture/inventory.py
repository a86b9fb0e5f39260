"""What capture objects a database holds, and how many staged rows wait in them.

Read by installs (to decide what to create, replace or drop) and by
``out_of_band`` (to count rows nobody collected). Shadows are recognised by
their comment, triggers by their ``mdbc_`` name.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from pymysql.cursors import Cursor

from mdbc_py.capture import sqlgen
from mdbc_py.capture.naming import RESERVED_PREFIX, escape_percent, qualified, quote_ident

__all__ = ["Inventory", "TriggerInfo", "read_inventory", "shadow_tables", "staged_counts"]


@dataclass(slots=True)
class TriggerInfo:
    """A capture trigger as ``information_schema.TRIGGERS`` describes it."""

    table: str
    event: str
    timing: str
    body: str


@dataclass(slots=True)
class Inventory:
    """The capture objects of one database as they are now (kept current while changing)."""

    db: str
    tables: dict[str, str] = field(default_factory=dict)
    """Every table name -> its comment."""
    shadows: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Shadow name -> (stamp, captured table name)."""
    triggers: dict[str, TriggerInfo] = field(default_factory=dict)
    """Every trigger named ``mdbc_*``."""


def read_inventory(cur: Cursor, db: str) -> Inventory:
    """Every table (with its comment), capture shadow and capture trigger of ``db``."""
    state = Inventory(db)
    cur.execute(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s",
        (db,),
    )
    for schema, name, comment in cur.fetchall():
        if schema != db:
            continue
        state.tables[name] = comment
        parsed = sqlgen.parse_shadow_comment(comment)
        if parsed is not None and name.startswith(RESERVED_PREFIX):
            state.shadows[name] = parsed
    cur.execute(
        "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, EVENT_MANIPULATION, "
        "ACTION_TIMING, ACTION_STATEMENT FROM information_schema.TRIGGERS "
        # EVENT_OBJECT_SCHEMA lets MariaDB open one database; filtering on
        # TRIGGER_SCHEMA alone scans them all (about 1 s with ~100 databases).
        "WHERE EVENT_OBJECT_SCHEMA = %s",
        (db,),
    )
    for schema, name, table, event, timing, body in cur.fetchall():
        if schema == db and name.startswith(RESERVED_PREFIX):
            state.triggers[name] = TriggerInfo(table, event, timing, body)
    return state


def staged_counts(
    cur: Cursor, db: str, shadows: dict[str, str], exclude_conns: Collection[int] = ()
) -> dict[str, int]:
    """Committed rows in each of ``shadows`` (shadow -> table), by table; one query.

    Rows staged by the connection ids in ``exclude_conns`` are not counted.
    Tables without rows are left out. Uncommitted rows of other sessions are
    invisible, so this counts exactly the rows that were committed without
    being collected (as of the caller's snapshot).
    """
    if not shadows:
        return {}
    items = sorted(shadows.items())
    ids = sorted({int(i) for i in exclude_conns})
    where = ""
    if ids:
        marks = ", ".join(["%s"] * len(ids))
        where = f" WHERE {quote_ident(sqlgen.META_CONN)} NOT IN ({marks})"
    parts = [
        escape_percent(f"SELECT {i}, COUNT(*) FROM {qualified(db, shadow)}") + where
        for i, (shadow, _) in enumerate(items)
    ]
    cur.execute(" UNION ALL ".join(parts), tuple(ids * len(parts)))
    counts = {items[int(i)][1]: int(n) for i, n in cur.fetchall()}
    return {table: n for table, n in counts.items() if n}


def shadow_tables(cur: Cursor, db: str) -> dict[str, str]:
    """Every capture shadow of ``db``: shadow name -> captured table name (one query)."""
    cur.execute(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME LIKE 'mdbc%%'",
        (db,),
    )
    out = {}
    for schema, name, comment in cur.fetchall():
        parsed = sqlgen.parse_shadow_comment(comment)
        if schema == db and parsed is not None and name.startswith(RESERVED_PREFIX):
            out[name] = parsed[1]
    return out
