"""Read and clear the rows a connection staged, on the commit path; count out-of-band rows.

Round trips of one :func:`collect`, for ``N`` tables the transaction wrote:

- one ``SELECT`` of the dirty marker (the tables the triggers staged into),
  which also starts a new collect generation, so the marker needs no reset
  statement (see :data:`sqlgen.MARKER_SQL`);
- one ``SELECT`` per table (a plain read: no locks);
- one ``DELETE`` per table, by exact primary key (see
  :func:`sqlgen.delete_staged_sql` for why not by range, or with
  ``DELETE ... RETURNING``, which would have saved the ``SELECT``).

So ``2N + 1``; a transaction that wrote nothing costs one. When the
connection was opened with ``CLIENT.MULTI_STATEMENTS`` the reads travel in
one batch and the deletes in another: three round trips whatever ``N``.

Call it right before committing. Rows it collected must not come back: after
``ROLLBACK TO SAVEPOINT`` of a savepoint taken before a collect, the
transaction must be rolled back entirely.

Isolation: the reads are consistent (non-locking) reads in READ COMMITTED
and REPEATABLE READ. Under SERIALIZABLE, InnoDB turns them into locking
reads, and writers of the same table then wait for each other's commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from contextlib import suppress
from functools import lru_cache
from typing import Any

import pymysql
from pymysql.constants import CLIENT
from pymysql.cursors import Cursor

from mdbc_py.capture import sqlgen
from mdbc_py.capture.errors import CaptureStateError
from mdbc_py.capture.inventory import shadow_tables, staged_counts
from mdbc_py.capture.naming import dirty_tables, is_internal_table, shadow_name
from mdbc_py.log.model import Op, RowChange, row_change_unchecked
from mdbc_py.sql.statement import TableRef

__all__ = ["changes_from_rows", "collect", "out_of_band"]

ER_NO_SUCH_TABLE = 1146

_OPS = {"I": Op.INSERT, "U": Op.UPDATE, "D": Op.DELETE}

_Staged = list[tuple[int, RowChange]]


def collect(cursor: Cursor, tables: Iterable[TableRef] | None = None) -> list[RowChange]:
    """Take the rows this connection staged, in the order they were written.

    Must run inside the caller's open transaction: the staged rows are
    deleted in it, so they vanish with its commit and come back with its
    rollback. ``tables`` adds tables to read besides those the triggers
    marked dirty (``None``: the dirty ones only); wildcards, tables without
    a database, ``mdbc_*`` tables and tables that are not captured are
    ignored.

    Each :class:`RowChange` names its table ``"db.table"``; ``pk`` is the new
    key for an INSERT and the old key for UPDATE and DELETE; ``row`` is the
    full new image for INSERT and UPDATE and the full old image for DELETE.
    Values are what PyMySQL returns for a ``SELECT`` of the same row through
    the same connection: the shadow columns have the very same types.
    """
    conn = cursor.connection
    batch = bool(conn.client_flag & CLIENT.MULTI_STATEMENTS)
    with conn.cursor(Cursor) as cur:
        cur.execute(sqlgen.MARKER_SQL)
        row = cur.fetchone()
        assert row is not None
        marker, marker_gen, gen = row
        current = marker_gen is not None and int(marker_gen) == int(gen) - 1
        targets = dirty_tables(marker) if current else []
        for ref in tables or ():
            if ref.db is None or ref.is_wildcard or is_internal_table(ref.name):
                continue
            if (ref.db, ref.name) not in targets:
                targets.append((ref.db, ref.name))

        found: list[tuple[str, str, _Staged]] = []

        def read(i: int) -> None:
            db, table = targets[i]
            found.append((db, table, _decode(f"{db}.{table}", cur)))

        selects = [sqlgen.select_staged_sql(db, shadow_name(t)) for db, t in targets]
        _run(cur, selects, read, batch=batch, skip_missing=True)

        deletes: list[str] = []
        expected: list[int] = []
        for db, table, staged in found:
            if staged:
                sql = sqlgen.delete_staged_sql(db, shadow_name(table), len(staged))
                param = sqlgen.delete_staged_param([seq for seq, _ in staged])
                deletes.append(cur.mogrify(sql, (param,)))
                expected.append(len(staged))

        def deleted(i: int) -> None:
            if cur.rowcount != expected[i]:
                raise CaptureStateError(
                    f"staged rows changed while being collected ({cur.rowcount} deleted, "
                    f"{expected[i]} expected): roll the transaction back"
                )

        _run(cur, deletes, deleted, batch=batch, skip_missing=False)

    changes = [item for _, _, staged in found for item in staged]
    changes.sort(key=lambda item: item[0])
    return [change for _, change in changes]


def _no_such_table(exc: pymysql.err.Error) -> bool:
    """The shadow is gone (capture removed after a rolled-back write): nothing staged."""
    return bool(exc.args) and exc.args[0] == ER_NO_SUCH_TABLE


def _run(
    cur: Cursor,
    statements: list[str],
    handle: Callable[[int], None],
    *,
    batch: bool,
    skip_missing: bool,
) -> None:
    """Execute ``statements``, calling ``handle(i)`` on the result of each.

    With ``batch`` all are sent in one multi-statement round trip; MariaDB
    stops a batch at its first error, so after a missing table (skipped when
    ``skip_missing``) the rest is sent again.
    """
    i = 0
    while i < len(statements):
        try:
            if batch:
                cur.execute(";\n".join(statements[i:]))
                while True:
                    _handle_or_drain(cur, handle, i)
                    i += 1
                    if not cur.nextset():
                        break
            else:
                cur.execute(statements[i])
                handle(i)
                i += 1
        except pymysql.err.ProgrammingError as exc:
            if not (skip_missing and _no_such_table(exc)):
                raise
            i += 1


def _handle_or_drain(cur: Cursor, handle: Callable[[int], None], i: int) -> None:
    """``handle(i)``; if it raises, read the batch's remaining results first.

    Unread results would leave the connection out of sync, and the caller
    could not even roll back.
    """
    try:
        handle(i)
    except BaseException:
        with suppress(pymysql.err.Error):
            while cur.nextset():
                pass
        raise


def _decode(table: str, cur: Cursor) -> _Staged:
    names = tuple(d[0] for d in cur.description or ())
    return changes_from_rows(table, names, cur.fetchall())


@lru_cache(maxsize=1024)
def _layout(names: tuple[str, ...]) -> sqlgen.Layout:
    return sqlgen.decode_layout(names)


def changes_from_rows(
    table: str, names: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> list[tuple[int, RowChange]]:
    """``(mdbc_seq, RowChange)`` of shadow rows whose columns are ``names``.

    Pure: the layout is learnt from the column names (see
    :func:`sqlgen.decode_layout`). The pairs are built here as tuples of
    ``(str, value)``, so the unchecked constructor is safe and saves a second
    walk over every value of a large transaction.
    """
    layout = _layout(names)
    start = layout.data_start
    data_names = layout.data_names
    key_names = layout.key_names
    out: list[tuple[int, RowChange]] = []
    for row in rows:
        op = _OPS[row[2]]
        index = layout.key_data_index if op is Op.INSERT else layout.key_old_index
        pk = tuple(zip(key_names, [row[i] for i in index], strict=True))
        image = tuple(zip(data_names, row[start:], strict=True))
        out.append((row[1], row_change_unchecked(table, op, pk, image)))
    return out


def out_of_band(
    conn: pymysql.connections.Connection, database: str, live_connection_ids: Collection[int]
) -> dict[str, int]:
    """Staged rows of ``database`` that no live driver connection can claim, per table.

    These are writes that bypassed the driver (a plain client, a cron job) or
    whose commit never collected them: they are in the local database but
    not in the log. Only committed rows are visible to this query (as of the
    caller's snapshot: call it outside a transaction), and rows of the
    connections in ``live_connection_ids`` are not counted. Two queries.
    """
    with conn.cursor(Cursor) as cur:
        return staged_counts(cur, database, shadow_tables(cur, database), live_connection_ids)
