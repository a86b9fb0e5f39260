"""Consistent snapshots of a range's tables: taken at a known sequence number, loaded elsewhere.

A site that is empty, or behind the log's trim point, cannot catch up from
the log. It is rebuilt from the owner instead (``resync --full``): one
``START TRANSACTION WITH CONSISTENT SNAPSHOT`` at the owner sees the data of
the range *and* the owner's applied position (``mdbc.watermark`` and
``mdbc.applied``, written in the same local transactions as the data) as of
one instant, so the copy is exactly "the log applied up to N, plus the
entries listed above N". Replay then continues from there, exactly once.

Reading (:func:`take`) and writing (:func:`prepare_target`,
:func:`copy_rows`, :func:`finish_target`) are separate so the caller decides
what happens around them (flags, positions, catch-up: ``resync``).

What is copied: the range's base tables (definitions from ``SHOW CREATE
TABLE``, rows streamed with an unbuffered cursor and written in multi-row
INSERTs), and, for a range that is a whole database, its views and the
application's own triggers on copied tables. Capture objects (``mdbc_*``)
are not copied: the target regenerates them. Generated columns are left to
the target to compute; INVISIBLE columns are copied (they are listed by
name, ``SELECT *`` would skip them).

Fidelity: both sessions use ``time_zone = '+00:00'`` (TIMESTAMP values are
converted through the session time zone on the way out and in) and
``NO_AUTO_VALUE_ON_ZERO`` (an id of 0 stays 0); bytes (BLOB, BIT) travel as
binary literals, doubles as their shortest exact ``repr``, text as utf8mb4
(which round-trips every latin1 byte). An INSERT stays under
:data:`BATCH_BYTES` unless one row alone is larger, so the target's
``max_allowed_packet`` must only exceed that and the largest row's literal
(at most twice its bytes).

While the snapshot is open the owner's copied tables hold a shared metadata
lock: a DDL on one of them waits until the copy ends (as with ``mysqldump
--single-transaction``), and the writes queued behind that DDL wait too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor, SSCursor

from mdbc_py.capture import shadow_name, stage_database
from mdbc_py.capture.naming import RESERVED_PREFIX, is_internal_table
from mdbc_py.capture.schema import read_tables
from mdbc_py.config import RangeConfig
from mdbc_py.core.apply import quote_ident, sql_value
from mdbc_py.core.positions import META_DB
from mdbc_py.errors import MdbcError, OperationalError
from mdbc_py.replication.sites import SiteUnreachableError, connect_site

__all__ = [
    "BATCH_BYTES",
    "BATCH_ROWS",
    "ER_TABLE_DEF_CHANGED",
    "SESSION_SQL_MODE",
    "DataTable",
    "SiteUnreachableError",
    "Snapshot",
    "SnapshotError",
    "connect_site",
    "copy_rows",
    "finish_target",
    "prepare_target",
    "range_tables",
    "take",
]

BATCH_ROWS = 500
"""Rows per multi-row INSERT at the target."""

BATCH_BYTES = 16 * 1024 * 1024
"""An INSERT is sent early once its SQL text reaches this size (large BLOBs)."""

SESSION_SQL_MODE = "NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION"
"""sql_mode of both copy sessions: ids of 0 kept, nothing silently truncated."""

SESSION_TIME_ZONE = "+00:00"
"""Both copy sessions read and write TIMESTAMPs in UTC, so no value shifts."""

ER_TABLE_DEF_CHANGED = 1412
"""InnoDB: a table was created or altered after the snapshot began; take it again."""

DATA_TABLE_TYPES = frozenset({"BASE TABLE", "SYSTEM VERSIONED"})
"""``information_schema.TABLES.TABLE_TYPE`` of tables that hold rows of their own."""

COPYABLE_TYPES = frozenset({"BASE TABLE", "VIEW"})
"""What a snapshot copies. A system-versioned table's history cannot be written back
(and capture refuses such tables anyway); a sequence's state is not a row."""

LOCK_WAIT_SECONDS = 60
"""How long a DROP/CREATE at the target waits for other sessions' metadata locks."""

NET_TIMEOUT_SECONDS = 600
"""The owner keeps a streamed result open while the target writes; be patient with it."""

Progress = Callable[[int, int], None]


class SnapshotError(MdbcError, OperationalError):
    """The owner's database cannot be snapshotted as it is (the message says why)."""


def qualified(db: str, name: str) -> str:
    """```db`.`name``` with both parts quoted."""
    return f"{quote_ident(db)}.{quote_ident(name)}"


def range_tables(cur: Cursor, rng: RangeConfig) -> list[str]:
    """The data tables of a range present at this site, sorted.

    A range is a whole database (``tables`` unset) or the listed tables of
    it; ``mdbc_*`` tables, views and sequences are never part of one.
    ``information_schema`` compares names case-insensitively, so the exact
    names are filtered again here.
    """
    cur.execute(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s",
        (rng.database,),
    )
    wanted = set(rng.tables) if rng.tables is not None else None
    return sorted(
        name
        for schema, name, kind in cur.fetchall()
        if schema == rng.database
        and kind in DATA_TABLE_TYPES
        and not is_internal_table(name)
        and (wanted is None or name in wanted)
    )


@dataclass(frozen=True)
class DataTable:
    """One table of the snapshot: its definition, the columns copied, its row count."""

    name: str
    create_sql: str
    columns: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class Trigger:
    """An application trigger on a copied table (``SHOW CREATE TRIGGER``)."""

    name: str
    create_sql: str
    sql_mode: str


@dataclass
class Snapshot:
    """What the owner's consistent snapshot holds, except the rows themselves.

    ``seq`` is the contiguous applied position (every entry up to it is in
    the data); ``above`` the entries above it that are in too (seq -> txid).
    The rows are streamed by :func:`copy_rows` from the same, still open,
    transaction.
    """

    range_name: str
    database: str
    listed: frozenset[str] | None
    """The range's table list (None: the range is the whole database)."""
    charset: str
    collation: str
    seq: int
    above: dict[int, str]
    tables: list[DataTable] = field(default_factory=list)
    views: list[tuple[str, str]] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)

    @property
    def whole_database(self) -> bool:
        """True when the range is every table of its database."""
        return self.listed is None

    @property
    def total_rows(self) -> int:
        """Rows to copy (``COUNT(*)`` of every table, inside the snapshot)."""
        return sum(t.rows for t in self.tables)


def _session(cur: Cursor) -> None:
    cur.execute(
        "SET SESSION time_zone = %s, SESSION sql_mode = %s",
        (SESSION_TIME_ZONE, SESSION_SQL_MODE),
    )


def take(conn: Connection, rng: RangeConfig) -> Snapshot:
    """Open a consistent snapshot on ``conn`` (the owner) and read everything but the rows.

    The transaction stays open: stream the rows with :func:`copy_rows`, then
    end it with ``conn.rollback()``. Raises ``pymysql.err.OperationalError``
    with errno :data:`ER_TABLE_DEF_CHANGED` when a table changed under the
    snapshot (take it again), :class:`SnapshotError` for a database that
    cannot be copied (a sequence, a missing database).
    """
    conn.rollback()
    with conn.cursor(Cursor) as cur:
        _session(cur)
        cur.execute(
            "SET SESSION net_write_timeout = %s, SESSION net_read_timeout = %s",
            (NET_TIMEOUT_SECONDS, NET_TIMEOUT_SECONDS),
        )
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        db = rng.database
        cur.execute(
            "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
            "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (db,),
        )
        schema = [r for r in cur.fetchall() if r[0] == db]
        if not schema:
            raise SnapshotError(f"the owner has no database {db!r} (range {rng.name!r})")
        _, charset, collation = schema[0]

        seq, above = _position(cur, rng.name)
        snap = Snapshot(
            range_name=rng.name,
            database=db,
            listed=frozenset(rng.tables) if rng.tables is not None else None,
            charset=charset,
            collation=collation,
            seq=seq,
            above=above,
        )
        infos = read_tables(cur, db)
        wanted = set(rng.tables) if rng.tables is not None else None
        odd = sorted(
            f"{db}.{i.name} ({i.table_type})"
            for i in infos.values()
            if i.table_type not in COPYABLE_TYPES
            and not is_internal_table(i.name)
            and (wanted is None or i.name in wanted)
        )
        if odd:
            raise SnapshotError(
                f"cannot snapshot range {rng.name!r}: {', '.join(odd)} cannot be copied "
                "(only plain tables and views can); drop it or leave it out of the range"
            )
        names = sorted(
            i.name
            for i in infos.values()
            if i.table_type == "BASE TABLE"
            and not is_internal_table(i.name)
            and (wanted is None or i.name in wanted)
        )
        for name in names:
            # COUNT(*) reads through the snapshot: it takes the table's shared
            # metadata lock (no DDL until the end) and fails with 1412 if the
            # table changed since the snapshot began.
            cur.execute(f"SELECT COUNT(*) FROM {qualified(db, name)}")
            count_row = cur.fetchone()
            cur.execute(f"SHOW CREATE TABLE {qualified(db, name)}")
            create_row = cur.fetchone()
            assert count_row is not None and create_row is not None
            columns = tuple(c.name for c in infos[name].image_columns)
            snap.tables.append(DataTable(name, create_row[1], columns, int(count_row[0])))
        if snap.whole_database:
            for name in sorted(i.name for i in infos.values() if i.table_type == "VIEW"):
                cur.execute(f"SHOW CREATE VIEW {qualified(db, name)}")
                view_row = cur.fetchone()
                assert view_row is not None
                snap.views.append((name, view_row[1]))
        snap.triggers = _triggers(cur, db, set(names))
    return snap


def _position(cur: Cursor, range_name: str) -> tuple[int, dict[int, str]]:
    """The applied position inside the snapshot: (contiguous seq, {seq above: txid})."""
    cur.execute(
        f"SELECT seq FROM {qualified(META_DB, 'watermark')} WHERE range_name = %s",
        (range_name,),
    )
    row = cur.fetchone()
    contiguous = int(row[0]) if row else 0
    cur.execute(
        f"SELECT seq, txid FROM {qualified(META_DB, 'applied')} "
        "WHERE range_name = %s AND seq > %s ORDER BY seq",
        (range_name, contiguous),
    )
    above: dict[int, str] = {}
    for seq, txid in cur.fetchall():
        if int(seq) == contiguous + 1 and not above:
            contiguous = int(seq)
        else:
            above[int(seq)] = txid
    return contiguous, above


def _triggers(cur: Cursor, db: str, tables: set[str]) -> list[Trigger]:
    """Application triggers (not ``mdbc_*``) on the copied tables, in creation order."""
    cur.execute(
        "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = %s ORDER BY CREATED, ACTION_ORDER",
        (db,),
    )
    names = [
        name
        for schema, name, table in cur.fetchall()
        if schema == db and table in tables and not is_internal_table(name)
    ]
    out = []
    for name in names:
        cur.execute(f"SHOW CREATE TRIGGER {qualified(db, name)}")
        row = cur.fetchone()
        assert row is not None
        out.append(Trigger(name, row[2], row[1]))
    return out


def prepare_target(conn: Connection, snap: Snapshot) -> None:
    """Replace the range's tables at the target with empty ones defined as at the owner.

    Every table of the range (for a whole-database range: every table, view
    and sequence of the database) is dropped, with its capture shadow (in
    the stage database, or inside the database where an older mdbc put it:
    rows staged against the data being replaced mean nothing any more), and
    the owner's tables are created, with foreign key checks off so that any
    order works. The session is left prepared for :func:`copy_rows`:
    ``@mdbc_replay`` set (nothing is staged), foreign key checks off.
    """
    db = snap.database
    with conn.cursor(Cursor) as cur:
        _session(cur)
        cur.execute(
            "SET @mdbc_replay = 1, SESSION foreign_key_checks = 0, SESSION lock_wait_timeout = %s",
            (LOCK_WAIT_SECONDS,),
        )
        cur.execute(
            f"CREATE DATABASE IF NOT EXISTS {quote_ident(db)} "
            f"CHARACTER SET {quote_ident(snap.charset)} COLLATE {quote_ident(snap.collation)}"
        )
        cur.execute(
            f"ALTER DATABASE {quote_ident(db)} "
            f"CHARACTER SET {quote_ident(snap.charset)} COLLATE {quote_ident(snap.collation)}"
        )
        cur.execute(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s",
            (db,),
        )
        present = {name: kind for schema, name, kind in cur.fetchall() if schema == db}
        stage = stage_database(db)
        cur.execute(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s",
            (stage,),
        )
        staged = {name for schema, name in cur.fetchall() if schema == stage}
        if snap.listed is None:
            doomed = set(present)
            shadows = {n for n in staged if n.startswith(RESERVED_PREFIX)}
        else:
            mine = snap.listed | {t.name for t in snap.tables}
            names = {shadow_name(t) for t in mine}
            doomed = {n for n in present if n in mine or n in names}  # names: legacy shadows
            shadows = staged & names
        views = sorted(n for n in doomed if present[n] == "VIEW")
        tables = sorted(n for n in doomed if present[n] != "VIEW")
        if views:
            cur.execute("DROP VIEW IF EXISTS " + ", ".join(qualified(db, n) for n in views))
        if tables:
            cur.execute("DROP TABLE IF EXISTS " + ", ".join(qualified(db, n) for n in tables))
        if shadows:
            cur.execute(
                "DROP TABLE IF EXISTS " + ", ".join(qualified(stage, n) for n in sorted(shadows))
            )
        cur.execute(f"USE {quote_ident(db)}")
        for table in snap.tables:
            cur.execute(table.create_sql)


def copy_rows(
    source: Connection, target: Connection, snap: Snapshot, progress: Progress | None = None
) -> int:
    """Stream every table's rows from the open snapshot on ``source`` into ``target``.

    Rows are read with an unbuffered cursor (memory stays bounded by one
    INSERT) and written as multi-row INSERTs of :data:`BATCH_ROWS` rows, or
    fewer when the statement reaches :data:`BATCH_BYTES`. ``progress`` gets
    ``(rows copied, rows in the snapshot)`` after every INSERT. Returns the
    number of rows copied.
    """
    total = snap.total_rows
    done = 0
    for table in snap.tables:
        if not table.columns or table.rows == 0:
            continue
        name = qualified(snap.database, table.name)
        cols = ", ".join(quote_ident(c) for c in table.columns)
        head = f"INSERT INTO {name} ({cols}) VALUES "
        with source.cursor(SSCursor) as src, target.cursor(Cursor) as dst:
            src.execute(f"SELECT {cols} FROM {name}")
            for batch in _batches(target, src):
                dst.execute(head + ",".join(batch))
                done += len(batch)
                if progress is not None:
                    progress(done, total)
    return done


def _batches(target: Connection, rows: Iterable[tuple[Any, ...]]) -> Iterator[list[str]]:
    """Row literals grouped into INSERT-sized batches (by count and by bytes)."""
    batch: list[str] = []
    size = 0
    escape = target.escape
    for row in rows:
        literal = "(" + ",".join([escape(sql_value(v)) for v in row]) + ")"
        if batch and (len(batch) >= BATCH_ROWS or size + len(literal) > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(literal)
        size += len(literal) + 1
    if batch:
        yield batch


def finish_target(conn: Connection, snap: Snapshot) -> None:
    """Create the owner's views and application triggers at the target, after the rows.

    Triggers come last so that loading the rows fired none; each is created
    under the ``sql_mode`` it was defined with. A view may select from
    another view, so views are created in rounds until all exist.
    """
    db = snap.database
    with conn.cursor(Cursor) as cur:
        cur.execute(f"USE {quote_ident(db)}")
        pending = list(snap.views)
        while pending:
            failed: list[tuple[str, str]] = []
            last: pymysql.err.MySQLError | None = None
            for name, sql in pending:
                try:
                    cur.execute(sql)
                except pymysql.err.MySQLError as exc:
                    failed.append((name, sql))
                    last = exc
            if len(failed) == len(pending):
                assert last is not None
                raise last
            pending = failed
        cur.execute("SELECT @@SESSION.sql_mode")
        mode_row = cur.fetchone()
        assert mode_row is not None
        try:
            for trigger in snap.triggers:
                cur.execute("SET SESSION sql_mode = %s", (trigger.sql_mode,))
                cur.execute(trigger.create_sql)
        finally:
            cur.execute("SET SESSION sql_mode = %s", (mode_row[0],))
