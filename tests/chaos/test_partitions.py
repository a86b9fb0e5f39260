"""Partitions, one-way loss, latency and resets on the links, through fault-injecting proxies.

The links are the ones a real deployment has: an application to its MariaDB,
the driver (in the application) to Cassandra, an agent to Cassandra. Each
process under test gets a config file whose address for that link is a
:class:`~tests.chaos.faults.Link`; every other process talks to the services
directly. With one Cassandra node the driver keeps using the contact point
(the proxy) for it; each test checks that traffic really went through the
link, so a partition that silently routed around the proxy cannot pass.

Every test ends with the history checker: 0 lost, 0 duplicated, refusals
that kept nothing, unknown outcomes all or nothing, equal checksums.
"""

from __future__ import annotations

import time

import pymysql

from tests.chaos.conftest import Cluster, WriterProcess, wait_until
from tests.chaos.faults import Faults, Link
from tests.chaos.history import Attempt, load_attempts


def _store_target(cluster: Cluster) -> tuple[str, int]:
    return cluster.cfg.store.contact_points[0], cluster.cfg.store.port


def _attempts(*writers: WriterProcess) -> list[Attempt]:
    return list(load_attempts(w.out for w in writers).values())


def _start_agents(cluster: Cluster, proxied: dict[str, Link]) -> None:
    """One agent per site, the owner's first; the sites in ``proxied`` reach the store
    through their link."""
    for site in sorted(cluster.cfg.sites, key=lambda s: s != "dc1"):
        link = proxied.get(site)
        config = cluster.variant(f"agent-{site}", store=link) if link else None
        cluster.start_agent(site, config=config)
        if site == "dc1":
            cluster.wait_owner_leases()


def _wait_lease(cluster: Cluster, site: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lease = cluster.store.get_lease(cluster.ranges[0])
        if lease is not None and lease.holder == site:
            return
        time.sleep(0.1)
    raise AssertionError(f"{site} never took its lease\n{cluster.agent_logs()}")


def test_owner_blackholed_from_the_store_stops_acknowledging_and_is_fenced(
    make_cluster, faults: Faults
) -> None:  # type: ignore[no-untyped-def]
    """The owner's agent and its writers lose Cassandra (no RST: silence), not MariaDB.

    The owner cannot renew its lease, a replica takes over, and the cut-off
    writer cannot get anything acknowledged: its appends never arrive, and
    once the link heals they arrive with the old epoch and are refused.
    """
    cluster: Cluster = make_cluster(mode="route", agents=False)
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    agent_link = faults.link("dc1-agent-store", _store_target(cluster))
    app_link = faults.link("dc1-app-store", _store_target(cluster))
    _start_agents(cluster, {"dc1": agent_link})
    _wait_lease(cluster, "dc1")
    cut_off = cluster.start_writer("dc1", "dc1", config=cluster.variant("app-dc1", store=app_link))
    healthy = cluster.start_writer("dc3", "dc3")  # mode route: commits at the owner
    cut_off.wait_acks()
    healthy.wait_acks()
    assert agent_link.bytes["up"] > 0 and app_link.bytes["up"] > 0, "traffic bypassed the links"

    cut_at = time.time()
    agent_link.blackhole()
    app_link.blackhole()
    new_owner = cluster.wait_owner(db, not_site="dc1", seconds=40)
    fence = cluster.store.history(db)[0]
    time.sleep(2)  # the new owner serves the healthy writer; dc1's side hears nothing
    healed_at = time.time()
    agent_link.heal()
    app_link.heal()
    time.sleep(3)  # held appends arrive with epoch 1 and are refused; dc1 rejoins as a replica

    during = [a for a in _attempts(cut_off) if a.commit_at and cut_at < a.commit_at < healed_at]
    acked = [a.tx for a in during if a.outcome == "ack"]
    assert not acked, f"the cut-off owner acknowledged commits: {acked[:5]}"
    served = [a for a in _attempts(healthy) if a.outcome == "ack" and a.site == new_owner]
    assert served, f"the healthy writer got no commit acknowledged at {new_owner}"
    report = cluster.check_history(fenced={"dc1": fence.at})
    assert report.ok, str(report)
    assert report.n_lost == 0 and report.n_duplicated == 0
    info = cluster.store.describe_range(db)
    assert (info.owner, info.epoch) == (new_owner, 2), "the old owner took the range back"
    wait_until(lambda: _read_only(cluster, "dc1"), "the old owner's MariaDB is still writable")


def _read_only(cluster: Cluster, site: str) -> bool:
    conn = pymysql.connect(**cluster.cfg.site(site).connect_kwargs(), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@global.read_only")
            return bool(cur.fetchone()[0])
    finally:
        conn.close()


def test_replica_losing_the_stores_replies_catches_up_after_the_heal(
    make_cluster, faults: Faults
) -> None:  # type: ignore[no-untyped-def]
    """One-way loss: dc3's agent is heard by Cassandra but hears nothing back, for 4 s.

    The owner goes on acknowledging (a replica is not on the commit path),
    nobody fails over, and once healed dc3 replays what it missed.
    """
    cluster: Cluster = make_cluster(mode="master-slave", agents=False)
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    link = faults.link("dc3-agent-store", _store_target(cluster))
    _start_agents(cluster, {"dc3": link})
    writer = cluster.start_writer("dc1", "dc1")
    writer.wait_acks()
    wait_until(lambda: link.bytes["down"] > 0, "dc3's agent did not reach the store via the link")
    cluster.wait_caught_up(db, ["dc3"])  # dc3 replays through the link before it is cut
    cut_at = time.time()
    link.lose("down")
    time.sleep(4)
    healed_at = time.time()
    link.heal()
    during = [
        a
        for a in _attempts(writer)
        if a.outcome == "ack" and a.ended and cut_at < a.ended < healed_at
    ]
    assert during, "the owner stopped acknowledging while a replica was partitioned"
    time.sleep(2)
    report = cluster.check_history()
    assert report.ok, str(report)
    assert report.n_lost == 0 and report.n_duplicated == 0
    info = cluster.store.describe_range(db)
    assert (info.owner, info.epoch) == ("dc1", 1), "a partitioned replica caused a failover"


def test_store_slower_than_the_commit_timeout_fails_commits_clearly(
    make_cluster, faults: Faults
) -> None:  # type: ignore[no-untyped-def]
    """1.5 s of latency each way on the writer's store link, its store timeout 1 s, for 18 s.

    Commits begun while the store is slow fail with a retryable error
    (nothing kept) or ``CommitOutcomeUnknownError``, never anything vaguer,
    and an append that did land while its writer gave up is applied
    everywhere (the owner's agent fills the hole) or nowhere.

    Measured: an append that times out is not failed at once. The store
    then reads the log at SERIAL to learn whether it happened, retrying for
    ``RESOLVE_SECONDS`` (15 s), so a commit fails only after about 16 s of
    a slow store; a store that recovers within that time turns the commit
    into a late success. Hence the 18 s of latency here.
    """
    cluster: Cluster = make_cluster(mode="master-slave")
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    link = faults.link("dc1-app-store", _store_target(cluster))
    writer = cluster.start_writer(
        "dc1", "dc1", config=cluster.variant("app-dc1", store=link), extra=["--store-timeout", "1"]
    )
    writer.wait_acks()
    assert link.bytes["up"] > 0, "the writer's commits bypassed the link"
    slow_at = time.time()
    link.delay(1.5)
    time.sleep(18)
    healed_at = time.time()
    link.heal()
    time.sleep(3)
    report = cluster.check_history()
    slow = [a for a in _attempts(writer) if a.started < healed_at and (a.ended or 0) > slow_at]
    failed = [a for a in slow if a.outcome != "ack"]
    assert failed, "no commit failed while the store was slower than the timeout"
    kinds = {(a.error or "").split(":")[0] for a in failed}
    assert kinds <= {"CommitOutcomeUnknownError", "StoreUnavailableError"}, kinds
    assert report.ok, str(report)
    assert report.n_lost == 0 and report.n_duplicated == 0


def test_app_to_database_link_reset_under_load(make_cluster, faults: Faults) -> None:  # type: ignore[no-untyped-def]
    """The application's connections to its MariaDB are reset three times, at any point.

    A reset before COMMIT loses the transaction (refused); one at COMMIT
    leaves it unknown to the application, and it must then be all or
    nothing: an append whose local COMMIT was lost is applied from the log.
    """
    cluster: Cluster = make_cluster(mode="master-slave")
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    dc1 = cluster.cfg.site("dc1")
    link = faults.link("dc1-app-db", (dc1.host, dc1.port))
    config = cluster.variant("app-db", sites={"dc1": link})
    writer = cluster.start_writer("dc1", "dc1", config=config, threads=3)
    writer.wait_acks()
    assert link.bytes["up"] > 0, "the writer's sessions bypassed the link"
    for _ in range(3):
        link.cut()
        time.sleep(0.3)
        link.heal()
        time.sleep(1)
    report = cluster.check_history()
    outcomes = writer.outcomes()
    assert outcomes["ack"] > 0 and outcomes["refused"] + outcomes["unknown"] > 0, outcomes
    assert report.ok, str(report)
    assert report.n_lost == 0 and report.n_duplicated == 0
