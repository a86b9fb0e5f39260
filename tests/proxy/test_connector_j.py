"""MariaDB Connector/J (and a HikariCP pool) through ``mdbc proxy``: SO's Java clients.

A small Java program (ProxyJdbcCheck of the Maven module in tests/java)
talks to dc1's proxy with a JDBC URL that differs from a direct one only in
host and port: text queries, client- and server-side prepared statements,
batches, ``setAutoCommit(false/true)``, rollback, a 16 MiB BLOB through
each protocol, 1 MiB from a stream (``COM_STMT_SEND_LONG_DATA``), a
write at a non-owner and a HikariCP pool. It prints one
line per check; this test asserts on those lines and on what reached the
MUSIC log and dc1's MariaDB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pymysql

from mdbc_py.config import Config
from mdbc_py.log import Op, decode
from mdbc_py.music import MusicStore
from mdbc_py.proxy import ProxyServer
from tests.proxy.conftest import rows, staged, table_name
from tests.proxy.java_support import JavaChecks

RUN_SECONDS = 180
BLOB_BYTES = 16 * 1024 * 1024


def test_connector_j_through_the_proxy(
    java_checks: JavaChecks,
    proxy: ProxyServer,
    proxy_cfg: Config,
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_a: str,
    range_b: str,
) -> None:
    t = table_name()
    host, port = proxy.address
    site = proxy_cfg.site("dc1").connect_kwargs()
    tail_a = store.describe_range(range_a).tail
    tail_b = store.describe_range(range_b).tail

    done = java_checks.run(
        "ProxyJdbcCheck",
        [f"{host}:{port}", range_a, range_b, t],
        {"MDBC_JDBC_USER": str(site["user"]), "MDBC_JDBC_PASSWORD": str(site.get("password", ""))},
        RUN_SECONDS,
    )
    assert done.returncode == 0, f"java exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    lines = done.stdout.splitlines()

    blob_sha = {int(line.split()[1]): line.split()[2] for line in lines if line.startswith("blob")}
    assert lines == [
        "ddl ok",
        "text ok",
        "commit ok",
        "rollback ok",
        "autocommit ok",
        "client batch ok",
        f"blob 20 {blob_sha.get(20)}",
        "server prepared ok",
        "server batch ok",
        f"blob 21 {blob_sha.get(21)}",
        f"blob 22 {blob_sha.get(22)}",
        "nonowner 1290 HY000",
        "hikari ok rows=10",
    ]
    entries = [decode(r.payload) for r in store.iter_entries(range_a, tail_a + 1)]
    assert [e.ddl is not None for e in entries] == [True, True] + [False] * 10
    assert [[dict(c.pk)["id"] for c in e.changes] for e in entries[2:]] == [
        [10],
        [1, 2],
        [4],
        [8, 9],
        [20],
        [3],
        [6, 7],
        [21],
        [22],
        [5],
    ]
    assert all(c.op is Op.INSERT for e in entries for c in e.changes)
    for entry, size in ((entries[6], BLOB_BYTES), (entries[9], BLOB_BYTES), (entries[10], 1 << 20)):
        (change,) = entry.changes
        row = dict(change.row)
        assert len(row["b"]) == size
        assert hashlib.sha256(row["b"]).hexdigest() == blob_sha[row["id"]], "changed in the log"
    assert store.describe_range(range_b).tail == tail_b, "the refused write reached the log"
    assert rows(raw, f"SELECT id, SHA2(b, 256) FROM {range_a}.{t}_blob ORDER BY id") == (
        (20, blob_sha[20]),
        (21, blob_sha[21]),
        (22, blob_sha[22]),
    )
    assert rows(raw, f"SELECT id, v FROM {range_a}.{t} ORDER BY id") == (
        (1, "client one"),
        (2, "client two"),
        (3, "server three"),
        (4, "autocommit"),
        (5, "hikari"),
        (6, "batch 6"),
        (7, "batch 7"),
        (8, "batch 8"),
        (9, "batch 9"),
        (10, "text"),
    )
    assert staged(raw, range_a, t) == 0, "staged rows left behind"
    assert staged(raw, range_a, f"{t}_blob") == 0, "staged BLOB rows left behind"
