"""Store contract, both backends: epoch-aware leases, one agent per site, heartbeats, refusals.

What each test tries to break: a lease that outlives its owner's epoch (issue
12, defect 4), two agents acting for one site (defect 3), a stale site state
kept because a heartbeat did not carry it (defect 3), and a refusal that
names another epoch's owner (defect 7).
"""

from __future__ import annotations

import pytest

from mdbc_py.errors import FencedError
from mdbc_py.music import MusicStore, NewEntry, RangeState
from mdbc_py.music.store import DEFAULT_PAGE


def entry(txid: str) -> NewEntry:
    return NewEntry(txid, txid.encode())


def test_winner_of_a_newer_epoch_takes_the_live_lease_over(
    store: MusicStore, range_name: str
) -> None:
    held = store.acquire_lease(range_name, "dc1", ttl=30, epoch=1)
    assert held is not None and (held.holder, held.epoch) == ("dc1", 1)
    assert store.acquire_lease(range_name, "dc2", ttl=30) is None  # no epoch: live lease wins
    assert store.acquire_lease(range_name, "dc2", ttl=30, epoch=1) is None  # not newer
    store.change_owner(range_name, 1, "dc2", reason="test")
    taken = store.acquire_lease(range_name, "dc2", ttl=30, epoch=2)
    assert taken is not None and (taken.holder, taken.epoch) == ("dc2", 2)
    assert store.acquire_lease(range_name, "dc1", ttl=30, epoch=1) is None  # the fenced owner
    lease = store.get_lease(range_name)
    assert lease is not None and (lease.holder, lease.epoch) == ("dc2", 2)
    assert lease.version == taken.version and lease.ttl == pytest.approx(30)


def test_every_renewal_writes_a_new_version(store: MusicStore, range_name: str) -> None:
    first = store.acquire_lease(range_name, "dc1", ttl=1.5, epoch=1)
    second = store.acquire_lease(range_name, "dc1", ttl=1.5, epoch=1)
    assert first is not None and second is not None
    assert first.version != second.version
    lease = store.get_lease(range_name)
    assert lease is not None and lease.version == second.version
    assert lease.ttl == pytest.approx(1.5)


def test_a_stale_view_of_the_holder_cannot_move_the_lease_epoch_back(
    store: MusicStore, range_name: str
) -> None:
    assert store.acquire_lease(range_name, "dc1", ttl=30, epoch=3) is not None
    assert store.acquire_lease(range_name, "dc1", ttl=30, epoch=2) is None
    lease = store.get_lease(range_name)
    assert lease is not None and lease.epoch == 3


def test_one_agent_instance_per_site(store: MusicStore) -> None:
    first = store.claim_agent("dc7", "host:1:a", ttl=30)
    assert first.instance == "host:1:a"
    second = store.claim_agent("dc7", "host:2:b", ttl=30)
    assert second.instance == "host:1:a", "a second agent was granted a claimed site"
    assert store.claim_agent("dc7", "host:1:a", ttl=30).instance == "host:1:a"  # renewal
    held = store.agent_claim("dc7")
    assert held is not None and held.instance == "host:1:a"
    store.release_agent("dc7", "host:2:b")  # not the holder: no effect
    assert store.agent_claim("dc7").instance == "host:1:a"  # type: ignore[union-attr]
    store.release_agent("dc7", "host:1:a")
    assert store.agent_claim("dc7") is None
    assert store.claim_agent("dc7", "host:2:b", ttl=30).instance == "host:2:b"
    store.release_agent("dc7", "host:2:b")


def test_heartbeat_carries_and_replaces_the_site_state(store: MusicStore) -> None:
    # dc3: the contract keyspace is shared, and trimming counts every registered site
    store.register_site("dc3", {"db": "down"})
    store.heartbeat("dc3", {"db": "up", "apply_error.r1": "1062 at 7"})
    (site,) = [s for s in store.list_sites() if s.name == "dc3"]
    assert site.info == {"db": "up", "apply_error.r1": "1062 at 7"}
    store.heartbeat("dc3", {"db": "up"})
    store.heartbeat("dc3")  # no info: the known info stays
    (site,) = [s for s in store.list_sites() if s.name == "dc3"]
    assert site.info == {"db": "up"}


def test_refused_append_names_the_owner_of_each_epoch(
    store: MusicStore, store_cfg: object, range_name: str
) -> None:
    from tests.integration.music.workers import make_store

    writer = make_store(store_cfg)  # type: ignore[arg-type]
    try:
        assert writer.append(range_name, 1, [entry("at dc1")]) == [1]  # caches dc1's head
        store.change_owner(range_name, 1, "dc2", reason="t", state=RangeState.OPEN)
        store.change_owner(range_name, 2, "dc3", reason="t", state=RangeState.OPEN)
        with pytest.raises(FencedError) as caught:
            writer.append(range_name, 1, [entry("old dc1")])
    finally:
        writer.close()
    err = caught.value
    text = str(err)
    assert "epoch 1 is not current (it was owned by 'dc1')" in text, text
    assert "the current epoch is 3 (owner 'dc3', open)" in text, text
    assert "'dc2'" not in text, text
    facts = (err.range_name, err.epoch, err.epoch_owner, err.current_epoch, err.owner, err.state)  # type: ignore[attr-defined]
    assert facts == (range_name, 1, "dc1", 3, "dc3", "open")
    with pytest.raises(FencedError) as caught:
        store.append(range_name, 2, [entry("old dc2")])
    assert "epoch 2 is not current (it was owned by 'dc2')" in str(caught.value)
    assert caught.value.epoch_owner == "dc2"  # type: ignore[attr-defined]
    assert [r.txid for r in store.read(range_name, 1, DEFAULT_PAGE)] == ["at dc1"]


def test_lost_change_of_owner_carries_its_facts(store: MusicStore, range_name: str) -> None:
    store.change_owner(range_name, 1, "dc2", reason="first")
    with pytest.raises(FencedError, match="already 2") as caught:
        store.change_owner(range_name, 1, "dc3", reason="second")
    err = caught.value
    assert (err.range_name, err.epoch, err.current_epoch, err.owner) == (  # type: ignore[attr-defined]
        range_name,
        1,
        2,
        "dc2",
    )
