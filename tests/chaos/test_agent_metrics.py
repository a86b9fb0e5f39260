"""The agent's series against real services: lag, needs-resync, owner and lease, failover reasons.

Agents run in this process, and most tests drive ``Agent.tick()`` by hand, so
that what a series shows follows from what the test did and not from how fast
a thread ran: lag after writes at the owner (a replica allowed only two
entries a tick), needs-resync while the site is marked, the owner's name and
the owner changes by reason after a promotion and a switchover, a lease that
nobody renews running out. One test lets two agents loop to see a real
failover counted with its reason.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pymysql
import pytest

import mdbc_py
from mdbc_py.config import Config
from mdbc_py.core import positions
from mdbc_py.errors import StoreUnavailableError
from mdbc_py.metrics import OWNER_CHANGE_REASONS
from mdbc_py.replication.agent import Agent, AgentSettings
from mdbc_py.replication.promote import promote, switchover
from tests.chaos.agent_support import InProcessAgents, agent_groups, wait_for
from tests.chaos.conftest import Cluster

SETTINGS = AgentSettings(lease_ttl=2.0, renew_every=0.5, interval=0.2)


@pytest.fixture()
def agents_made() -> Iterator[list[Agent]]:
    """Agents a test builds to tick by hand; their store sessions are closed afterwards."""
    made: list[Agent] = []
    yield made
    for agent in made:  # hand the site back at once: the next test's agent claims it
        with contextlib.suppress(StoreUnavailableError):
            agent.store.release_agent(agent.site, agent.instance)
        agent.store.close()


def _agent(cfg: Config, site: str, made: list[Agent], **settings: float) -> Agent:
    agent = Agent(cfg, site, replace(SETTINGS, **settings))  # type: ignore[arg-type]
    made.append(agent)
    return agent


def _value(agent: Agent, name: str, **labels: str) -> float | None:
    return agent.metrics.registry.get_sample_value(name, {"site": agent.site, **labels})


def _write(cfg: Config, db: str, rows: int, start: int = 1) -> None:
    """Create the table (first call) and insert ``rows`` rows at dc1, one commit each."""
    conn = mdbc_py.connect(site="dc1", config=cfg, database=db)
    try:
        cur = conn.cursor()
        if start == 1:
            cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20))")
        for ident in range(start, start + rows):
            cur.execute("INSERT INTO t (id, v) VALUES (%s, 'x')", (ident,))
            conn.commit()
    finally:
        conn.close()


def _set_state(cfg: Config, site: str, name: str, value: str | None) -> None:
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), autocommit=True)
    try:
        with conn.cursor() as cur:
            if value is None:
                cur.execute("DELETE FROM mdbc.site_state WHERE name = %s", (name,))
            else:
                positions.set_state(cur, name, value)
    finally:
        conn.close()


def test_lag_in_entries_and_seconds_after_writes_at_the_owner(
    make_cluster: Callable[..., Cluster], agents_made: list[Agent]
) -> None:
    cluster = make_cluster(agents=False)
    db = cluster.ranges[0]
    _write(cluster.cfg, db, 5)  # the DDL and five inserts: entries 1-6
    tail = cluster.store.describe_range(db).tail
    assert tail == 6
    replica = _agent(cluster.cfg, "dc2", agents_made, max_entries_per_tick=2)
    sel = {"range": db}

    replica.tick()
    assert _value(replica, "mdbc_applied_seq", **sel) == 2
    assert _value(replica, "mdbc_lag_entries", **sel) == tail - 2
    assert _value(replica, "mdbc_log_tail", **sel) == tail
    time.sleep(0.3)  # the entries wait; the clock of the agent moves on
    replica.tick()
    assert _value(replica, "mdbc_lag_entries", **sel) == tail - 4
    assert (_value(replica, "mdbc_lag_seconds", **sel) or 0) > 0
    assert _value(replica, "mdbc_apply_batch_entries_count", **sel) == 2
    assert _value(replica, "mdbc_apply_batch_entries_sum", **sel) == 4
    assert _value(replica, "mdbc_apply_seconds_count", **sel) == 2
    assert _value(replica, "mdbc_entries_applied_total", **sel) == 4

    replica.tick()
    assert _value(replica, "mdbc_lag_entries", **sel) == 0
    assert _value(replica, "mdbc_lag_seconds", **sel) == 0
    assert _value(replica, "mdbc_needs_resync", **sel) == 0
    assert _value(replica, "mdbc_trim_seq", **sel) == 0


def test_needs_resync_and_resync_progress_while_the_site_is_marked(
    make_cluster: Callable[..., Cluster], agents_made: list[Agent]
) -> None:
    cluster = make_cluster(agents=False)
    db = cluster.ranges[0]
    _write(cluster.cfg, db, 2)
    replica = _agent(cluster.cfg, "dc3", agents_made)
    sel = {"range": db}
    _set_state(cluster.cfg, "dc3", f"needs-resync:{db}", "full resync from dc1 in progress")
    _set_state(cluster.cfg, "dc3", f"resync-progress:{db}", "40 100")
    try:
        replica.tick()
        assert _value(replica, "mdbc_needs_resync", **sel) == 1
        assert _value(replica, "mdbc_applied_seq", **sel) == 0  # a marked site does not replay
        assert _value(replica, "mdbc_resync_copied_rows", **sel) == 40
        assert _value(replica, "mdbc_resync_snapshot_rows", **sel) == 100
    finally:
        _set_state(cluster.cfg, "dc3", f"needs-resync:{db}", None)
        _set_state(cluster.cfg, "dc3", f"resync-progress:{db}", None)
    replica.tick()
    assert _value(replica, "mdbc_needs_resync", **sel) == 0
    assert _value(replica, "mdbc_resync_copied_rows", **sel) == 0
    assert _value(replica, "mdbc_applied_seq", **sel) == 3


def _owner_info(agent: Agent, db: str) -> dict[str, str]:
    """The labels of the agent's one ``mdbc_range_owner_info`` series of ``db``."""
    found = [
        s.labels
        for family in agent.metrics.registry.collect()
        if family.name == "mdbc_range_owner"
        for s in family.samples
        if s.labels["range"] == db
    ]
    assert len(found) == 1, found
    return found[0]


def test_owner_info_and_owner_changes_by_reason_after_promotion_and_switchover(
    make_cluster: Callable[..., Cluster], agents_made: list[Agent]
) -> None:
    cluster = make_cluster(agents=False)
    db = cluster.ranges[0]
    _write(cluster.cfg, db, 1)
    watcher = _agent(cluster.cfg, "dc2", agents_made)
    sel = {"range": db}
    watcher.tick()
    assert _owner_info(watcher, db) == {"site": "dc2", "range": db, "owner": "dc1",
                                        "state": "open"}  # fmt: skip
    assert _value(watcher, "mdbc_is_owner", **sel) == 0

    promote(cluster.cfg, cluster.store, db, "dc3", force=True)
    watcher.tick()
    assert _owner_info(watcher, db)["owner"] == "dc3"
    assert _owner_info(watcher, db)["state"] == "open"
    assert _value(watcher, "mdbc_epoch", **sel) == 2

    switchover(cluster.cfg, cluster.store, db, "dc2", drain_seconds=0.5)
    watcher.tick()
    assert _owner_info(watcher, db)["owner"] == "dc2"
    assert _value(watcher, "mdbc_is_owner", **sel) == 1
    counted = {
        reason: _value(watcher, "mdbc_owner_changes_total", range=db, reason=reason)
        for reason in OWNER_CHANGE_REASONS
    }
    assert counted == {r: (1 if r in ("manual_promote", "switchover") else 0)
                       for r in OWNER_CHANGE_REASONS}  # fmt: skip
    assert _value(watcher, "mdbc_failovers_total", **sel) == 0  # no automatic promotion


def test_lease_remaining_runs_out_when_nobody_renews_it(
    make_cluster: Callable[..., Cluster], agents_made: list[Agent]
) -> None:
    cluster = make_cluster(agents=False)  # no owner agent: the lease is never renewed
    db = cluster.ranges[0]
    ttl = 0.5
    replica = _agent(cluster.cfg, "dc2", agents_made, lease_ttl=ttl)
    cluster.store.put_setting("failover.paused", "1")  # watch, never promote
    try:
        replica.tick()
        first = _value(replica, "mdbc_lease_remaining_seconds", range=db)
        assert first is not None and 0 < first <= ttl
        time.sleep(ttl + 0.1)
        replica.tick()
        assert _value(replica, "mdbc_lease_remaining_seconds", range=db) == 0
    finally:
        cluster.store.put_setting("failover.paused", None)


def _lease(agent: Agent, db: str) -> float:
    return _value(agent, "mdbc_lease_remaining_seconds", range=db) or 0.0


@pytest.fixture()
def in_process_agents() -> Iterator[Callable[[Config], InProcessAgents]]:
    yield from agent_groups()


def test_a_failover_is_counted_with_its_reason_and_the_new_owner_holds_the_lease(
    make_cluster: Callable[..., Cluster],
    in_process_agents: Callable[[Config], InProcessAgents],
) -> None:
    cluster = make_cluster(agents=False)
    db = cluster.ranges[0]
    _write(cluster.cfg, db, 1)
    group = in_process_agents(cluster.cfg)
    owner = group.start("dc1")
    replica = group.start("dc2")
    wait_for("dc1 holds the lease", lambda: cluster.store.get_lease(db))
    wait_for("dc1 reports its lease", lambda: _lease(owner, db) > 0)
    assert owner.liveness()["live"] is True
    group.stop("dc1")  # its lease lapses: dc2 takes over
    assert owner.liveness()["live"] is False
    wait_for("dc2 owns the range", lambda: _value(replica, "mdbc_is_owner", range=db) == 1)
    labels = {"range": db}
    assert _value(replica, "mdbc_failovers_total", **labels) == 1
    assert _value(replica, "mdbc_failovers_by_reason_total", reason="lease_expired", **labels) == 1
    assert _value(replica, "mdbc_failovers_by_reason_total", reason="database_down", **labels) == 0
    wait_for("dc2 reports its own lease", lambda: _lease(replica, db) > 0)
    assert replica.liveness()["live"] is True
