"""A replica behind the trimmed log: status says so, resync --full repairs it, verify agrees."""

from __future__ import annotations

import json
import time

import mdbc_py
from tests.chaos.conftest import Cluster
from tests.chaos.test_admin_cli import mdbc


def _write(cluster: Cluster, db: str, n: int) -> None:
    conn = mdbc_py.connect(site="dc1", config=cluster.cfg, database=db)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v LONGBLOB, d DOUBLE)")
        for i in range(n):
            cur.execute("INSERT INTO t VALUES (%s, %s, %s)", (i, bytes([i % 256]) * 5000, i / 7))
            conn.commit()
    finally:
        conn.close()


def test_trimmed_replica_needs_and_gets_a_full_resync(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster = make_cluster(agents=False)
    db = cluster.ranges[0]
    cluster.start_agent("dc1")
    cluster.wait_owner_leases()
    cluster.start_agent("dc2")  # dc3 stays stopped
    _write(cluster, db, 40)
    tail = cluster.wait_caught_up(db, ["dc1", "dc2"])
    time.sleep(2.0)
    for site in ("dc1", "dc2"):  # what the running agents keep doing anyway
        cluster.store.heartbeat(site)
    point = cluster.store.trim(db, margin=0, stale_after=1.5)
    positions = cluster.store.applied_positions(db)
    assert point == tail, f"trimming waited: {positions}, {cluster.store.list_sites()}"

    rows = json.loads(mdbc(cluster, "status", "-o", "json").stdout)
    state = {(r["range"], r["site"]): r["state"] for r in rows}
    assert state[(db, "dc3")] == "needs-resync"

    plain = mdbc(cluster, "resync", "--site", "dc3")
    assert plain.returncode == 1 and "--full" in plain.stderr

    owner = mdbc(cluster, "resync", "--site", "dc1", "--range", db)
    assert owner.returncode == 1 and "owner" in owner.stderr

    full = mdbc(cluster, "resync", "--site", "dc3", "--full", "-o", "json")
    assert full.returncode == 0, full.stderr
    (result,) = json.loads(full.stdout)
    assert result["full"] is True and result["position"] == tail
    assert result["rows_copied"] >= 40

    cluster.start_agent("dc3")
    verified = mdbc(cluster, "verify", db, "-o", "json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    (report,) = json.loads(verified.stdout)
    assert report["ok"] is True and report["seq"] == tail
