"""The sandbox's services are real and usable: MariaDB transactions, Cassandra LWT."""

from __future__ import annotations

import threading
import uuid

import pymysql
import pytest
from cassandra.cluster import Cluster

from mdbc_py.config import Config
from mdbc_py.sandbox import Sandbox


def test_every_site_commits_and_rolls_back(running: Sandbox, sandbox_config: Config) -> None:
    assert len(sandbox_config.sites) == 3
    for site in sandbox_config.sites.values():
        conn = pymysql.connect(**site.connect_kwargs(), autocommit=False)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE IF NOT EXISTS sandbox_check")
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS sandbox_check.t "
                    "(id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB"
                )
                cur.execute("DELETE FROM sandbox_check.t")
                conn.commit()
                cur.execute("INSERT INTO sandbox_check.t VALUES (1, 'kept')")
                conn.commit()
                cur.execute("INSERT INTO sandbox_check.t VALUES (2, 'rolled back')")
                conn.rollback()
                cur.execute("SELECT id, v FROM sandbox_check.t ORDER BY id")
                assert cur.fetchall() == ((1, "kept"),), site.name
                cur.execute("SELECT @@port")
                assert cur.fetchone() == (site.port,)
        finally:
            conn.close()


def test_sites_are_distinct_servers(running: Sandbox, sandbox_config: Config) -> None:
    ids = set()
    for site in sandbox_config.sites.values():
        conn = pymysql.connect(**site.connect_kwargs())
        with conn.cursor() as cur:
            cur.execute("SELECT @@server_id, @@datadir")
            ids.add(cur.fetchone())
        conn.close()
    assert len(ids) == 3


@pytest.fixture()
def cql(running: Sandbox, sandbox_config: Config):  # type: ignore[no-untyped-def]
    """A session of the sandbox's Cassandra admin (it creates a keyspace of its own)."""
    store = sandbox_config.store
    cluster = Cluster(
        list(store.contact_points), port=store.port, **running.cassandra_admin_options()
    )
    session = cluster.connect()
    yield session
    cluster.shutdown()


def test_keyspace_and_lwt_single_winner(cql) -> None:  # type: ignore[no-untyped-def]
    keyspace = "sandbox_lwt"
    cql.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    names = {
        row.keyspace_name
        for row in cql.execute("SELECT keyspace_name FROM system_schema.keyspaces")
    }
    assert keyspace in names
    cql.execute(f"CREATE TABLE IF NOT EXISTS {keyspace}.claims (k text PRIMARY KEY, owner int)")
    key = uuid.uuid4().hex
    insert = cql.prepare(f"INSERT INTO {keyspace}.claims (k, owner) VALUES (?, ?) IF NOT EXISTS")
    barrier = threading.Barrier(8)
    results: dict[int, bool] = {}

    def claim(worker: int) -> None:
        barrier.wait()
        results[worker] = cql.execute(insert, (key, worker)).was_applied

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 8
    winners = [w for w, applied in results.items() if applied]
    assert len(winners) == 1
    stored = cql.execute(f"SELECT owner FROM {keyspace}.claims WHERE k = %s", (key,)).one()
    assert stored.owner == winners[0]
