"""Install, regenerate and remove the capture (shadow table + three triggers) of tables.

The triggers sit on the table; the shadow is created in the stage database
of the table's database (``mdbc_stage_<db>``, created on first use with the
database's default charset; see ``naming.stage_database``).

Installing is idempotent: an up-to-date table is left alone (its shadow's
stamp and the triggers' bodies are compared with what would be generated),
so it is safe to run after every DDL and at every start.

Moving out of the application database: older versions created the shadows
inside the table's own database. An install recreates the triggers to stage
into the stage database and then drops such a *legacy* shadow, but only if
it is empty; a legacy shadow holding rows (out-of-band writes) makes the
install refuse with :class:`StagedRowsError` before anything is changed.

Regenerating a shadow after a DDL is done under ``LOCK TABLES t WRITE,
stage.shadow WRITE``: the lock waits for every transaction that staged rows to
finish, keeps new writers out, and lets the check "the shadow is empty", the
``CREATE OR REPLACE TABLE`` and the ``CREATE OR REPLACE TRIGGER`` happen with
no write in between. A shadow that still holds staged rows (out-of-band
writes nobody collected) is never dropped: :class:`StagedRowsError`.

Every function here commits the caller's open transaction first, as any DDL
would, and restores the session's ``sql_mode`` and ``lock_wait_timeout``.

Rename and drop: triggers follow a table that is renamed, so after ``RENAME
TABLE a TO b`` the triggers named for ``a`` sit on ``b`` and would stage
``b``'s rows as ``a``'s. :func:`install_table` and :func:`remove_table` drop
such misplaced triggers; the driver should call ``remove_table(a)`` and
``install_table(b)`` after a rename.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py.capture import sqlgen
from mdbc_py.capture.app_triggers import guard_triggers
from mdbc_py.capture.errors import StagedRowsError, UnsupportedTableError
from mdbc_py.capture.inventory import (
    Inventory,
    ShadowKey,
    TriggerInfo,
    read_inventory,
    staged_counts,
)
from mdbc_py.capture.naming import (
    Event,
    is_internal_table,
    qualified,
    quote_ident,
    shadow_name,
    trigger_name,
)
from mdbc_py.capture.schema import ROW_TABLE_TYPES, check_capturable, read_tables

__all__ = [
    "captured_tables",
    "install_database",
    "install_table",
    "remove_table",
    "uninstall_database",
]

LOCK_WAIT_SECONDS = 60
"""How long an install waits for writers of the table to finish before it fails."""


@contextmanager
def _install_session(conn: Connection) -> Iterator[Cursor]:
    """A cursor whose session has the triggers' sql_mode and a bounded lock wait."""
    conn.commit()
    with conn.cursor(Cursor) as cur:
        cur.execute("SELECT @@SESSION.sql_mode, @@SESSION.lock_wait_timeout")
        row = cur.fetchone()
        assert row is not None
        mode, wait = row
        cur.execute(
            "SET SESSION sql_mode = %s, SESSION lock_wait_timeout = %s",
            (sqlgen.TRIGGER_SQL_MODE, LOCK_WAIT_SECONDS),
        )
        restore = "SET SESSION sql_mode = %s, SESSION lock_wait_timeout = %s"
        try:
            yield cur
        except BaseException:
            with suppress(pymysql.err.Error):  # keep the original error, not this one
                cur.execute(restore, (mode, wait))
            raise
        cur.execute(restore, (mode, wait))


@contextmanager
def _locked(cur: Cursor, names: list[ShadowKey]) -> Iterator[None]:
    """``LOCK TABLES`` the given ``(schema, table)`` for write, for the duration of the block."""
    if not names:
        yield
        return
    cur.execute("LOCK TABLES " + ", ".join(f"{qualified(*n)} WRITE" for n in names))
    try:
        yield
    finally:
        cur.execute("UNLOCK TABLES")


def _count(cur: Cursor, schema: str, table: str) -> int:
    cur.execute(f"SELECT COUNT(*) FROM {qualified(schema, table)}")
    row = cur.fetchone()
    return int(row[0]) if row else 0


def _check_shadow_owner(state: Inventory, p: sqlgen.CapturePlan) -> None:
    if p.shadow in state.stage_tables and state.shadows.get(p.shadow, ("", ""))[1] != p.table.name:
        raise UnsupportedTableError(
            f"cannot capture {p.table.qualified_name}: {p.stage}.{p.shadow} exists and is "
            "not its capture table; rename or drop that table"
        )


def _ensure_stage(cur: Cursor, state: Inventory) -> None:
    """Create the stage database if it does not exist, with the database's defaults."""
    if state.stage_ready:
        return
    cur.execute(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
        "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        (state.db,),
    )
    row = cur.fetchone()
    charset, collation = row if row else ("utf8mb4", "utf8mb4_general_ci")
    cur.execute(sqlgen.create_stage_sql(state.db, charset, collation))
    state.stage_ready = True


def _legacy_of(state: Inventory, table: str) -> str | None:
    """The legacy shadow (inside the app database) of ``table``, if there is one."""
    shadow = shadow_name(table)
    return shadow if state.legacy.get(shadow, ("", ""))[1] == table else None


def _refuse_legacy_rows(cur: Cursor, state: Inventory, tables: list[str]) -> None:
    """Raise if a legacy shadow of one of ``tables`` holds rows (nothing is changed then)."""
    legacy = {(state.db, s): t for t in tables if (s := _legacy_of(state, t)) is not None}
    blocked = staged_counts(cur, legacy)
    if blocked:
        raise StagedRowsError(
            f"cannot move the capture of {state.db} to {state.stage}: the old shadow tables "
            f"inside {state.db} hold staged rows that no commit claimed (out-of-band writes) "
            f"for {_list(blocked)}; resolve them first (nothing was changed)"
        )


def _drop_legacy(cur: Cursor, state: Inventory, table: str) -> None:
    """Drop the legacy shadow of ``table`` if it is empty (its triggers point elsewhere now)."""
    shadow = _legacy_of(state, table)
    if shadow is None:
        return
    with _locked(cur, [(state.db, shadow)]):
        n = _count(cur, state.db, shadow)
        if n:
            raise StagedRowsError(
                f"the capture of {state.db}.{table} now stages into {state.stage}, but "
                f"{state.db}.{shadow} (its old shadow) received {n} staged row(s) meanwhile "
                "that no commit claimed (out-of-band writes); resolve them and install again"
            )
        cur.execute(f"DROP TABLE {qualified(state.db, shadow)}")
    state.tables.pop(shadow, None)
    state.legacy.pop(shadow, None)


def _drop_trigger(cur: Cursor, state: Inventory, name: str) -> None:
    cur.execute(f"DROP TRIGGER IF EXISTS {qualified(state.db, name)}")
    state.triggers.pop(name, None)


def _trigger_current(state: Inventory, p: sqlgen.CapturePlan, name: str) -> bool:
    trg = state.triggers.get(name)
    event = p.triggers[name]
    return (
        trg is not None
        and trg.table == p.table.name
        and trg.timing == "AFTER"
        and trg.event == event.name
        and trg.body == p.trigger_body(event)
    )


def _create_trigger_sql(state: Inventory, p: sqlgen.CapturePlan, name: str) -> str:
    """The capture trigger ``name``, placed before the application's own of its event."""
    first = state.first_app_after.get((p.table.name, p.triggers[name].name))
    return sqlgen.create_trigger_sql(p, name, precedes=first)


def _install(cur: Cursor, state: Inventory, p: sqlgen.CapturePlan) -> None:
    """Bring the capture of one table up to date (the table is known to be capturable).

    Callers check beforehand (:func:`_refuse_legacy_rows`) that a legacy
    shadow of the table is empty; it is dropped once the triggers stage into
    the stage database.
    """
    db, table = state.db, p.table.name
    _check_shadow_owner(state, p)
    # Triggers named for this table but sitting on another (after a rename), and
    # capture triggers on this table with names of another: both stage wrongly.
    for name, trg in list(state.triggers.items()):
        misplaced = name in p.triggers and trg.table != table
        stale = trg.table == table and name not in p.triggers
        if misplaced or stale:
            _drop_trigger(cur, state, name)

    comment = sqlgen.shadow_comment(p)
    if p.shadow not in state.stage_tables:
        _ensure_stage(cur, state)
        cur.execute(sqlgen.create_shadow_sql(p), (comment,))
        to_create = list(p.triggers)
    elif state.shadows[p.shadow][0] != sqlgen.stamp(p):
        with _locked(cur, [(db, table), (p.stage, p.shadow)]):
            n = _count(cur, p.stage, p.shadow)
            if n:
                raise StagedRowsError(
                    f"cannot regenerate the capture of {p.table.qualified_name}: "
                    f"{p.stage}.{p.shadow} holds {n} staged row(s) that no commit claimed "
                    "(out-of-band writes); resolve them first"
                )
            cur.execute(sqlgen.create_shadow_sql(p, replace=True), (comment,))
            for name in p.triggers:
                cur.execute(_create_trigger_sql(state, p, name))
        to_create = []
    else:
        to_create = [name for name in p.triggers if not _trigger_current(state, p, name)]
    for name in to_create:
        cur.execute(_create_trigger_sql(state, p, name))

    state.stage_tables[p.shadow] = comment
    state.shadows[p.shadow] = (sqlgen.stamp(p), table)
    for name, event in p.triggers.items():
        state.triggers[name] = TriggerInfo(table, event.name, "AFTER", p.trigger_body(event))
    _drop_legacy(cur, state, table)


def install_table(conn: Connection, database: str, table: str) -> None:
    """Capture ``database.table``: create or regenerate its shadow and triggers.

    Tables named ``mdbc_*``, views and sequences are left alone (nothing to
    capture). Raises :class:`NoPrimaryKeyError` or
    :class:`UnsupportedTableError` for a table that cannot be captured
    exactly, and :class:`StagedRowsError` if a changed table's shadow (or
    its legacy shadow inside ``database``) still holds staged rows; nothing
    is changed then.
    """
    if is_internal_table(table):
        return
    with _install_session(conn) as cur:
        info = read_tables(cur, database, table).get(table)
        if info is None:
            raise UnsupportedTableError(f"cannot capture {database}.{table}: no such table")
        if info.table_type not in ROW_TABLE_TYPES:
            return
        check_capturable([info])
        state = read_inventory(cur, database)
        _refuse_legacy_rows(cur, state, [table])
        _install(cur, state, sqlgen.plan(info))
        guard_triggers(cur, database, table)


def install_database(conn: Connection, database: str) -> list[str]:
    """Capture every table of ``database``; return the captured table names, sorted.

    Every table is checked before anything is installed: if any lacks a
    primary key, :class:`NoPrimaryKeyError` lists them all and nothing is
    installed; likewise for other problems, for changed tables whose shadow
    holds staged rows, and for legacy shadows (inside ``database``, from an
    older mdbc) that hold rows. Empty legacy shadows are dropped once the
    triggers stage into the stage database. Shadows left behind by dropped
    tables are removed when empty (kept otherwise: they hold out-of-band
    writes).
    """
    with _install_session(conn) as cur:
        infos = read_tables(cur, database)
        targets = sorted(
            (i for i in infos.values() if i.has_rows and not is_internal_table(i.name)),
            key=lambda i: i.name,
        )
        check_capturable(targets)
        plans = [sqlgen.plan(info) for info in targets]
        state = read_inventory(cur, database)
        for p in plans:
            _check_shadow_owner(state, p)
        changed: dict[ShadowKey, str] = {
            (p.stage, p.shadow): p.table.name
            for p in plans
            if p.shadow in state.shadows and state.shadows[p.shadow][0] != sqlgen.stamp(p)
        }
        _refuse_legacy_rows(cur, state, sorted({table for _, table in state.legacy.values()}))
        blocked = staged_counts(cur, changed)
        if blocked:
            raise StagedRowsError(
                f"cannot regenerate the capture of {database}: staged rows that no commit "
                f"claimed (out-of-band writes) wait in the shadows of {_list(blocked)}; "
                "resolve them first (nothing was changed)"
            )
        for p in plans:
            _install(cur, state, p)
        guard_triggers(cur, database)
        known = [*state.shadows.values(), *state.legacy.values()]
        orphans = sorted({table for _, table in known if table not in infos})
        for table in orphans:
            # Out-of-band rows of a dropped table stay: out_of_band() reports them.
            with suppress(StagedRowsError):
                _remove(cur, state, table, force=False)
        for shadow, (_, table) in list(state.legacy.items()):
            # Legacy shadows of tables not captured now (their triggers are gone).
            if shadow == shadow_name(table) and table in infos:
                _drop_legacy(cur, state, table)
    return [info.name for info in targets]


def _remove(cur: Cursor, state: Inventory, table: str, *, force: bool) -> None:
    db = state.db
    names = {trigger_name(event, table) for event in Event}
    for name in names:
        trg = state.triggers.get(name)
        if trg is not None and trg.table != table:
            _drop_trigger(cur, state, name)  # misplaced: follows a renamed table
    on_table = sorted(name for name, trg in state.triggers.items() if trg.table == table)
    shadow = shadow_name(table)
    shadows: list[ShadowKey] = []
    if state.shadows.get(shadow, ("", ""))[1] == table:
        shadows.append((state.stage, shadow))
    if _legacy_of(state, table) is not None:
        shadows.append((db, shadow))
    locks = ([(db, table)] if on_table and table in state.tables else []) + shadows
    with _locked(cur, locks):
        if not force:
            for schema, name in shadows:
                n = _count(cur, schema, name)
                if n:
                    raise StagedRowsError(
                        f"cannot remove the capture of {db}.{table}: {schema}.{name} holds "
                        f"{n} staged row(s) that no commit claimed (out-of-band writes); "
                        "resolve them first, or remove with force=True to discard them"
                    )
        for name in on_table:
            _drop_trigger(cur, state, name)
        for schema, name in shadows:
            cur.execute(f"DROP TABLE {qualified(schema, name)}")
            if schema == state.stage:
                state.stage_tables.pop(name, None)
                state.shadows.pop(name, None)
            else:
                state.tables.pop(name, None)
                state.legacy.pop(name, None)


def remove_table(conn: Connection, database: str, table: str, *, force: bool = False) -> None:
    """Stop capturing ``database.table``: drop its triggers and its shadow.

    Works also when the table no longer exists (after ``DROP TABLE``, whose
    triggers went with it) or was renamed. A shadow holding staged rows is
    kept, and :class:`StagedRowsError` raised, unless ``force`` is true.
    """
    with _install_session(conn) as cur:
        _remove(cur, read_inventory(cur, database), table, force=force)


def uninstall_database(conn: Connection, database: str, *, force: bool = False) -> None:
    """Remove every capture trigger and shadow table of ``database``, and its stage database.

    Refuses (and changes nothing) if any shadow holds staged rows, unless
    ``force`` is true. The stage database is dropped once it holds no table
    (tables someone else put there are left alone). Also works after ``DROP
    DATABASE database``, to drop the stage database it left behind.
    """
    with _install_session(conn) as cur:
        state = read_inventory(cur, database)
        shadows: dict[ShadowKey, str] = {
            (state.stage, shadow): table for shadow, (_, table) in state.shadows.items()
        }
        shadows.update({(database, shadow): table for shadow, (_, table) in state.legacy.items()})
        if not force:
            blocked = staged_counts(cur, shadows)
            if blocked:
                raise StagedRowsError(
                    f"cannot remove the capture of {database}: staged rows that no commit "
                    f"claimed (out-of-band writes) wait in the shadows of {_list(blocked)}; "
                    "resolve them first, or uninstall with force=True (nothing was changed)"
                )
        tables = set(shadows.values()) | {trg.table for trg in state.triggers.values()}
        for table in sorted(tables):
            _remove(cur, state, table, force=force)
        if not state.stage_tables:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(state.stage)}")


def captured_tables(conn: Connection, database: str) -> list[str]:
    """Tables of ``database`` whose shadow and three triggers are in place, sorted.

    In place means: the shadow is in the stage database and the triggers
    stage into it (triggers of an older mdbc that stage inside ``database``
    do not count until an install moved them).
    """
    with conn.cursor(Cursor) as cur:
        state = read_inventory(cur, database)
    out = []
    for shadow, (_, table) in state.shadows.items():
        if table not in state.tables or shadow != shadow_name(table):
            continue
        target = f"INSERT INTO {qualified(state.stage, shadow)}"
        names = [trigger_name(event, table) for event in Event]
        if all(
            n in state.triggers
            and state.triggers[n].table == table
            and target in state.triggers[n].body
            for n in names
        ):
            out.append(table)
    return sorted(out)


def _list(counts: dict[str, int]) -> str:
    return ", ".join(f"{quote_ident(t)} ({n})" for t, n in sorted(counts.items()))
