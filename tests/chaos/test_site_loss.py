"""Whole-site loss: the owner's agent and its MariaDB die together (kill -9) under load.

When only the database dies, the owner's agent reports it and releases its
lease at once. When the whole site dies nobody says anything: the replicas
must notice the lease lapse by themselves, promote, and the writers (in mode
``route``) follow the new owner. Nothing acknowledged may be lost, and the
old site, once back, rejoins as a replica and converges.
"""

from __future__ import annotations

import time

from tests.chaos.conftest import Cluster


def _first_ack_at(cluster: Cluster, site: str, when: float) -> float | None:
    """Wall time of the first commit acknowledged at ``site`` and begun after ``when``."""
    from tests.chaos.history import load_attempts

    acks = [
        a.ended
        for a in load_attempts(w.out for w in cluster.writers).values()
        if a.outcome == "ack" and a.site == site and (a.commit_at or 0) > when and a.ended
    ]
    return min(acks) if acks else None


def test_whole_owner_site_killed_under_load_loses_nothing(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(mode="route")
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    for site in ("dc1", "dc2", "dc3"):  # route: each writer commits at the owner, wherever it is
        cluster.start_writer(f"w{site}", site).wait_acks()
    cluster.kill_agent("dc1")
    cluster.sandbox.kill("dc1")
    killed_at = time.time()
    new_owner = cluster.wait_owner(db, not_site="dc1", seconds=30)
    deadline = time.monotonic() + 30
    while (first := _first_ack_at(cluster, new_owner, killed_at)) is None:
        assert time.monotonic() < deadline, (
            f"no commit acknowledged after the kill\n{cluster.agent_logs()}"
        )
        time.sleep(0.2)
    print(f"[site-loss] new owner {new_owner}; first commit acknowledged "
          f"{first - killed_at:.2f} s after the kill", flush=True)  # fmt: skip
    time.sleep(1.5)  # writers go on at the new owner
    cluster.sandbox.start("dc1")  # the old site comes back and rejoins as a replica
    cluster.start_agent("dc1")
    report = cluster.check_history()
    assert report.ok, str(report)
    assert report.counts["ack"] > 0 and report.n_lost == 0 and report.n_duplicated == 0
    info = cluster.store.describe_range(db)
    assert info.owner == new_owner and info.epoch == 2
