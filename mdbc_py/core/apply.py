"""Apply log entries to a site's MariaDB: exactly once, in order, triggers silent.

One entry is applied in one local transaction together with its row in
``mdbc.applied`` (see ``positions``), so a crash at any point leaves either
all of it or none of it. Row changes are replayed as plain INSERT / UPDATE /
DELETE by primary key with foreign keys on, so ``ON DELETE CASCADE`` does at
the replica what it did at the owner (cascaded deletions fire no trigger and
are not in the log). The session sets ``@mdbc_replay`` so the capture
triggers do not stage the replayed rows again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py import capture
from mdbc_py.core import positions
from mdbc_py.log.model import Column, EntryPayload, Op, RowChange, Value
from mdbc_py.mysql_errors import DDL_ALREADY_DONE, TRANSIENT, errno
from mdbc_py.sql import classify
from mdbc_py.sql.index_ddl import changes_only_indexes

T = TypeVar("T")

log = logging.getLogger(__name__)

RETRIES = 5


def quote_ident(name: str) -> str:
    """Backquote an identifier, doubling embedded backquotes."""
    return "`" + name.replace("`", "``") + "`"


def quote_table(qualified: str) -> str:
    """``db.table`` as ``\\`db\\`.\\`table\\```; the split is at the first dot."""
    db, _, table = qualified.partition(".")
    return f"{quote_ident(db)}.{quote_ident(table)}"


def param_ident(name: str) -> str:
    """``quote_ident`` for SQL sent *with* parameters: PyMySQL %-formats it, so '%' doubles."""
    return quote_ident(name).replace("%", "%%")


def param_table(qualified: str) -> str:
    """``quote_table`` for SQL sent with parameters (see :func:`param_ident`)."""
    return quote_table(qualified).replace("%", "%%")


def sql_value(value: Value) -> Value:
    """Adapt a captured value for PyMySQL's escaping where it differs from a SELECT's type.

    A SET column comes back from SELECT as a Python set; as a parameter it must
    be the comma-separated string MariaDB expects.
    """
    if isinstance(value, set | frozenset):
        return ",".join(sorted(value))
    return value


def begin_replay(conn: Connection) -> None:
    """Prepare a session for replay: triggers silent, foreign keys on."""
    with conn.cursor(Cursor) as cur:
        cur.execute("SET @mdbc_replay = 1, SESSION foreign_key_checks = 1")


def _where(pk: Sequence[Column]) -> tuple[str, list[Value]]:
    clause = " AND ".join(f"{param_ident(c)} = %s" for c, _ in pk)
    return clause, [sql_value(v) for _, v in pk]


def apply_change(cur: Cursor, change: RowChange) -> None:
    """Replay one row change."""
    table = param_table(change.table)
    if change.op is Op.INSERT:
        assert change.row is not None
        cols = ", ".join(param_ident(c) for c, _ in change.row)
        marks = ", ".join(["%s"] * len(change.row))
        cur.execute(
            f"INSERT INTO {table} ({cols}) VALUES ({marks})",
            [sql_value(v) for _, v in change.row],
        )
    elif change.op is Op.UPDATE:
        assert change.row is not None
        sets = ", ".join(f"{param_ident(c)} = %s" for c, _ in change.row)
        where, keys = _where(change.pk)
        cur.execute(
            f"UPDATE {table} SET {sets} WHERE {where}",
            [sql_value(v) for _, v in change.row] + keys,
        )
    else:
        where, keys = _where(change.pk)
        cur.execute(f"DELETE FROM {table} WHERE {where}", keys)


def apply_entry(conn: Connection, seq: int, payload: EntryPayload) -> bool:
    """Apply one entry in its own transaction; False if it was already applied.

    The caller's session must have been prepared with ``begin_replay``.
    """
    if payload.ddl is not None:
        return _apply_ddl(conn, seq, payload)
    return _retrying_transient(lambda: _apply_rows(conn, seq, payload))


def apply_batch(
    conn: Connection, range_name: str, items: Sequence[tuple[int, EntryPayload]]
) -> int:
    """Apply consecutive row entries in one local transaction; return how many were new.

    Replay's fast path: one round of position checks and one COMMIT for the
    whole batch, and runs of INSERTs into one table sent as one multi-row
    INSERT. The batch is atomic, so exactly-once holds as for one entry.
    DDL entries are not allowed here (``apply_entry`` takes them).
    """
    if not items:
        return 0
    return _retrying_transient(lambda: _apply_batch(conn, range_name, items))


def _retrying_transient(apply: Callable[[], T]) -> T:
    """Run one apply transaction again after a deadlock or lock wait timeout.

    Two appliers at one site (the agent, and a promotion or a driver
    repairing its own commit) can deadlock on the applied row; the loser's
    transaction was rolled back, so it simply tries again and then finds
    the entry applied.
    """
    for attempt in range(RETRIES):
        try:
            return apply()
        except pymysql.err.OperationalError as exc:
            if errno(exc) not in TRANSIENT or attempt == RETRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _apply_batch(
    conn: Connection, range_name: str, items: Sequence[tuple[int, EntryPayload]]
) -> int:
    with conn.cursor(Cursor) as cur:
        cur.execute("START TRANSACTION")
        try:
            done = positions.applied_among(cur, range_name, items[0][0], items[-1][0])
            todo = [(seq, p) for seq, p in items if seq not in done]
            _apply_changes(cur, [c for _, p in todo for c in p.changes])
            positions.record_many(cur, range_name, [(seq, p.txid) for seq, p in todo])
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    return len(todo)


def _apply_changes(cur: Cursor, changes: Sequence[RowChange]) -> None:
    """Replay changes in order, sending each run of same-shape INSERTs as one statement."""
    i = 0
    while i < len(changes):
        change = changes[i]
        if change.op is not Op.INSERT or change.row is None:
            apply_change(cur, change)
            i += 1
            continue
        cols = tuple(c for c, _ in change.row)
        j = i + 1
        while (
            j < len(changes)
            and changes[j].op is Op.INSERT
            and changes[j].table == change.table
            and changes[j].row is not None
            and tuple(c for c, _ in changes[j].row or ()) == cols
        ):
            j += 1
        if j - i == 1:
            apply_change(cur, change)
        else:
            col_sql = ", ".join(param_ident(c) for c in cols)
            marks = ", ".join(["%s"] * len(cols))
            cur.executemany(
                f"INSERT INTO {param_table(change.table)} ({col_sql}) VALUES ({marks})",
                [[sql_value(v) for _, v in ch.row or ()] for ch in changes[i:j]],
            )
        i = j


def _apply_rows(conn: Connection, seq: int, payload: EntryPayload) -> bool:
    with conn.cursor(Cursor) as cur:
        cur.execute("START TRANSACTION")
        try:
            if positions.is_applied(cur, payload.range_name, seq):
                conn.rollback()
                return False
            for change in payload.changes:
                apply_change(cur, change)
            positions.record(cur, payload.range_name, seq, payload.txid)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    return True


def _apply_ddl(conn: Connection, seq: int, payload: EntryPayload) -> bool:
    """DDL commits implicitly: run it, then record it; tolerate a DDL that already ran."""
    assert payload.ddl is not None
    with conn.cursor(Cursor) as cur:
        if positions.is_applied(cur, payload.range_name, seq):
            conn.rollback()
            return False
        conn.rollback()
        if payload.ddl.database:
            cur.execute(f"USE {quote_ident(payload.ddl.database)}")
        try:
            cur.execute(payload.ddl.sql)
        except pymysql.err.MySQLError as exc:
            if errno(exc) in DDL_ALREADY_DONE:
                log.info(
                    "range %s entry %s: DDL already applied here (%s)",
                    payload.range_name,
                    seq,
                    exc.args[1],
                )
            else:
                raise
        cur.execute("START TRANSACTION")
        try:
            positions.record(cur, payload.range_name, seq, payload.txid)
        except pymysql.err.IntegrityError:
            # Another applier at this site (the agent beside a promotion) ran the
            # same DDL entry and recorded it first: it is applied, once.
            conn.rollback()
            return False
        conn.commit()
    recapture(conn, payload.ddl.database, payload.ddl.sql)
    return True


def recapture(conn: Connection, database: str | None, sql: str, strict: bool = False) -> None:
    """Regenerate (or drop) the capture of every table a DDL statement named.

    Every site keeps capture ready on every table of its ranges, so that any
    replica can become owner at once. A statement on a whole database that
    left it gone (``DROP DATABASE``) also drops its stage database, where
    the shadows of its tables were (the triggers went with the tables).
    A statement that changes only indexes or foreign keys leaves capture as
    it is (see :mod:`mdbc_py.sql.index_ddl`).
    """
    if changes_only_indexes(sql):
        return
    stmt = classify(sql, database)
    for table in stmt.ddl_tables:
        if table.is_wildcard and table.db is not None:
            _forget_database(conn, table.db)
            continue
        if table.is_wildcard or table.db is None or table.name.startswith("mdbc_"):
            continue
        with conn.cursor(Cursor) as cur:
            cur.execute(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                (table.db, table.name),
            )
            # information_schema compares names case-insensitively; MariaDB does not.
            kind = next((t for n, t in cur.fetchall() if n == table.name), None)
        conn.commit()
        try:
            if kind is None:
                capture.remove_table(conn, table.db, table.name)
            elif kind == "BASE TABLE":
                capture.install_table(conn, table.db, table.name)
        except capture.NoPrimaryKeyError as exc:
            if strict:
                raise
            log.warning("%s (the owner refuses writes to it too)", exc)
        except capture.StagedRowsError as exc:
            # Rows written around the driver are still staged for a dropped table:
            # keep them for 'mdbc verify' to report rather than dropping them.
            log.warning("%s", exc)


def _forget_database(conn: Connection, database: str) -> None:
    """Drop the stage database of ``database`` if ``database`` no longer exists.

    Shadows holding out-of-band rows are kept (and logged), as for a
    dropped table: ``mdbc verify`` reports them.
    """
    with conn.cursor(Cursor) as cur:
        cur.execute(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (database,),
        )
        exists = any(name == database for (name,) in cur.fetchall())
    conn.commit()
    if exists:
        return
    try:
        capture.uninstall_database(conn, database)
    except capture.StagedRowsError as exc:
        log.warning("%s", exc)
