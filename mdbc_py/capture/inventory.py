"""What capture objects a database holds, and how many staged rows wait in them.

Read by installs (to decide what to create, replace or drop) and by
``out_of_band`` (to count rows nobody collected). Shadows are recognised by
their comment, triggers by their ``mdbc_`` name. The shadows of database
``db`` are in its stage database (``naming.stage_database(db)``); shadows
that an older version of mdbc created inside ``db`` itself are listed
apart as *legacy* shadows, so that an install can move them out and
``out_of_band`` still counts the rows they hold.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from pymysql.cursors import Cursor

from mdbc_py.capture import sqlgen
from mdbc_py.capture.naming import (
    RESERVED_PREFIX,
    escape_percent,
    qualified,
    quote_ident,
    stage_database,
)

__all__ = [
    "Inventory",
    "ShadowKey",
    "TriggerInfo",
    "read_inventory",
    "shadow_tables",
    "staged_counts",
]

ShadowKey = tuple[str, str]
"""``(schema, shadow table name)``: where one shadow is."""


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
    stage: str = ""
    """The stage database of ``db`` (it may not exist yet)."""
    tables: dict[str, str] = field(default_factory=dict)
    """Every table name of ``db`` -> its comment."""
    stage_tables: dict[str, str] = field(default_factory=dict)
    """Every table name of the stage database -> its comment."""
    shadows: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Shadow name (in the stage database) -> (stamp, captured table name)."""
    legacy: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Shadow name -> (stamp, table) of shadows an older mdbc left inside ``db`` itself."""
    triggers: dict[str, TriggerInfo] = field(default_factory=dict)
    """Every trigger named ``mdbc_*``."""
    first_app_after: dict[tuple[str, str], str] = field(default_factory=dict)
    """(table, event) -> the application's first ``AFTER`` trigger of that event, if any.

    A capture trigger is created to precede it, so rows are staged in the
    order the writes happened (see :mod:`mdbc_py.capture.app_triggers`)."""
    stage_ready: bool = False
    """True once the stage database is known to exist (it does if it holds a table)."""

    def __post_init__(self) -> None:
        if not self.stage:
            self.stage = stage_database(self.db)


_TABLES_SQL = (
    "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES "
    "WHERE TABLE_SCHEMA = %s"
)


def read_inventory(cur: Cursor, db: str) -> Inventory:
    """Every table (with its comment), capture shadow and capture trigger of ``db``.

    Two queries: the tables of ``db`` and of its stage database (one equality
    on ``TABLE_SCHEMA`` each, so MariaDB opens just those two databases), and
    the capture triggers.
    """
    state = Inventory(db)
    cur.execute(f"{_TABLES_SQL} UNION ALL {_TABLES_SQL}", (db, state.stage))
    for schema, name, comment in cur.fetchall():
        parsed = sqlgen.parse_shadow_comment(comment)
        shadow = parsed is not None and name.startswith(RESERVED_PREFIX)
        if schema == db:
            state.tables[name] = comment
            if shadow:
                assert parsed is not None
                state.legacy[name] = parsed
        elif schema == state.stage:
            state.stage_tables[name] = comment
            state.stage_ready = True
            if shadow:
                assert parsed is not None
                state.shadows[name] = parsed
    cur.execute(
        "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, EVENT_MANIPULATION, "
        "ACTION_TIMING, ACTION_STATEMENT, ACTION_ORDER FROM information_schema.TRIGGERS "
        # EVENT_OBJECT_SCHEMA lets MariaDB open one database; filtering on
        # TRIGGER_SCHEMA alone scans them all (about 1 s with ~100 databases).
        "WHERE EVENT_OBJECT_SCHEMA = %s",
        (db,),
    )
    first: dict[tuple[str, str], tuple[int, str]] = {}
    for schema, name, table, event, timing, body, order in cur.fetchall():
        if schema != db:
            continue
        if name.startswith(RESERVED_PREFIX):
            state.triggers[name] = TriggerInfo(table, event, timing, body)
        elif timing == "AFTER" and ((table, event) not in first or order < first[table, event][0]):
            first[table, event] = (int(order), name)
    state.first_app_after = {key: name for key, (_, name) in first.items()}
    return state


def staged_counts(
    cur: Cursor, shadows: Mapping[ShadowKey, str], exclude_conns: Collection[int] = ()
) -> dict[str, int]:
    """Committed rows in ``shadows`` (``(schema, shadow)`` -> table), summed by table; one query.

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
        escape_percent(f"SELECT {i}, COUNT(*) FROM {qualified(schema, shadow)}") + where
        for i, ((schema, shadow), _) in enumerate(items)
    ]
    cur.execute(" UNION ALL ".join(parts), tuple(ids * len(parts)))
    counts: dict[str, int] = {}
    for i, n in cur.fetchall():
        table = items[int(i)][1]
        counts[table] = counts.get(table, 0) + int(n)
    return {table: n for table, n in counts.items() if n}


def shadow_tables(cur: Cursor, db: str) -> dict[ShadowKey, str]:
    """Every capture shadow of ``db`` -> captured table name (one query).

    The shadows in its stage database, and legacy shadows still inside ``db``.
    """
    stage = stage_database(db)
    sql = f"{_TABLES_SQL} AND TABLE_NAME LIKE 'mdbc%%'"
    cur.execute(f"{sql} UNION ALL {sql}", (stage, db))
    out = {}
    for schema, name, comment in cur.fetchall():
        parsed = sqlgen.parse_shadow_comment(comment)
        if schema in (db, stage) and parsed is not None and name.startswith(RESERVED_PREFIX):
            out[(schema, name)] = parsed[1]
    return out
