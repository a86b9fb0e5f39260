"""The history checker finds what it is meant to find (so that its "lost 0" means something).

A short clean run, then a history and databases tampered with on purpose:
an acknowledged transaction that does not exist, a refused one that does,
a row written twice, an unknown one at a single site (also a checksum
difference), a row nobody attempted, and an acknowledgement after a fence.
"""

from __future__ import annotations

import json
import time

import pymysql

import mdbc_py
from tests.chaos.conftest import Cluster
from tests.chaos.history import check, load_attempts


def _insert(cluster: Cluster, db: str, tx: str) -> None:
    conn = mdbc_py.connect(site="dc1", config=cluster.cfg, database=db)
    try:
        conn.cursor().execute("INSERT INTO hist (tx, writer, v) VALUES (%s, 'test', 'x')", (tx,))
        conn.commit()
    finally:
        conn.close()


def test_checker_passes_a_clean_run_and_flags_every_kind_of_violation(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(mode="master-slave")
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    writer = cluster.start_writer("w", "dc1")
    writer.wait_acks()
    clean = cluster.check_history()
    assert clean.ok and clean.counts["ack"] > 0, str(clean)

    fence = max(a.ended or a.started for a in load_attempts([writer.out]).values()) + 0.001
    now = time.time()
    fake = cluster.logs / "tampered.jsonl"
    lines = [
        {"ev": "start", "tx": "t.lost", "t": now},
        {"ev": "end", "tx": "t.lost", "outcome": "ack", "t": now, "commit_at": now, "site": "dc2"},
        {"ev": "start", "tx": "t.kept", "t": now},
        {"ev": "end", "tx": "t.kept", "outcome": "refused", "t": now, "site": "dc1"},
        {"ev": "start", "tx": "t.twice", "t": now},
        {"ev": "end", "tx": "t.twice", "outcome": "ack", "t": now, "commit_at": now, "site": "dc2"},
        {"ev": "start", "tx": "t.partial", "t": now},
        {"ev": "start", "tx": "t.late", "t": now},
        {"ev": "end", "tx": "t.late", "outcome": "ack", "t": now, "commit_at": now, "site": "dc1"},
    ]
    fake.write_text("".join(json.dumps(x) + "\n" for x in lines))
    _insert(cluster, db, "t.kept")
    _insert(cluster, db, "t.twice")
    _insert(cluster, db, "t.twice")
    _insert(cluster, db, "t.late")
    _insert(cluster, db, "t.phantom")
    cluster.wait_caught_up(db, ["dc1", "dc2", "dc3"])  # else dc3's own row takes a replayed id
    dc3 = pymysql.connect(**cluster.cfg.site("dc3").connect_kwargs(), autocommit=True)
    try:  # behind the driver's back, at one replica only
        dc3.cursor().execute(
            f"INSERT INTO `{db}`.hist (tx, writer, v) VALUES ('t.partial', 'test', 'x')"
        )
    finally:
        dc3.close()

    report = check(
        cluster.cfg, cluster.store, db, [writer.out, fake], fenced={"dc1": fence}, timeout=30
    )
    print(report)
    assert not report.ok
    assert report.n_lost == 1 and set(report.lost) == {"dc1", "dc2", "dc3"}
    assert report.n_duplicated == 1 and report.duplicated["dc2"] == ["t.twice"]
    assert report.refused_present["dc1"] == ["t.kept"]
    assert report.unknown_partial == ["t.partial at ['dc3'] only"]
    assert report.phantoms["dc1"] == ["t.phantom"]
    assert [s.split(":")[0] for s in report.late_acks] == ["t.late"]
    assert any(p.startswith("dc3") for p in report.verify_problems), report.verify_problems
    assert "lost 1, duplicated 1" in report.summary()
