"""Read and clear the rows a connection staged, on the commit path; count out-of-band rows.

Round trips of one :func:`collect`, for ``N`` tables the transaction wrote:

- one ``SELECT`` of the dirty marker (the tables the triggers staged into),
  which also starts a new collect generation, so the marker needs no reset
  statement (see :data:`sqlgen.MARKER_SQL`);
- one ``SELECT`` per table, of its shadow in the stage database (a plain
  read: no locks);
- one ``DELETE`` per table, by exact primary key (see
  :func:`sqlgen.delete_staged_sql` for why not by range, or with
  ``DELETE ... RETURNING``, which would have saved the ``SELECT``).

So ``2N + 1``; a transaction that wrote nothing costs one. When the
connection was opened with ``CLIENT.MULTI_STATEMENTS``, the marker and the
reads of the tables the caller names travel in one batch (a table only the
marker names costs one more) and the deletes in another. The driver's
commit path goes further: it calls :func:`take`, which leaves the deletes
to be sent with the transaction's ``COMMIT``, so a commit costs one round
trip before the append and one after.

Call it right before committing. Rows it collected must not come back: after
``ROLLBACK TO SAVEPOINT`` of a savepoint taken before a collect, the
transaction must be rolled back entirely.

Isolation: the reads are consistent (non-locking) reads in READ COMMITTED
and REPEATABLE READ. Under SERIALIZABLE, InnoDB turns them into locking
reads, and writers of the same table then wait for each other's commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pymysql
from pymysql.cursors import Cursor

from mdbc_py.capture import sqlgen
from mdbc_py.capture.batch import run_statements
from mdbc_py.capture.errors import CaptureStateError
from mdbc_py.capture.inventory import shadow_tables, staged_counts
from mdbc_py.capture.naming import dirty_tables, is_internal_table, shadow_name
from mdbc_py.log.model import Op, RowChange, row_change_unchecked
from mdbc_py.sql.statement import TableRef

__all__ = [
    "Taken",
    "changes_from_rows",
    "check_cleanup",
    "collect",
    "out_of_band",
    "take",
]

_OPS = {"I": Op.INSERT, "U": Op.UPDATE, "D": Op.DELETE}

_Staged = list[tuple[int, RowChange]]


@dataclass(frozen=True)
class Taken:
    """What :func:`take` read: the changes, and the deletes that clear them.

    ``cleanup`` holds one ready-to-send ``DELETE`` per shadow that had rows,
    and ``expected`` how many rows each must delete. They must run in the
    same transaction before its ``COMMIT``; the commit path sends them in
    the same round trip as the commit itself (see
    :func:`mdbc_py.core.commit.local_commit`).
    """

    changes: list[RowChange]
    cleanup: list[str] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)


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
    taken = take(cursor, tables)
    with cursor.connection.cursor(Cursor) as cur:
        run_statements(cur, taken.cleanup, lambda i: check_cleanup(taken, i, cur.rowcount))
    return taken.changes


def take(cursor: Cursor, tables: Iterable[TableRef] | None = None) -> Taken:
    """Read this connection's staged rows without deleting them (see :func:`collect`).

    The caller must send ``Taken.cleanup`` (and check each count with
    :func:`check_cleanup`) before its transaction commits. With
    ``CLIENT.MULTI_STATEMENTS`` the marker and the reads of ``tables``
    travel in one round trip; a table only the marker names costs one more.
    """
    extra = []
    for ref in tables or ():
        if ref.db is None or ref.is_wildcard or is_internal_table(ref.name):
            continue
        if (ref.db, ref.name) not in extra:
            extra.append((ref.db, ref.name))
    with cursor.connection.cursor(Cursor) as cur:
        marked: list[tuple[str, str]] = []
        found: list[tuple[str, str, _Staged]] = []

        def read(targets: list[tuple[str, str]], offset: int) -> Callable[[int], None]:
            def handle(i: int) -> None:
                if i < offset:
                    marked.extend(_marker_tables(cur))
                    return
                db, table = targets[i - offset]
                found.append((db, table, _decode(f"{db}.{table}", cur)))

            return handle

        statements = [sqlgen.MARKER_SQL, *_selects(extra)]
        run_statements(cur, statements, read(extra, 1), skip_missing=True)
        rest = [t for t in marked if t not in extra]
        run_statements(cur, _selects(rest), read(rest, 0), skip_missing=True)

        cleanup: list[str] = []
        expected: list[int] = []
        for db, table, staged in found:
            if staged:
                sql = sqlgen.delete_staged_sql(db, shadow_name(table), len(staged))
                param = sqlgen.delete_staged_param([seq for seq, _ in staged])
                cleanup.append(cur.mogrify(sql, (param,)))
                expected.append(len(staged))

    changes = [item for _, _, staged in found for item in staged]
    changes.sort(key=lambda item: item[0])
    return Taken([change for _, change in changes], cleanup, expected)


def check_cleanup(taken: Taken, i: int, rowcount: int) -> None:
    """Check that cleanup statement ``i`` deleted exactly the rows it read."""
    if rowcount != taken.expected[i]:
        raise CaptureStateError(
            f"staged rows changed while being collected ({rowcount} deleted, "
            f"{taken.expected[i]} expected): roll the transaction back"
        )


def _selects(targets: list[tuple[str, str]]) -> list[str]:
    return [sqlgen.select_staged_sql(db, shadow_name(t)) for db, t in targets]


def _marker_tables(cur: Cursor) -> list[tuple[str, str]]:
    """The tables the dirty marker names, if it is current (see ``MARKER_SQL``)."""
    row = cur.fetchone()
    assert row is not None
    marker, marker_gen, gen = row
    current = marker_gen is not None and int(marker_gen) == int(gen) - 1
    return dirty_tables(marker) if current else []


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

    Looks in ``database``'s stage database, and also at shadows an older mdbc
    left inside ``database`` itself, so rows staged there are never hidden.
    """
    with conn.cursor(Cursor) as cur:
        return staged_counts(cur, shadow_tables(cur, database), live_connection_ids)
