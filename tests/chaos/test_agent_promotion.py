"""Promotions that take long or fail (issue 12, defects 4 and 2), with agents in process.

- A promotion whose catch-up outlasts the lease TTL used to be stolen by the
  next replica (owner flapping dc1 -> dc2 -> dc3): the new owner held no
  lease until it opened, and the replica's "lease missing since" clock was
  never reset when the owner changed.
- A replica whose database refuses an entry looped on the error while
  ``status`` said "streaming" and ``/health`` said healthy; a forced promote
  to it then left the range fenced with no usable owner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

import mdbc_py
from mdbc_py.admin.status import collect_status
from mdbc_py.config import Config
from mdbc_py.music import RangeState
from mdbc_py.replication import agent as agent_module
from mdbc_py.replication.promote import PromotionError, promote
from tests.chaos.agent_support import InProcessAgents, agent_groups, out_of_band, wait_for
from tests.chaos.conftest import Cluster, site_position

SITES = ("dc1", "dc2", "dc3")


@pytest.fixture()
def in_process_agents() -> Iterator[Callable[[Config], InProcessAgents]]:
    yield from agent_groups()


def _table(cluster: Cluster, db: str) -> None:
    conn = mdbc_py.connect(site="dc1", config=cluster.cfg, database=db)
    try:
        conn.cursor().execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20))")
    finally:
        conn.close()


def _insert(cluster: Cluster, db: str, site: str, ident: int) -> None:
    """One acknowledged insert, retried as an application would (after a change of owner)."""
    for attempt in mdbc_py.retrying(attempts=10, backoff=0.2):
        with attempt:
            conn = mdbc_py.connect(site=site, config=cluster.cfg, database=db)
            try:
                conn.cursor().execute("INSERT INTO t (id, v) VALUES (%s, 'x')", (ident,))
                conn.commit()
            finally:
                conn.close()


def _caught_up(cluster: Cluster, db: str, sites: tuple[str, ...]) -> bool:
    tail = cluster.store.describe_range(db).tail
    return all(site_position(cluster.cfg, s, db) >= tail for s in sites)


def test_slow_promotion_keeps_its_lease_and_is_not_stolen(
    make_cluster, in_process_agents: Callable[..., InProcessAgents], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(agents=False)
    db = cluster.ranges[0]
    _table(cluster, db)
    _insert(cluster, db, "dc1", 1)
    agents = in_process_agents(cluster.cfg)
    # A lease of 3 s renewed every 0.3 s: ten renewals must fail in a row before
    # it lapses, so a loaded test machine cannot fake the defect.
    settings = replace(agent_module.AgentSettings(), lease_ttl=3.0, renew_every=0.3)
    for site in SITES:
        agents.start(site, settings)
    wait_for("every site caught up", lambda: _caught_up(cluster, db, SITES))
    wait_for("dc1 holds the lease", lambda: cluster.store.get_lease(db) or None)

    real = agent_module.finish_or_hand_back
    slow = 3 * settings.lease_ttl  # the catch-up outlasts a lease

    def slow_catch_up(cfg, store, change, say=None):  # type: ignore[no-untyped-def]
        time.sleep(slow)
        return real(cfg, store, change)

    monkeypatch.setattr(agent_module, "finish_or_hand_back", slow_catch_up)
    cluster.sandbox.kill("dc1")
    first = wait_for(
        "a new owner won the epoch",
        lambda: (lambda i: i if i.owner != "dc1" else None)(cluster.store.describe_range(db)),
    )

    # The lease lives in another partition than the epoch, so it is taken by a
    # second write right after the win; it must be there well before the
    # catch-up (three lease TTLs) ends, or a replica would see no lease.
    def winner_holds_the_lease() -> bool:
        lease = cluster.store.get_lease(db)
        return lease is not None and (lease.holder, lease.epoch) == (first.owner, first.epoch)

    wait_for("the winner holds the lease while it catches up", winner_holds_the_lease,
             seconds=settings.lease_ttl / 2)  # fmt: skip
    wait_for(
        "the range open",
        lambda: cluster.store.describe_range(db).state is RangeState.OPEN,
        seconds=30,
    )
    time.sleep(2 * settings.lease_ttl)
    history = cluster.store.history(db)
    assert [(h.from_site, h.to_site) for h in history] == [("dc1", first.owner)], history
    rows = {r.site: r for r in collect_status(cluster.cfg, cluster.store)}
    assert rows[first.owner].lease.startswith(first.owner), rows[first.owner]
    assert not agents.failures, agents.failures


def _metric(text: str, name: str, db: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and f'range="{db}"' in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} for {db} not exported")


def test_replica_that_cannot_apply_says_so_and_forced_promote_leaves_a_usable_owner(
    make_cluster, in_process_agents: Callable[..., InProcessAgents]
) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(agents=False)
    db = cluster.ranges[0]
    _table(cluster, db)
    agents = in_process_agents(cluster.cfg)
    for site in SITES:
        agents.start(site)
    wait_for("every site has the table", lambda: _caught_up(cluster, db, SITES))
    out_of_band(cluster.cfg, "dc2", f"INSERT INTO `{db}`.t (id, v) VALUES (7, 'oob')")
    _insert(cluster, db, "dc1", 7)
    seq = cluster.store.describe_range(db).tail

    dc2 = agents.agents["dc2"]
    wait_for("dc2's health reports the refused entry", lambda: not dc2.health()["healthy"])
    health = dc2.health()
    problem = health["ranges"][db]["apply_error"]
    assert (problem["code"], problem["seq"]) == (1062, seq), health
    assert health["ranges"][db]["state"] == "apply-error"
    exposition = dc2.metrics.exposition().decode()
    assert _metric(exposition, "mdbc_apply_error_code", db) == 1062
    assert _metric(exposition, "mdbc_apply_error_seq", db) == seq
    assert "password" not in exposition

    def dc2_row() -> object:
        rows = {r.site: r for r in collect_status(cluster.cfg, cluster.store)}
        return rows["dc2"] if rows["dc2"].state == "apply-error" else None

    row = wait_for("status shows dc2 as apply-error", dc2_row)
    assert f"entry {seq}" in row.error and "1062" in row.error, row  # type: ignore[attr-defined]

    with pytest.raises(PromotionError) as caught:
        promote(cluster.cfg, cluster.store, db, "dc2", force=True)
    err = caught.value
    assert (err.range_name, err.site, err.seq, err.handed_back_to) == (db, "dc2", seq, "dc1")
    assert "1062" in str(err) and "handed back" in str(err), str(err)
    info = cluster.store.describe_range(db)
    assert (info.owner, info.state) == ("dc1", RangeState.OPEN), info
    _insert(cluster, db, "dc1", 8)  # the range has a usable owner: writes go on

    cluster.store.put_setting("failover.paused", "1")  # the agents leave the range to us
    try:
        agents.stop("dc1")
        cluster.sandbox.kill("dc1")
        with pytest.raises(PromotionError) as caught:
            promote(cluster.cfg, cluster.store, db, "dc2", force=True)
        err = caught.value
        text = str(err)
        assert (err.site, err.seq, err.handed_back_to, err.state) == ("dc2", seq, None, "fenced")
        assert db in text and "dc2" in text and str(seq) in text and "1062" in text, text
        assert "remove the cause" in text, text
        out_of_band(cluster.cfg, "dc2", f"DELETE FROM `{db}`.t WHERE id = 7")
        wait_for(
            "dc2's agent opens the range once the cause is gone",
            lambda: cluster.store.describe_range(db).state is RangeState.OPEN,
        )
        assert cluster.store.describe_range(db).owner == "dc2"
        wait_for("dc2 healthy again", lambda: dc2.health()["healthy"])
    finally:
        cluster.store.put_setting("failover.paused", None)
    assert not agents.failures, agents.failures
