"""A short SO workload with agents running: every acknowledged request everywhere, finished.

The workload writes through mdbc_py in mode ``route`` from threads homed at
every site; the agents replay into the replicas. After the drain the check
must find every acknowledged request at every site with the same status,
every flow ended, no job left, and every table identical; and it must not
miss a replica that lost a request.
"""

from __future__ import annotations

from mdbc_py.replication.agent import Agent
from mdbc_py.replication.sites import connect_site
from mdbc_py.workload import (
    Workload,
    WorkloadSettings,
    check,
    load_so_schemas,
    seed_so_data,
    wait_caught_up,
)
from mdbc_py.workload.model import COMPLETE, FAILED
from tests.integration.workload.conftest import SoCluster


def test_short_workload_with_agents_loses_nothing(so_cluster: SoCluster,
                                                  agents: list[Agent]) -> None:  # fmt: skip
    so = so_cluster
    load_so_schemas(so.cfg, so.dbs)
    seed_so_data(so.cfg, so.dbs)
    work = Workload(
        so.cfg,
        so.dbs,
        WorkloadSettings(api_threads=2, bpmn_workers=2, request_interval=0.1, fail_rate=0.1),
    )
    lines: list[str] = []
    drained = work.run(4.0, say=lines.append, drain=90)
    assert drained, "\n".join(lines[-5:])
    stats = work.stats.snapshot()
    assert stats["acked"] >= 3 and stats["acked"] == len(work.acked), stats
    assert not stats["errors"], stats
    # every thread wrote at the owner, dc1, whatever its home site
    assert {ack.site for ack in work.acked.values()} == {"dc1"}

    wait_caught_up(so.cfg, so.store, timeout=90)
    report = check(so.cfg, so.dbs, list(work.acked))
    assert report.ok, "\n".join(report.lines())
    assert report.lost == 0
    assert sum(report.states[s] for s in (COMPLETE, FAILED)) == stats["acked"]
    assert stats["completed"] + stats["incidents"] == stats["acked"], stats
    assert report.tables_compared >= 40

    # The check must see a replica that lost a request (deleted behind replay's back).
    lost = sorted(work.acked)[0]
    conn = connect_site(so.cfg, "dc3")
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"DELETE FROM `{so.dbs.request}`.`infra_active_requests` WHERE `REQUEST_ID` = %s",
                (lost,),
            )
        conn.commit()
    finally:
        conn.close()
    broken = check(so.cfg, so.dbs, list(work.acked))
    assert not broken.ok
    assert broken.missing == {"dc3": [lost]} and broken.lost == 1
    assert broken.differing == [lost]
    assert any("infra_active_requests" in m for m in broken.table_mismatch)
