"""Failures of a whole site, with agents running and writers committing.

What each test tries to break: no acknowledged commit lost (RPO 0), no split
brain, replicas converge byte for byte, failover happens by itself (and not
when paused), and a switchover costs a transaction at most one retry.
"""

from __future__ import annotations

import signal
import time

import pymysql
import pytest

import mdbc_py
from mdbc_py.music import RangeState
from tests.chaos.conftest import Cluster, site_position, table_digest

SITES = ["dc1", "dc2", "dc3"]


def _create_table(cluster: Cluster, db: str, table: str = "work") -> None:
    conn = mdbc_py.connect(site="dc1", config=cluster.cfg, database=db)
    try:
        conn.cursor().execute(
            f"CREATE TABLE `{table}` (id BIGINT PRIMARY KEY, worker INT, v VARCHAR(200))"
        )
    finally:
        conn.close()


def _ids_at(cluster: Cluster, site: str, db: str, table: str = "work") -> set[int]:
    conn = pymysql.connect(**cluster.cfg.site(site).connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id FROM `{db}`.`{table}`")
            return {int(r[0]) for r in cur.fetchall()}
    finally:
        conn.close()


def _converged(cluster: Cluster, db: str, sites: list[str], table: str = "work") -> None:
    cluster.wait_caught_up(db, sites)
    digests = {s: table_digest(cluster.cfg, s, db, table) for s in sites}
    assert len(set(digests.values())) == 1, f"replicas differ: {digests}"


def test_replicas_follow_a_loaded_owner_and_converge(make_cluster, writer_factory) -> None:  # type: ignore[no-untyped-def]
    cluster = make_cluster()
    db = cluster.ranges[0]
    _create_table(cluster, db)
    writer = writer_factory(cluster.cfg, db, "work", threads=4).start()
    max_lag = 0
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        tail = cluster.store.describe_range(db).tail
        lag = max(tail - site_position(cluster.cfg, s, db) for s in ("dc2", "dc3"))
        max_lag = max(max_lag, lag)
        time.sleep(0.25)
    writer.finish()
    assert len(writer.acked) > 50 and not writer.failed, writer.failed[:3]
    assert max_lag < 2000, f"replicas fell {max_lag} entries behind"
    _converged(cluster, db, SITES)
    assert _ids_at(cluster, "dc3", db) == set(writer.acked)


def test_kill_owner_database_fails_over_without_losing_a_commit(
    make_cluster, writer_factory
) -> None:  # type: ignore[no-untyped-def]
    cluster = make_cluster()
    db = cluster.ranges[0]
    _create_table(cluster, db)
    writer = writer_factory(cluster.cfg, db, "work", threads=4).start()
    time.sleep(2)
    killed_at = time.monotonic()
    cluster.sandbox.kill("dc1")
    new_owner = cluster.wait_owner(db, not_site="dc1")
    promoted_after = time.monotonic() - killed_at
    time.sleep(2)  # writers go on at the new owner
    writer.finish()
    assert not writer.failed, writer.failed[:3]
    at_owner = _ids_at(cluster, new_owner, db)
    missing = set(writer.acked) - at_owner
    assert not missing, f"acknowledged commits lost: {sorted(missing)[:10]}"
    assert promoted_after < 15, f"failover took {promoted_after:.1f} s"
    history = cluster.store.history(db)
    assert history[0].to_site == new_owner and "dc1" in history[0].reason

    cluster.sandbox.start("dc1")  # the old owner rejoins as a replica and catches up
    _converged(cluster, db, SITES)
    assert _ids_at(cluster, "dc1", db) == set(writer.acked)


def test_owner_cut_off_from_the_store_cannot_commit(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster = make_cluster(mode="master-slave")
    db = cluster.ranges[0]
    _create_table(cluster, db)
    conn = mdbc_py.connect(site="dc1", config=cluster.cfg, database=db)
    cur = conn.cursor()
    cur.execute("INSERT INTO work (id, worker, v) VALUES (1, 0, 'in flight')")
    cluster.signal_agent("dc1", signal.SIGSTOP)  # the owner's agent hangs: no lease renewals
    try:
        new_owner = cluster.wait_owner(db, not_site="dc1")
        with pytest.raises(mdbc_py.FencedError):
            conn.commit()
        assert _ids_at(cluster, "dc1", db) == set()
        assert 1 not in _ids_at(cluster, new_owner, db)
        with pytest.raises(mdbc_py.NotOwnerError, match=new_owner):
            cur.execute("INSERT INTO work (id, worker, v) VALUES (2, 0, 'after')")
    finally:
        cluster.signal_agent("dc1", signal.SIGCONT)
        conn.close()


def test_pause_prevents_failover_and_resume_restores_it(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster = make_cluster()
    db = cluster.ranges[0]
    cluster.store.put_setting("failover.paused", "1")
    try:
        cluster.stop_agent("dc1")  # the owner's lease lapses
        time.sleep(6)
        info = cluster.store.describe_range(db)
        assert (info.owner, info.epoch) == ("dc1", 1), "failover happened while paused"
    finally:
        cluster.store.put_setting("failover.paused", None)
    assert cluster.wait_owner(db, not_site="dc1", seconds=20) in ("dc2", "dc3")


def test_switchover_under_load_loses_nothing_and_costs_at_most_one_retry(
    make_cluster, writer_factory
) -> None:  # type: ignore[no-untyped-def]
    from mdbc_py.replication.promote import switchover

    cluster = make_cluster()
    db = cluster.ranges[0]
    _create_table(cluster, db)
    writer = writer_factory(cluster.cfg, db, "work", threads=4).start()
    time.sleep(1.5)
    result = switchover(cluster.cfg, cluster.store, db, "dc2")
    time.sleep(1.5)
    writer.finish()
    assert result.change.to_site == "dc2"
    assert cluster.store.describe_range(db).state is RangeState.OPEN
    assert not writer.failed, writer.failed[:3]
    assert max(writer.errors.values()) <= 1, {k: v for k, v in writer.errors.items() if v > 1}
    missing = set(writer.acked) - _ids_at(cluster, "dc2", db)
    assert not missing, f"acknowledged commits lost: {sorted(missing)[:10]}"
    _converged(cluster, db, SITES)
