"""A 3-node Cassandra sandbox with RF=3 behaves as QUORUM promises.

One node down: QUORUM writes still succeed. Two down: they fail with
Unavailable. One of them back through ``sandbox start``: they succeed again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cassandra import ConsistencyLevel, Unavailable, WriteTimeout
from cassandra.cluster import Cluster, NoHostAvailable, Session
from cassandra.policies import ConstantReconnectionPolicy
from cassandra.query import SimpleStatement

from mdbc_py.sandbox import Sandbox

pytestmark = pytest.mark.slow


@pytest.fixture()
def session(three_nodes: Sandbox) -> Iterator[Session]:
    hosts = [s.address.split(":")[0] for s in three_nodes.status()]
    cluster = Cluster(  # as the admin: it creates a keyspace of its own
        hosts,
        port=9042,
        reconnection_policy=ConstantReconnectionPolicy(0.5),
        connect_timeout=3,
        **three_nodes.cassandra_admin_options(),
    )
    sess = cluster.connect()
    sess.execute(
        "CREATE KEYSPACE IF NOT EXISTS quorum_check WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 3}"
    )
    sess.execute("CREATE TABLE IF NOT EXISTS quorum_check.t (k int PRIMARY KEY, v text)")
    yield sess
    cluster.shutdown()


def _write(session: Session, key: int) -> None:
    stmt = SimpleStatement(
        "INSERT INTO quorum_check.t (k, v) VALUES (%s, %s)",
        consistency_level=ConsistencyLevel.QUORUM,
    )
    session.execute(stmt, (key, f"value {key}"), timeout=10)


def _write_eventually(session: Session, key: int, seconds: float = 60.0) -> None:
    """Retry while the driver notices a topology change; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            _write(session, key)
            return
        except (Unavailable, WriteTimeout, NoHostAvailable):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _read_quorum(session: Session, key: int) -> str | None:
    stmt = SimpleStatement(
        "SELECT v FROM quorum_check.t WHERE k = %s", consistency_level=ConsistencyLevel.QUORUM
    )
    row = session.execute(stmt, (key,), timeout=10).one()
    return row.v if row else None


def test_quorum_survives_one_node_not_two(three_nodes: Sandbox, session: Session) -> None:
    _write(session, 1)
    assert _read_quorum(session, 1) == "value 1"

    three_nodes.kill("node3")
    _write_eventually(session, 2)
    assert _read_quorum(session, 2) == "value 2"

    three_nodes.kill("node2")
    with pytest.raises((Unavailable, NoHostAvailable, WriteTimeout)):
        # The coordinator knows at once (gossip) or after a short wait that two
        # of three replicas are gone; either way the write must not succeed.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _write(session, 3)
            time.sleep(0.5)

    three_nodes.start("node2")
    _write_eventually(session, 4)
    assert _read_quorum(session, 4) == "value 4"
    assert _read_quorum(session, 1) == "value 1"

    three_nodes.start("node3")
    _write_eventually(session, 5)
