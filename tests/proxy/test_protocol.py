"""Commands PyMySQL does not send on its own: prepared statements, COM_RESET_CONNECTION.

They are sent through PyMySQL's packet layer on a session it logged in, so
the test speaks the very bytes Connector/J would for the same commands.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pymysql
import pytest

from mdbc_py.log import Op, decode
from mdbc_py.music import MusicStore
from tests.proxy.conftest import rows, staged, table_name

COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17
COM_STMT_CLOSE = 0x19
COM_RESET_CONNECTION = 0x1F
MYSQL_TYPE_LONGLONG = 8
MYSQL_TYPE_VAR_STRING = 253


def prepare(conn: pymysql.Connection, sql: str) -> int:
    """COM_STMT_PREPARE; the statement id (its definitions are read and dropped)."""
    conn._execute_command(COM_STMT_PREPARE, sql)
    first = conn._read_packet().get_all_data()
    stmt_id, columns, params = struct.unpack_from("<IHH", first, 1)
    for count in (params, columns):
        if count:
            for _ in range(count + 1):
                conn._read_packet()
    return int(stmt_id)


def execute(conn: pymysql.Connection, stmt_id: int, values: tuple[int, str]) -> int:
    """COM_STMT_EXECUTE of ``(BIGINT, VARCHAR)`` parameters; the affected rows."""
    number, text = values
    data = text.encode()
    payload = (
        struct.pack("<IBI", stmt_id, 0, 1)
        + b"\x00"  # NULL bitmap of 2 parameters
        + b"\x01"  # types follow
        + struct.pack("<BBBB", MYSQL_TYPE_LONGLONG, 0, MYSQL_TYPE_VAR_STRING, 0)
        + struct.pack("<q", number)
        + bytes([len(data)])
        + data
    )
    conn._execute_command(COM_STMT_EXECUTE, payload)
    return int(conn._read_ok_packet().affected_rows)


def test_prepared_writes_are_logged_and_prepared_ddl_is_refused(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_a: str,
) -> None:
    t = table_name()
    conn = connect(database=range_a, autocommit=True)
    conn.cursor().execute(f"CREATE TABLE {t} (id BIGINT PRIMARY KEY, v VARCHAR(20))")
    tail = store.describe_range(range_a).tail

    insert = prepare(conn, f"INSERT INTO {t} VALUES (?, ?)")
    assert execute(conn, insert, (1, "one")) == 1  # autocommit: an entry of its own
    conn.cursor().execute("BEGIN")
    assert execute(conn, insert, (2, "two")) == 1
    assert execute(conn, insert, (3, "three")) == 1
    conn.commit()
    conn._execute_command(COM_STMT_CLOSE, struct.pack("<I", insert))

    entries = [decode(r.payload) for r in store.iter_entries(range_a, tail + 1)]
    assert [[(c.op, c.row) for c in e.changes] for e in entries] == [
        [(Op.INSERT, (("id", 1), ("v", "one")))],
        [(Op.INSERT, (("id", 2), ("v", "two"))), (Op.INSERT, (("id", 3), ("v", "three")))],
    ]
    assert staged(raw, range_a, t) == 0

    for sql in (f"DROP TABLE {t}", "COMMIT", "SET autocommit = 0"):
        with pytest.raises(pymysql.err.OperationalError) as info:
            prepare(conn, sql)
        assert info.value.args[0] == 1295, sql
    assert rows(raw, f"SELECT COUNT(*) FROM {range_a}.{t}") == ((3,),)


def test_reset_connection_rolls_back_and_logs_nothing(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_a: str,
) -> None:
    t = table_name()
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    tail = store.describe_range(range_a).tail
    cur.execute(f"INSERT INTO {t} VALUES (1)")
    conn._execute_command(COM_RESET_CONNECTION, b"")
    conn._read_ok_packet()
    assert store.describe_range(range_a).tail == tail
    assert rows(raw, f"SELECT COUNT(*) FROM {range_a}.{t}") == ((0,),)
    # The session goes on, in autocommit mode again (the reset's default): logged at once.
    cur.execute(f"INSERT INTO {t} VALUES (2)")
    (entry,) = [decode(r.payload) for r in store.iter_entries(range_a, tail + 1)]
    assert [c.pk for c in entry.changes] == [(("id", 2),)]
    assert rows(raw, f"SELECT id FROM {range_a}.{t}") == ((2,),)
    assert staged(raw, range_a, t) == 0
