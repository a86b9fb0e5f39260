"""Who sees which staged rows: transactions, connections, replay, cascades, bypassing writers."""

from __future__ import annotations

import pymysql
import pytest
from pymysql.connections import Connection
from pymysql.constants import CLIENT

from mdbc_py import capture
from mdbc_py.log.model import Op
from mdbc_py.sql.statement import TableRef
from tests.integration.capture.conftest import Connect

pytestmark = pytest.mark.services


@pytest.fixture()
def tables(admin: Connection, database: str) -> str:
    """``items`` and ``notes`` (two plain tables), captured."""
    with admin.cursor() as cur:
        cur.execute(f"USE `{database}`")
        cur.execute("CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))")
        cur.execute("CREATE TABLE notes (k VARCHAR(10), n INT, t TEXT, PRIMARY KEY (k, n))")
    capture.install_database(admin, database)
    return database


def _staged_rows(admin: Connection, database: str) -> int:
    """Committed rows in every shadow of the database."""
    return sum(capture.out_of_band(admin, database, []).values())


def test_rollback_leaves_nothing_staged(connect: Connect, tables: str, admin: Connection) -> None:
    conn = connect(database=tables)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO items (v) VALUES ('a'), ('b')")
        cur.execute("INSERT INTO notes VALUES ('x', 1, 'é')")
    conn.rollback()
    assert _staged_rows(admin, tables) == 0
    with conn.cursor() as cur:
        assert capture.collect(cur) == []  # the marker names the tables, they are empty
        assert capture.collect(cur) == []  # now the marker is stale: ignored
        cur.execute("INSERT INTO notes VALUES ('y', 1, NULL)")
        assert [c.table for c in capture.collect(cur)] == [f"{tables}.notes"]
    conn.commit()


def test_savepoint_rollback_drops_only_later_rows(connect: Connect, tables: str) -> None:
    conn = connect(database=tables)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO items (id, v) VALUES (1, 'kept')")
        cur.execute("SAVEPOINT s1")
        cur.execute("INSERT INTO items (id, v) VALUES (2, 'gone')")
        cur.execute("ROLLBACK TO SAVEPOINT s1")
        changes = capture.collect(cur)
    assert [(c.op, c.pk) for c in changes] == [(Op.INSERT, (("id", 1),))]
    conn.commit()


def test_each_connection_collects_only_its_own_rows(
    connect: Connect, tables: str, admin: Connection
) -> None:
    a, b = connect(database=tables), connect(database=tables)
    with a.cursor() as ca, b.cursor() as cb:
        ca.execute("INSERT INTO items (id, v) VALUES (1, 'a1')")
        cb.execute("INSERT INTO items (id, v) VALUES (2, 'b1')")
        ca.execute("INSERT INTO notes VALUES ('a', 1, NULL)")
        cb.execute("INSERT INTO items (id, v) VALUES (3, 'b2')")
        got_a = capture.collect(ca)
        got_b = capture.collect(cb)
    assert [(c.table, c.pk) for c in got_a] == [
        (f"{tables}.items", (("id", 1),)),
        (f"{tables}.notes", (("k", "a"), ("n", 1))),
    ]
    assert [c.pk for c in got_b] == [(("id", 2),), (("id", 3),)]
    a.commit()
    b.commit()
    assert _staged_rows(admin, tables) == 0


def test_collecting_blocks_no_other_writer(connect: Connect, tables: str) -> None:
    """A collected, still open transaction must not lock other sessions' staging.

    Three sessions interleave so that each one's shadow rows sit next to the
    others' in the shadow's key order; any gap or next-key lock taken by a
    collect would make one of the later statements wait and time out.
    """
    sessions = [connect(database=tables) for _ in range(3)]
    for conn in sessions:
        with conn.cursor() as cur:
            cur.execute("SET SESSION innodb_lock_wait_timeout = 3")
    cursors = [conn.cursor() for conn in sessions]
    key = iter(range(1, 1000))
    for _ in range(3):
        for cur in cursors:
            cur.execute("INSERT INTO items (id, v) VALUES (%s, 'x')", (next(key),))
    got = [capture.collect(cur) for cur in cursors]  # all three still open
    for cur in reversed(cursors):
        cur.execute("INSERT INTO items (id, v) VALUES (%s, 'y')", (next(key),))
        cur.execute("INSERT INTO notes VALUES ('k', %s, NULL)", (next(key),))
    again = [capture.collect(cur) for cur in cursors]
    for conn in sessions:
        conn.commit()
    assert [len(g) for g in got] == [3, 3, 3]
    assert [len(g) for g in again] == [2, 2, 2]
    assert [c.pk for c in got[0]] == [(("id", 1),), (("id", 4),), (("id", 7),)]


def test_changes_come_in_write_order_across_tables(connect: Connect, tables: str) -> None:
    conn = connect(database=tables)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO notes VALUES ('a', 1, 'x')")
        cur.execute("INSERT INTO items (id, v) VALUES (1, 'a')")
        cur.execute("UPDATE notes SET n = 2 WHERE k = 'a'")
        cur.execute("DELETE FROM items WHERE id = 1")
        cur.execute("INSERT INTO notes VALUES ('b', 1, 'y')")
        changes = capture.collect(cur)
    assert [(c.table.rsplit(".", 1)[1], c.op) for c in changes] == [
        ("notes", Op.INSERT),
        ("items", Op.INSERT),
        ("notes", Op.UPDATE),
        ("items", Op.DELETE),
        ("notes", Op.INSERT),
    ]
    assert changes[2].pk == (("k", "a"), ("n", 1))
    assert dict(changes[2].row or ())["n"] == 2
    conn.commit()


def test_replay_session_stages_nothing(connect: Connect, tables: str, admin: Connection) -> None:
    conn = connect(database=tables)
    with conn.cursor() as cur:
        cur.execute("SET @mdbc_replay = 1")
        cur.execute("INSERT INTO items (id, v) VALUES (1, 'replayed')")
        cur.execute("UPDATE items SET v = 'again' WHERE id = 1")
        assert capture.collect(cur) == []
    conn.commit()
    assert _staged_rows(admin, tables) == 0


def test_cascade_deletes_are_not_staged(connect: Connect, admin: Connection, database: str) -> None:
    """MariaDB fires no trigger for rows a foreign key's cascade deletes or updates.

    Only the parent's change is captured; replay reproduces the children's
    with foreign keys on. This asserts the behaviour the design relies on.
    """
    with admin.cursor() as cur:
        cur.execute(f"USE `{database}`")
        cur.execute("CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB")
        cur.execute(
            "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, "
            "FOREIGN KEY (parent_id) REFERENCES parent (id) "
            "ON DELETE CASCADE ON UPDATE CASCADE) ENGINE=InnoDB"
        )
    capture.install_database(admin, database)
    conn = connect(database=database)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO parent VALUES (1), (2)")
        cur.execute("INSERT INTO child VALUES (10, 1), (11, 1), (20, 2)")
        assert len(capture.collect(cur)) == 5
        conn.commit()
        cur.execute("DELETE FROM parent WHERE id = 1")
        cur.execute("UPDATE parent SET id = 3 WHERE id = 2")
        changes = capture.collect(cur)
        cur.execute("SELECT id, parent_id FROM child ORDER BY id")
        assert cur.fetchall() == ((20, 3),)
    assert [(c.table, c.op) for c in changes] == [
        (f"{database}.parent", Op.DELETE),
        (f"{database}.parent", Op.UPDATE),
    ]
    conn.commit()


def test_unclassified_writes_are_found_by_the_dirty_marker(connect: Connect, tables: str) -> None:
    """A stored procedure hides its tables from the driver; the marker does not."""
    conn = connect(database=tables)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE PROCEDURE add_note(IN k VARCHAR(10)) "
            "BEGIN INSERT INTO notes VALUES (k, 1, 'proc'); END"
        )
        cur.execute("CALL add_note('p')")
        changes = capture.collect(cur, None)
    assert [(c.table, c.op, c.pk) for c in changes] == [
        (f"{tables}.notes", Op.INSERT, (("k", "p"), ("n", 1)))
    ]
    conn.commit()


def test_named_tables_that_are_not_captured_are_ignored(
    connect: Connect, tables: str, admin: Connection
) -> None:
    with admin.cursor() as cur:
        cur.execute(f"CREATE TABLE `{tables}`.mdbc_private (id INT PRIMARY KEY)")
        cur.execute(f"CREATE TABLE `{tables}`.later (id INT PRIMARY KEY)")
    conn = connect(database=tables)
    extra = [
        TableRef(tables, "later"),
        TableRef(tables, "mdbc_private"),
        TableRef.any_of(tables),
        TableRef(None, "items"),
        TableRef(tables, "items"),
    ]
    with conn.cursor() as cur:
        cur.execute("INSERT INTO items (id, v) VALUES (1, 'x')")
        cur.execute("INSERT INTO later VALUES (1)")
        changes = capture.collect(cur, extra)
    assert [(c.table, c.pk) for c in changes] == [(f"{tables}.items", (("id", 1),))]
    conn.commit()


@pytest.mark.parametrize("multi", [False, True])
def test_missing_shadows_are_skipped(
    connect: Connect, tables: str, admin: Connection, multi: bool
) -> None:
    """A marked table whose capture was removed, and a named uncaptured table.

    With multi-statements MariaDB stops a batch at the failing statement;
    the rest must still be read, and the connection left in sync.
    """
    with admin.cursor() as cur:
        cur.execute(f"CREATE TABLE `{tables}`.gone (id INT PRIMARY KEY)")
        cur.execute(f"CREATE TABLE `{tables}`.later (id INT PRIMARY KEY)")
    capture.install_table(admin, tables, "gone")
    flags = {"client_flag": CLIENT.MULTI_STATEMENTS} if multi else {}
    conn = connect(database=tables, **flags)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO gone VALUES (1)")
        conn.rollback()  # "gone" stays in the dirty marker
        capture.remove_table(admin, tables, "gone")
        cur.execute("INSERT INTO items (id, v) VALUES (1, 'x')")
        cur.execute("INSERT INTO notes VALUES ('n', 1, NULL)")
        cur.execute("UPDATE items SET v = 'y' WHERE id = 1")
        changes = capture.collect(cur, [TableRef(tables, "later"), TableRef(tables, "items")])
        assert [(c.table.rsplit(".", 1)[1], c.op) for c in changes] == [
            ("items", Op.INSERT),
            ("notes", Op.INSERT),
            ("items", Op.UPDATE),
        ]
        cur.execute("SELECT 1")
        assert cur.fetchall() == ((1,),)  # every result was read
        assert capture.collect(cur) == []
    conn.commit()
    assert _staged_rows(admin, tables) == 0


def test_writes_bypassing_the_driver_show_up_out_of_band(
    connect: Connect, tables: str, admin: Connection
) -> None:
    driver_conn = connect(database=tables)
    with driver_conn.cursor() as cur:
        cur.execute("INSERT INTO items (id, v) VALUES (1, 'driver')")
        capture.collect(cur)
    driver_conn.commit()

    plain = connect(database=tables, autocommit=True)
    with plain.cursor() as cur:
        cur.execute("INSERT INTO items (id, v) VALUES (2, 'plain')")
        cur.execute("UPDATE items SET v = 'plain too' WHERE id = 1")
        cur.execute("INSERT INTO notes VALUES ('n', 1, NULL)")
    live = [driver_conn.thread_id()]
    assert capture.out_of_band(admin, tables, live) == {"items": 2, "notes": 1}
    # Rows of a connection the caller declares as its own are not out of band.
    assert capture.out_of_band(admin, tables, [*live, plain.thread_id()]) == {}
    # An uncommitted driver transaction is invisible: not out of band.
    with driver_conn.cursor() as cur:
        cur.execute("INSERT INTO items (id, v) VALUES (3, 'open')")
        assert capture.out_of_band(admin, tables, []) == {"items": 2, "notes": 1}
        # and the driver's collect does not claim the plain connection's rows.
        assert [c.pk for c in capture.collect(cur)] == [(("id", 3),)]
    driver_conn.commit()


def test_upserts_and_failed_statements(connect: Connect, tables: str) -> None:
    conn = connect(database=tables)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO items (id, v) VALUES (1, 'a'), (2, 'b')")
        cur.execute("REPLACE INTO items (id, v) VALUES (1, 'replaced')")
        cur.execute("INSERT INTO items (id, v) VALUES (2, 'x') ON DUPLICATE KEY UPDATE v = 'upd'")
        # A statement that fails half-way takes its staged rows with it.
        with pytest.raises(pymysql.err.IntegrityError):
            cur.execute("INSERT INTO items (id, v) VALUES (3, 'c'), (1, 'dup')")
        changes = capture.collect(cur)
    assert [(c.op, c.pk, dict(c.row or ()).get("v")) for c in changes] == [
        (Op.INSERT, (("id", 1),), "a"),
        (Op.INSERT, (("id", 2),), "b"),
        (Op.DELETE, (("id", 1),), "a"),
        (Op.INSERT, (("id", 1),), "replaced"),
        (Op.UPDATE, (("id", 2),), "upd"),
    ]
    conn.commit()


def test_rows_left_by_an_earlier_session_with_the_same_id_are_not_claimed(
    connect: Connect, tables: str, admin: Connection
) -> None:
    """Connection ids restart after a server restart; sequence numbers do not."""
    conn = connect(database=tables, autocommit=True)
    with conn.cursor() as cur:
        # As if a session with this id had committed rows before a restart.
        cur.execute(
            f"INSERT INTO {capture.sqlgen.shadow_table(tables, 'items')} "
            "(mdbc_conn, mdbc_seq, mdbc_op, id, v) "
            "VALUES (CONNECTION_ID(), 1, 'I', 99, 'old')"
        )
        cur.execute("BEGIN")
        cur.execute("INSERT INTO items (id, v) VALUES (1, 'new')")
        changes = capture.collect(cur)
        cur.execute("COMMIT")
    assert [c.pk for c in changes] == [(("id", 1),)]
    assert capture.out_of_band(admin, tables, []) == {"items": 1}


def _round_trips(conn: Connection) -> list[str]:
    """Record every query the connection sends from now on (one per round trip)."""
    sent: list[str] = []
    query = conn.query

    def counting(sql: str, unbuffered: bool = False) -> int:
        sent.append(sql)
        return query(sql, unbuffered)

    conn.query = counting  # type: ignore[method-assign]
    return sent


@pytest.mark.parametrize(("multi", "expected"), [(False, [1, 3, 5]), (True, [1, 3, 3])])
def test_round_trips_per_collect(
    connect: Connect, tables: str, multi: bool, expected: list[int]
) -> None:
    flags = {"client_flag": CLIENT.MULTI_STATEMENTS} if multi else {}
    conn = connect(database=tables, **flags)
    counts = []
    with conn.cursor() as cur:
        for writes in ([], ["items"], ["items", "notes"]):
            for i, table in enumerate(writes):
                if table == "items":
                    cur.execute("INSERT INTO items (v) VALUES ('x'), ('y')")
                else:
                    cur.execute("INSERT INTO notes VALUES ('k', %s, NULL)", (i,))
            sent = _round_trips(conn)
            changes = capture.collect(cur)
            del conn.query
            counts.append(len(sent))
            assert len(changes) == sum(2 if t == "items" else 1 for t in writes)
            conn.commit()
    assert counts == expected
