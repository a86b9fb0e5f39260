"""PyMySQL through ``mdbc proxy``: what reaches the log, compared with the driver's entries."""

from __future__ import annotations

import datetime
import socket
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pymysql
import pytest
from pymysql.constants import CLIENT

import mdbc_py
from mdbc_py.config import Config
from mdbc_py.log import EntryPayload, decode
from mdbc_py.music import MusicStore, RangeState
from mdbc_py.proxy import ProxyServer
from tests.proxy.conftest import rows, staged, table_name, wait_until

COLUMNS = (
    "id INT AUTO_INCREMENT PRIMARY KEY, d DECIMAL(20,6), dt DATETIME(3), ts TIMESTAMP(6) NULL, "
    "b LONGBLOB, flag BIT(1), j JSON, l1 VARCHAR(20) CHARACTER SET latin1, "
    "u TEXT CHARACTER SET utf8mb4, dbl DOUBLE, e ENUM('x','y'), n INT NULL"
)
VALUES = (
    Decimal("12345.678901"),
    datetime.datetime(2024, 1, 2, 3, 4, 5, 678000),
    datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
    bytes(range(256)) * 3,
    b"\x01",
    '{"a": [1, 2.5, "é"]}',
    "café",
    "𝄞 ünïcödé",
    0.1,
    "y",
    None,
)
INSERT = "INSERT INTO {t} (d, dt, ts, b, flag, j, l1, u, dbl, e, n) VALUES ({marks})"


def workload(conn: Any, t: str) -> None:
    """The same DB-API calls, for the driver and for PyMySQL through the proxy.

    Entries: the DDL; one transaction (2 inserts, 1 update); nothing for a
    rollback; one entry per autocommit statement (an insert, a delete).
    """
    marks = ", ".join(["%s"] * len(VALUES))
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} ({COLUMNS})")
    cur.execute(INSERT.format(t=t, marks=marks), VALUES)
    cur.execute(INSERT.format(t=t, marks=marks), VALUES)
    cur.execute(f"UPDATE {t} SET u = %s, n = 7 WHERE id = 2", ("two ✓",))
    conn.commit()
    cur.execute(INSERT.format(t=t, marks=marks), VALUES)
    conn.rollback()
    conn.autocommit(True)
    cur.execute(INSERT.format(t=t, marks=marks), VALUES)
    cur.execute(f"DELETE FROM {t} WHERE id = 1")
    cur.close()


def entries_after(store: MusicStore, rng: str, tail: int) -> list[tuple[int, EntryPayload]]:
    return [(r.seq, decode(r.payload)) for r in store.iter_entries(rng, tail + 1)]


def comparable(entries: list[tuple[int, EntryPayload]], t: str) -> list[Any]:
    """Entries without what differs between two runs (ids, times, the table's name)."""
    out: list[Any] = []
    for _, p in entries:
        ddl = p.ddl.sql.replace(t, "T") if p.ddl is not None else None
        changes = [(c.table.split(".")[1].replace(t, "T"), c.op, c.pk, c.row) for c in p.changes]
        out.append((p.origin_site, p.range_name, ddl, changes))
    return out


def test_proxy_logs_what_the_driver_logs(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    proxy_cfg: Config,
    store: MusicStore,
    range_a: str,
) -> None:
    via_driver, via_proxy = table_name(), table_name()
    tail = store.describe_range(range_a).tail
    conn = mdbc_py.connect(site="dc1", config=proxy_cfg, database=range_a)
    try:
        workload(conn, via_driver)
    finally:
        conn.close()
    driver_entries = entries_after(store, range_a, tail)
    tail = driver_entries[-1][0]

    workload(connect(database=range_a), via_proxy)
    proxy_entries = entries_after(store, range_a, tail)

    assert len(driver_entries) == 4, "DDL, transaction, two autocommit statements"
    assert comparable(proxy_entries, via_proxy) == comparable(driver_entries, via_driver)
    assert rows(raw, f"SELECT id, u, n FROM {range_a}.{via_proxy} ORDER BY id") == (
        (2, "two ✓", 7),
        (4, "𝄞 ünïcödé", None),
    )
    assert staged(raw, range_a, via_proxy) == 0, "staged rows left behind"
    applied = rows(raw, f"SELECT seq FROM mdbc.applied WHERE range_name = '{range_a}'")
    assert {s for s, _ in proxy_entries} <= {int(s) for (s,) in applied}


def test_autocommit_answer_shows_no_open_transaction(
    connect: Callable[..., pymysql.Connection], store: MusicStore, range_a: str
) -> None:
    """The proxy's own BEGIN around an autocommit write never shows in the client's status."""
    t = table_name()
    conn = connect(database=range_a, autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    tail = store.describe_range(range_a).tail
    assert cur.execute(f"INSERT INTO {t} VALUES (1), (2)") == 2
    assert not conn.server_status & 0x0001, "SERVER_STATUS_IN_TRANS after an autocommit write"
    assert conn.server_status & 0x0002
    ((_, entry),) = entries_after(store, range_a, tail)
    assert [c.pk for c in entry.changes] == [(("id", 1),), (("id", 2),)]


def test_a_failed_autocommit_write_logs_nothing(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_a: str,
) -> None:
    t = table_name()
    conn = connect(database=range_a, autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    cur.execute(f"INSERT INTO {t} VALUES (1)")
    tail = store.describe_range(range_a).tail
    with pytest.raises(pymysql.err.IntegrityError) as info:
        cur.execute(f"INSERT INTO {t} VALUES (2), (1)")  # the second row is a duplicate
    assert info.value.args[0] == 1062, "MariaDB's own error reaches the client"
    assert store.describe_range(range_a).tail == tail
    assert rows(raw, f"SELECT id FROM {range_a}.{t}") == ((1,),)
    assert staged(raw, range_a, t) == 0


def test_write_at_a_non_owner_is_refused_before_it_runs(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_b: str,
) -> None:
    tail = store.describe_range(range_b).tail
    conn = connect(database=range_b)
    cur = conn.cursor()
    for sql in ("CREATE TABLE nope (id INT PRIMARY KEY)", "INSERT INTO nope VALUES (1)"):
        with pytest.raises(pymysql.err.OperationalError) as info:
            cur.execute(sql)
        assert (info.value.args[0], info.value.sqlstate) == (1290, "HY000")
        assert "owned by site 'dc2'" in info.value.args[1]
    cur.execute("SELECT 1")  # the session goes on: reads are local
    assert cur.fetchall() == ((1,),)
    assert rows(raw, f"SHOW TABLES FROM `{range_b}` LIKE 'nope'") == ()
    assert store.describe_range(range_b).tail == tail


def test_dropped_client_mid_transaction_logs_nothing(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    proxy: ProxyServer,
    store: MusicStore,
    range_a: str,
) -> None:
    t = table_name()
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    tail = store.describe_range(range_a).tail
    before = proxy.session_count
    cur.execute(f"INSERT INTO {t} VALUES (1)")
    sock = conn._sock
    assert sock is not None
    sock.shutdown(socket.SHUT_RDWR)  # gone without COM_QUIT
    sock.close()
    wait_until(lambda: proxy.session_count < before, "the proxy did not end the session")
    assert store.describe_range(range_a).tail == tail
    assert rows(raw, f"SELECT COUNT(*) FROM {range_a}.{t}") == ((0,),)
    assert staged(raw, range_a, t) == 0


def test_fenced_commit_is_an_error_and_nothing_commits_locally(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_fenced: str,
) -> None:
    """The range is fenced behind the proxy's back between a write and COMMIT."""
    name = range_fenced
    conn = connect(database=name)
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cur.execute("INSERT INTO t VALUES (1)")
    info = store.describe_range(name)
    store.change_owner(name, info.epoch, "dc2", reason="test fencing", state=RangeState.OPEN)
    with pytest.raises(pymysql.err.OperationalError) as err:
        conn.commit()
    assert (err.value.args[0], err.value.sqlstate) == (1184, "08S01"), err.value.args
    assert "not current" in err.value.args[1]
    assert store.describe_range(name).tail == info.tail
    assert rows(raw, f"SELECT COUNT(*) FROM {name}.t") == ((0,),)
    assert staged(raw, name, "t") == 0
    with pytest.raises(pymysql.err.Error):  # class 08: the proxy closed the session
        cur.execute("SELECT 1")


def test_stacked_statements(connect: Callable[..., pymysql.Connection], range_a: str) -> None:
    """Stacked text: refused unless the client asked for it, and then only plain reads."""
    plain = connect(database=range_a).cursor()
    with pytest.raises(pymysql.err.ProgrammingError) as info:
        plain.execute("SELECT 1; SELECT 2")
    assert (info.value.args[0], info.value.sqlstate) == (1064, "42000")
    multi_conn = connect(database=range_a, client_flag=CLIENT.MULTI_STATEMENTS)
    multi = multi_conn.cursor()
    multi.execute("SELECT 1; SELECT 2")
    assert multi.fetchall() == ((1,),)
    assert multi.nextset() and multi.fetchall() == ((2,),)
    t = table_name()
    multi.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
    with pytest.raises(pymysql.err.NotSupportedError) as info:
        multi.execute(f"INSERT INTO {t} VALUES (1); INSERT INTO {t} VALUES (2)")
    assert (info.value.args[0], info.value.sqlstate) == (1235, "42000")
    multi.execute(f"SELECT COUNT(*) FROM {t}")
    assert multi.fetchall() == ((0,),)


def test_charset_of_the_client_session_is_kept_and_values_stay_exact(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_a: str,
) -> None:
    """A latin1 client session: the log still gets the driver's (utf8mb4) values."""
    t = table_name()
    conn = connect(database=range_a, charset="latin1")
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, u TEXT CHARACTER SET utf8mb4)")
    tail = store.describe_range(range_a).tail
    cur.execute(f"INSERT INTO {t} VALUES (1, %s)", ("café",))
    conn.commit()
    ((_, entry),) = entries_after(store, range_a, tail)
    assert entry.changes[0].row == (("id", 1), ("u", "café"))
    cur.execute("SELECT @@character_set_client, @@character_set_results")
    assert cur.fetchall() == (("latin1", "latin1"),)
    assert staged(raw, range_a, t) == 0


def test_a_killed_backend_session_ends_the_client_session_with_an_error(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    proxy: ProxyServer,
    range_a: str,
) -> None:
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute("SELECT CONNECTION_ID()")
    ((backend_id,),) = cur.fetchall()
    before = proxy.session_count
    raw().cursor().execute(f"KILL CONNECTION {int(backend_id)}")
    seen = []
    for _ in range(2):  # MariaDB may answer the first with its own ERR 1927
        with pytest.raises(pymysql.err.Error) as info:
            cur.execute("SELECT 1")
        seen.append(info.value.args)
    assert any("lost its database session" in str(a) for a in seen), seen
    wait_until(lambda: proxy.session_count < before, "the proxy kept a dead session")
