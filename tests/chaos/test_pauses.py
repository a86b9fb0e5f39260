"""Pauses: the owner's agent and a writer process frozen (SIGSTOP) past the lease TTL.

A frozen process is the hardest case for fencing: it does not know time
passed, and when it wakes up (SIGCONT) it carries on with the epoch it held,
in the middle of whatever it was doing, maybe between its append and its
local COMMIT. Another site must have taken over meanwhile, and nothing the
frozen writer commits after the fence may be acknowledged: the store refuses
its old epoch. The history checker proves it three ways: no acknowledged
commit at the old owner begun after the fence, no log entry of the old epoch
after the fence's tail, and every acknowledged transaction at every site.
"""

from __future__ import annotations

import signal
import time

from tests.chaos.conftest import Cluster


def test_frozen_owner_agent_and_writer_cannot_commit_after_the_fence(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(mode="master-slave")
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    frozen = cluster.start_writer("frozen", "dc1", threads=2)  # bound to dc1 (master-slave)
    frozen.wait_acks(20)
    cluster.signal_agent("dc1", signal.SIGSTOP)
    frozen.proc.send_signal(signal.SIGSTOP)
    try:
        new_owner = cluster.wait_owner(db, not_site="dc1", seconds=30)
        fence = cluster.store.history(db)[0]
        assert (fence.from_site, fence.to_site) == ("dc1", new_owner)
        time.sleep(1)  # the new owner is open; the frozen ones still hold epoch 1
    finally:
        frozen.proc.send_signal(signal.SIGCONT)
        cluster.signal_agent("dc1", signal.SIGCONT)
    resumed_at = time.time()
    time.sleep(3)  # the woken writer tries again and again at dc1
    woken = [a for a in frozen_attempts(frozen) if a.ended and a.ended > resumed_at]
    assert woken, "the woken writer finished no attempt at dc1"
    begun_after = [a for a in woken if a.started > resumed_at]
    assert begun_after and all(a.outcome == "refused" for a in begun_after), [
        (a.tx, a.outcome, a.error) for a in begun_after if a.outcome != "refused"
    ][:5]
    report = cluster.check_history(fenced={"dc1": fence.at})
    assert report.ok, str(report)
    assert report.n_lost == 0 and report.n_duplicated == 0 and not report.late_acks
    info = cluster.store.describe_range(db)
    assert (info.owner, info.epoch) == (new_owner, 2), "the woken agent took the range back"


def frozen_attempts(writer):  # type: ignore[no-untyped-def]
    from tests.chaos.history import load_attempts

    return list(load_attempts([writer.out]).values())
