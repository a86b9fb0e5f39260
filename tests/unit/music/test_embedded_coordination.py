"""Embedded store: site registry, leases, applied positions, trimming and needs_resync."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdbc_py.music.embedded import EmbeddedStore
from mdbc_py.music.model import NewEntry

TTL = 0.3


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path / "music.db") as opened:
        opened.create_range("r1", "dc1")
        yield opened


def _fill(store: EmbeddedStore, n: int, range_name: str = "r1") -> None:
    epoch = store.describe_range(range_name).epoch
    store.append(range_name, epoch, [NewEntry(f"t{i}", b"x") for i in range(n)])


# -- sites --------------------------------------------------------------------


def test_register_site_is_idempotent_and_keeps_registered_at(store: EmbeddedStore) -> None:
    before = time.time()
    store.register_site("dc2", {"host": "10.0.0.2"})
    store.register_site("dc1")
    (first_dc1, first_dc2) = store.list_sites()
    assert (first_dc1.name, first_dc2.name) == ("dc1", "dc2")
    assert first_dc2.info == {"host": "10.0.0.2"}
    assert first_dc1.info == {}
    assert before <= first_dc2.registered_at <= first_dc2.heartbeat_at
    time.sleep(0.02)
    store.register_site("dc2")  # no info: the known info stays
    again = store.list_sites()[1]
    assert again.registered_at == first_dc2.registered_at
    assert again.heartbeat_at > first_dc2.heartbeat_at
    assert again.info == {"host": "10.0.0.2"}
    store.register_site("dc2", {"host": "10.0.0.3", "zone": "b"})
    assert store.list_sites()[1].info == {"host": "10.0.0.3", "zone": "b"}
    assert store.list_sites()[1].registered_at == first_dc2.registered_at


def test_register_site_refuses_non_string_info(store: EmbeddedStore) -> None:
    with pytest.raises(TypeError, match="site info"):
        store.register_site("dc1", {"port": 3306})  # type: ignore[dict-item]
    assert store.list_sites() == []


def test_heartbeat_moves_forward_and_registers_unknown_sites(store: EmbeddedStore) -> None:
    store.heartbeat("dc3")
    (site,) = store.list_sites()
    assert site.name == "dc3"
    assert site.info == {}
    time.sleep(0.02)
    store.heartbeat("dc3")
    (later,) = store.list_sites()
    assert later.heartbeat_at > site.heartbeat_at
    assert later.registered_at == site.registered_at


# -- leases -------------------------------------------------------------------


def test_lease_is_exclusive_until_it_expires(store: EmbeddedStore) -> None:
    assert store.get_lease("r1") is None
    lease = store.acquire_lease("r1", "dc1", TTL)
    assert lease is not None
    assert (lease.range_name, lease.holder) == ("r1", "dc1")
    assert lease.expires_at == pytest.approx(time.time() + TTL, abs=0.1)
    assert store.get_lease("r1") == lease
    assert store.acquire_lease("r1", "dc2", TTL) is None
    assert store.get_lease("r1") == lease
    time.sleep(TTL + 0.05)
    assert store.get_lease("r1") is None
    taken = store.acquire_lease("r1", "dc2", TTL)
    assert taken is not None and taken.holder == "dc2"
    assert store.acquire_lease("r1", "dc1", TTL) is None


def test_holder_renews_its_lease(store: EmbeddedStore) -> None:
    first = store.acquire_lease("r1", "dc1", TTL)
    assert first is not None
    time.sleep(TTL / 2)
    renewed = store.acquire_lease("r1", "dc1", 3 * TTL)
    assert renewed is not None and renewed.expires_at > first.expires_at
    time.sleep(TTL / 2 + 0.05)  # past the first expiry, well before the renewed one
    assert store.get_lease("r1") == renewed
    assert store.acquire_lease("r1", "dc2", TTL) is None


def test_release_only_by_the_holder(store: EmbeddedStore) -> None:
    store.acquire_lease("r1", "dc1", 10.0)
    store.release_lease("r1", "dc2")
    held = store.get_lease("r1")
    assert held is not None and held.holder == "dc1"
    store.release_lease("r1", "dc1")
    assert store.get_lease("r1") is None
    taken = store.acquire_lease("r1", "dc2", 10.0)
    assert taken is not None and taken.holder == "dc2"
    store.release_lease("r1", "dc1")  # not the holder: nothing happens
    assert store.get_lease("r1") == taken


def test_leases_are_per_range(store: EmbeddedStore) -> None:
    store.create_range("r2", "dc2")
    assert store.acquire_lease("r1", "dc1", 10.0) is not None
    assert store.acquire_lease("r2", "dc2", 10.0) is not None
    assert store.acquire_lease("r2", "dc1", 10.0) is None


@pytest.mark.parametrize("ttl", [0, -1.0, True, "5"])
def test_lease_ttl_must_be_positive(store: EmbeddedStore, ttl: object) -> None:
    with pytest.raises(ValueError, match="ttl"):
        store.acquire_lease("r1", "dc1", ttl)  # type: ignore[arg-type]


# -- applied positions ------------------------------------------------------


def test_set_applied_never_moves_back(store: EmbeddedStore) -> None:
    assert store.applied_positions("r1") == {}
    store.set_applied("dc2", "r1", 5)
    first = store.applied_positions("r1")["dc2"]
    assert (first.site, first.range_name, first.seq) == ("dc2", "r1", 5)
    store.set_applied("dc2", "r1", 3)
    assert store.applied_positions("r1")["dc2"] == first
    store.set_applied("dc2", "r1", 7)
    store.set_applied("dc1", "r1", 1)
    positions = store.applied_positions("r1")
    assert {site: pos.seq for site, pos in positions.items()} == {"dc1": 1, "dc2": 7}
    assert positions["dc2"].updated_at >= first.updated_at


def test_reset_applied_may_move_back(store: EmbeddedStore) -> None:
    store.set_applied("dc2", "r1", 9)
    store.reset_applied("dc2", "r1", 2)
    assert store.applied_positions("r1")["dc2"].seq == 2
    store.reset_applied("dc3", "r1", 4)
    assert store.applied_positions("r1")["dc3"].seq == 4


def test_positions_are_per_range(store: EmbeddedStore) -> None:
    store.create_range("r2", "dc1")
    store.set_applied("dc2", "r1", 5)
    store.set_applied("dc2", "r2", 8)
    assert store.applied_positions("r1")["dc2"].seq == 5
    assert store.applied_positions("r2")["dc2"].seq == 8


def test_negative_position_is_refused(store: EmbeddedStore) -> None:
    with pytest.raises(ValueError, match="seq"):
        store.set_applied("dc1", "r1", -1)
    with pytest.raises(TypeError, match="seq"):
        store.reset_applied("dc1", "r1", 1.5)  # type: ignore[arg-type]


# -- trim ---------------------------------------------------------------------


def test_trim_to_the_slowest_site(store: EmbeddedStore) -> None:
    _fill(store, 10)
    store.register_site("dc1")
    store.register_site("dc2")
    store.set_applied("dc1", "r1", 10)
    store.set_applied("dc2", "r1", 4)
    assert store.trim("r1") == 4
    info = store.describe_range("r1")
    assert (info.trim_point, info.tail) == (4, 10)
    assert [r.seq for r in store.read("r1", 5)] == [5, 6, 7, 8, 9, 10]
    assert store.needs_resync("r1") == set()


def test_trim_keeps_the_margin(store: EmbeddedStore) -> None:
    _fill(store, 10)
    store.register_site("dc1")
    store.set_applied("dc1", "r1", 10)
    assert store.trim("r1", margin=3) == 7
    assert store.trim("r1", margin=20) == 7  # never back
    with pytest.raises(ValueError, match="margin"):
        store.trim("r1", margin=-1)


def test_site_without_position_holds_the_log(store: EmbeddedStore) -> None:
    _fill(store, 5)
    store.register_site("dc1")
    store.register_site("dc2")
    store.set_applied("dc1", "r1", 5)
    assert store.trim("r1") == 0
    assert len(store.read("r1", 1)) == 5


def test_owner_counts_like_any_site(store: EmbeddedStore) -> None:
    _fill(store, 6)
    store.register_site("dc1")  # the owner
    store.register_site("dc2")
    store.set_applied("dc1", "r1", 2)
    store.set_applied("dc2", "r1", 6)
    assert store.trim("r1") == 2


def test_unregistered_sites_do_not_count(store: EmbeddedStore) -> None:
    _fill(store, 6)
    store.register_site("dc1")
    store.set_applied("dc1", "r1", 6)
    store.set_applied("ghost", "r1", 1)  # reported, never registered
    assert store.trim("r1") == 6


def test_trim_without_registered_sites_trims_nothing(store: EmbeddedStore) -> None:
    _fill(store, 3)
    store.set_applied("dc1", "r1", 3)
    assert store.trim("r1") == 0
    assert len(store.read("r1", 1)) == 3


def test_trim_never_passes_the_tail(store: EmbeddedStore) -> None:
    _fill(store, 3)
    store.register_site("dc1")
    store.set_applied("dc1", "r1", 50)
    assert store.trim("r1") == 3
    assert store.read("r1", 4) == []
    # sequence numbers go on after a complete trim
    assert store.append("r1", 1, [NewEntry("next", b"y")]) == [4]
    assert [r.txid for r in store.read("r1", 4)] == ["next"]


def test_trim_never_moves_back(store: EmbeddedStore) -> None:
    _fill(store, 8)
    store.register_site("dc1")
    store.register_site("dc2")
    store.set_applied("dc1", "r1", 8)
    store.set_applied("dc2", "r1", 5)
    assert store.trim("r1") == 5
    store.reset_applied("dc2", "r1", 1)
    assert store.trim("r1") == 5
    assert store.describe_range("r1").trim_point == 5
    assert store.needs_resync("r1") == {"dc2"}


def test_stale_sites_are_not_waited_for_and_need_resync(store: EmbeddedStore) -> None:
    _fill(store, 10)
    store.register_site("dc1")  # owner
    store.register_site("dc2")
    store.register_site("dc3")
    store.set_applied("dc1", "r1", 10)
    store.set_applied("dc2", "r1", 8)
    store.set_applied("dc3", "r1", 3)
    time.sleep(0.3)
    store.heartbeat("dc1")
    store.heartbeat("dc2")
    # without stale_after every site is waited for
    assert store.trim("r1") == 3
    assert store.needs_resync("r1") == set()
    assert store.trim("r1", stale_after=0.2) == 8
    assert store.needs_resync("r1") == {"dc3"}
    with pytest.raises(ValueError, match="stale_after"):
        store.trim("r1", stale_after=-1)


def test_stale_site_without_position_is_not_waited_for(store: EmbeddedStore) -> None:
    _fill(store, 4)
    store.register_site("dc2")
    time.sleep(0.3)
    store.register_site("dc1")
    store.set_applied("dc1", "r1", 4)
    assert store.trim("r1", stale_after=0.2) == 4
    assert store.needs_resync("r1") == {"dc2"}


def test_trim_when_everybody_is_stale_trims_nothing(store: EmbeddedStore) -> None:
    _fill(store, 4)
    store.register_site("dc1")
    store.set_applied("dc1", "r1", 4)
    time.sleep(0.3)
    assert store.trim("r1", stale_after=0.2) == 0


def test_needs_resync_ignores_the_owner(store: EmbeddedStore) -> None:
    _fill(store, 6)
    store.register_site("dc1")
    store.register_site("dc2")
    store.set_applied("dc1", "r1", 6)
    store.set_applied("dc2", "r1", 6)
    assert store.needs_resync("r1") == set()  # nothing trimmed yet
    assert store.trim("r1") == 6
    store.reset_applied("dc1", "r1", 0)  # the owner itself behind: still not resynced
    store.reset_applied("dc2", "r1", 2)
    assert store.needs_resync("r1") == {"dc2"}
    store.register_site("dc3")  # a new empty site after trimming
    assert store.needs_resync("r1") == {"dc2", "dc3"}


def test_trim_deletes_only_its_own_range(store: EmbeddedStore) -> None:
    store.create_range("r2", "dc1")
    _fill(store, 4)
    _fill(store, 4, "r2")
    store.register_site("dc1")
    store.set_applied("dc1", "r1", 4)
    assert store.trim("r1") == 4
    assert len(store.read("r2", 1)) == 4
    assert store.describe_range("r2").trim_point == 0
