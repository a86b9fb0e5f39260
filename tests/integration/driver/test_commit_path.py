"""The commit path against real MariaDB and Cassandra: what lands in the log, and when."""

from __future__ import annotations

import uuid

import pytest

from mdbc_py.log import Op, decode
from mdbc_py.music import MusicStore


def table_name() -> str:
    return f"t_{uuid.uuid4().hex[:8]}"


def entries_after(store: MusicStore, rng: str, tail: int) -> list:  # type: ignore[type-arg]
    return [(r.seq, decode(r.payload)) for r in store.iter_entries(rng, tail + 1)]


def test_ddl_and_a_transaction_become_entries(
    connect, raw, store: MusicStore, range_a: str
) -> None:  # type: ignore[no-untyped-def]
    t = table_name()
    conn = connect(database=range_a)
    cur = conn.cursor()
    tail = store.describe_range(range_a).tail
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR(20))")
    ((seq, ddl),) = entries_after(store, range_a, tail)
    assert ddl.ddl is not None and f"CREATE TABLE {t}" in ddl.ddl.sql
    assert ddl.ddl.database == range_a and ddl.changes == ()

    cur.execute(f"INSERT INTO {t} VALUES (%s, %s)", (1, "a"))
    cur.execute(f"INSERT INTO {t} VALUES (2, 'b')")
    cur.execute(f"UPDATE {t} SET v = 'c' WHERE id = 1")
    assert store.describe_range(range_a).tail == seq, "appended before commit"
    conn.commit()
    ((seq2, tx),) = entries_after(store, range_a, seq)
    assert seq2 == seq + 1
    assert tx.origin_site == "dc1" and tx.range_name == range_a
    got = [(c.table, c.op, c.pk, c.row) for c in tx.changes]
    assert got == [
        (f"{range_a}.{t}", Op.INSERT, (("id", 1),), (("id", 1), ("v", "a"))),
        (f"{range_a}.{t}", Op.INSERT, (("id", 2),), (("id", 2), ("v", "b"))),
        (f"{range_a}.{t}", Op.UPDATE, (("id", 1),), (("id", 1), ("v", "c"))),
    ]
    with raw().cursor() as check:
        check.execute(f"SELECT id, v FROM {range_a}.{t} ORDER BY id")
        assert check.fetchall() == ((1, "c"), (2, "b"))
        check.execute("SELECT seq, txid FROM mdbc.applied WHERE range_name = %s AND seq = %s",
                      (range_a, seq2))  # fmt: skip
        assert check.fetchone() == (seq2, tx.txid)


def test_rollback_and_empty_transactions_write_nothing(
    connect, raw, store: MusicStore, range_a: str
) -> None:  # type: ignore[no-untyped-def]
    t = table_name()
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    tail = store.describe_range(range_a).tail
    cur.execute(f"INSERT INTO {t} VALUES (1)")
    conn.rollback()
    cur.execute(f"UPDATE {t} SET id = 5 WHERE id = 99")  # matches nothing
    conn.commit()
    cur.execute(f"SELECT * FROM {t}")
    conn.commit()
    assert store.describe_range(range_a).tail == tail
    with raw().cursor() as check:
        check.execute(f"SELECT COUNT(*) FROM {range_a}.{t}")
        assert check.fetchone() == (0,)
        check.execute(f"SELECT COUNT(*) FROM `mdbc_stage_{range_a}`.mdbc_s_{t}")
        assert check.fetchone() == (0,), "staged rows left behind"


def test_autocommit_statement_and_executemany_are_one_entry_each(
    connect, store: MusicStore, range_a: str
) -> None:  # type: ignore[no-untyped-def]
    t = table_name()
    conn = connect(database=range_a, autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v INT)")
    tail = store.describe_range(range_a).tail
    cur.execute(f"INSERT INTO {t} VALUES (1, 1)")
    cur.executemany(f"INSERT INTO {t} VALUES (%s, %s)", [(i, i) for i in range(2, 12)])
    cur.execute(f"SELECT COUNT(*) FROM {t}")
    assert cur.fetchone() == (11,)
    entries = entries_after(store, range_a, tail)
    assert [len(p.changes) for _, p in entries] == [1, 10]


def test_sql_begin_commit_through_execute(connect, store: MusicStore, range_a: str) -> None:  # type: ignore[no-untyped-def]
    t = table_name()
    conn = connect(database=range_a, autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    tail = store.describe_range(range_a).tail
    cur.execute("START TRANSACTION")
    cur.execute(f"INSERT INTO {t} VALUES (1)")
    cur.execute(f"INSERT INTO {t} VALUES (2)")
    assert store.describe_range(range_a).tail == tail
    cur.execute("COMMIT")
    entries = entries_after(store, range_a, tail)
    assert [len(p.changes) for _, p in entries] == [2]
    cur.execute("BEGIN")
    cur.execute(f"DELETE FROM {t}")
    cur.execute("ROLLBACK")
    cur.execute(f"SELECT COUNT(*) FROM {t}")
    assert cur.fetchone() == (2,)
    assert store.describe_range(range_a).tail == tail + 1


@pytest.mark.parametrize("cursor_class", ["DictCursor", "SSCursor"])
def test_pymysql_cursor_classes_work(connect, range_a: str, cursor_class: str) -> None:  # type: ignore[no-untyped-def]
    import pymysql.cursors

    cls = getattr(pymysql.cursors, cursor_class)
    conn = connect(database=range_a, cursorclass=cls)
    cur = conn.cursor()
    cur.execute("SELECT 1 AS one, 'x' AS two")
    row = cur.fetchone()
    assert cur.fetchone() is None
    assert row == ({"one": 1, "two": "x"} if cursor_class == "DictCursor" else (1, "x"))
    t = table_name()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    cur.execute(f"INSERT INTO {t} VALUES (1)")
    conn.commit()


def test_several_statements_are_refused_unless_the_app_asks_for_them(
    connect, raw, store: MusicStore, range_a: str
) -> None:  # type: ignore[no-untyped-def]
    """The session batches the commit path's statements; the app still gets PyMySQL's rule."""
    import pymysql
    from pymysql.constants import CLIENT

    t = table_name()
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    tail = store.describe_range(range_a).tail
    two = f"INSERT INTO {t} VALUES (1); INSERT INTO {t} VALUES (2)"
    with pytest.raises(pymysql.err.ProgrammingError) as info:
        cur.execute(two)
    assert info.value.args[0] == 1064 and "MULTI_STATEMENTS" in info.value.args[1]
    with pytest.raises(pymysql.err.ProgrammingError) as plain:  # what PyMySQL itself does
        raw(database=range_a).cursor().execute(two)
    assert plain.value.args[0] == 1064
    assert not conn.client_flag & CLIENT.MULTI_STATEMENTS
    conn.commit()
    assert store.describe_range(range_a).tail == tail

    multi = connect(database=range_a, client_flag=CLIENT.MULTI_STATEMENTS)
    assert multi.client_flag & CLIENT.MULTI_STATEMENTS
    mcur = multi.cursor()
    mcur.execute(two)
    multi.commit()
    ((_, tx),) = entries_after(store, range_a, tail)
    assert [c.pk for c in tx.changes] == [(("id", 1),), (("id", 2),)]
    with raw().cursor() as check:
        check.execute(f"SELECT id FROM {range_a}.{t} ORDER BY id")
        assert check.fetchall() == ((1,), (2,))
        check.execute(f"SELECT COUNT(*) FROM `mdbc_stage_{range_a}`.mdbc_s_{t}")
        assert check.fetchone() == (0,), "the commit cleared the staged rows"
