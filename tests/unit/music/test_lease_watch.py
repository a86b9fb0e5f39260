"""LeaseWatch: a lease lapses after ttl of *this* clock without a new version (issue 12, 4 and 6).

The clock is passed in, so these tests are exact and take no time.
"""

from __future__ import annotations

from mdbc_py.music import Lease, RangeInfo, RangeState
from mdbc_py.music.lease_watch import LeaseWatch


def info(owner: str = "dc1", epoch: int = 1) -> RangeInfo:
    return RangeInfo("r1", owner, epoch, RangeState.OPEN, 10, 1)


def lease(holder: str = "dc1", epoch: int = 1, version: str = "v1", ttl: float = 2.0) -> Lease:
    # expires_at is the store's wall clock: deliberately absurd, it must not matter
    return Lease("r1", holder, expires_at=1e12, epoch=epoch, version=version, ttl=ttl)


def test_a_renewed_lease_never_lapses_and_a_silent_one_lapses_after_its_ttl() -> None:
    watch = LeaseWatch(default_ttl=5.0)
    assert not watch.lapsed(info(), lease(version="a"), now=100.0)
    assert not watch.lapsed(info(), lease(version="b"), now=101.9)
    assert not watch.lapsed(info(), lease(version="c"), now=103.8)  # renewed: 1.9 s each
    assert not watch.lapsed(info(), lease(version="c"), now=105.7)  # 1.9 s silent
    assert watch.lapsed(info(), lease(version="c"), now=105.8)  # 2.0 s silent: lapsed
    assert watch.lapsed(info(), None, now=105.9)  # the row then vanishing changes nothing


def test_wall_clock_expiry_is_ignored() -> None:
    watch = LeaseWatch(default_ttl=5.0)
    stale = Lease("r1", "dc1", expires_at=0.0, epoch=1, version="a", ttl=2.0)
    assert not watch.lapsed(info(), stale, now=10.0)
    assert watch.lapsed(info(), stale, now=12.0)


def test_a_change_of_owner_or_epoch_restarts_the_clock() -> None:
    watch = LeaseWatch(default_ttl=2.0)
    assert not watch.lapsed(info("dc1", 1), lease("dc1", 1, "a"), now=0.0)
    assert watch.lapsed(info("dc1", 1), lease("dc1", 1, "a"), now=3.0)  # dc1 silent 3 s
    # dc2 won epoch 2 just now: the silence of dc1 must not count against it
    assert not watch.lapsed(info("dc2", 2), lease("dc1", 1, "a"), now=3.1)
    assert not watch.lapsed(info("dc2", 2), None, now=5.0)
    assert watch.lapsed(info("dc2", 2), None, now=5.2)  # over 2 s without a lease of dc2


def test_a_lease_of_another_holder_or_an_older_epoch_does_not_speak_for_the_owner() -> None:
    watch = LeaseWatch(default_ttl=2.0)
    current = info("dc2", 2)
    assert not LeaseWatch.speaks_for_owner(current, lease("dc1", 1))
    assert not LeaseWatch.speaks_for_owner(current, lease("dc2", 1))
    assert LeaseWatch.speaks_for_owner(current, lease("dc2", 2))
    assert LeaseWatch.speaks_for_owner(current, lease("dc2", 0))  # written without an epoch
    for t, version in ((0.0, "a"), (1.0, "b"), (2.1, "c")):  # the old owner keeps renewing
        watch.lapsed(current, lease("dc1", 1, version), now=t)
    assert watch.lapsed(current, lease("dc1", 1, "d"), now=2.1)


def test_forget_starts_afresh() -> None:
    watch = LeaseWatch(default_ttl=2.0)
    watch.lapsed(info(), None, now=0.0)
    assert watch.lapsed(info(), None, now=2.0)
    watch.forget("r1")
    assert not watch.lapsed(info(), None, now=2.5)
