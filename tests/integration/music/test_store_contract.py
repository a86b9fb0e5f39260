"""The MUSIC store contract, run on both backends (real Cassandra and SQLite).

Each test tries to break one promise of ``mdbc_py.music.store.MusicStore``.
"""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from mdbc_py.config import StoreConfig
from mdbc_py.errors import (
    EntryTooLargeError,
    FencedError,
    StoreUnavailableError,
    TrimmedError,
    UnknownRangeError,
)
from mdbc_py.log.chunks import MAX_ENTRY_BYTES
from mdbc_py.music import MusicStore, NewEntry, RangeState
from tests.integration.music.workers import append_for, make_store, promote


def entry(txid: str, size: int = 16) -> NewEntry:
    return NewEntry(txid, (txid.encode() * (size // max(1, len(txid)) + 1))[:size])


def test_new_range_is_open_at_epoch_one(store: MusicStore, range_name: str) -> None:
    info = store.describe_range(range_name)
    assert (info.owner, info.epoch, info.state, info.tail) == ("dc1", 1, RangeState.OPEN, 0)
    again = store.create_range(range_name, "dc2")  # idempotent: existing range kept
    assert again.owner == "dc1"
    assert range_name in {r.name for r in store.list_ranges()}


@pytest.mark.parametrize("bad", ["nosuch", "x'; DROP TABLE log; --", "", "1abc"])
def test_unknown_or_malformed_range_is_refused(store: MusicStore, bad: str) -> None:
    with pytest.raises(UnknownRangeError):
        store.describe_range(bad)
    with pytest.raises(UnknownRangeError):
        store.append(bad, 1, [entry("t")])


def test_appends_get_consecutive_sequence_numbers(store: MusicStore, range_name: str) -> None:
    assert store.append(range_name, 1, []) == []
    assert store.append(range_name, 1, [entry("a")]) == [1]
    assert store.append(range_name, 1, [entry(f"b{i}") for i in range(60)]) == list(range(2, 62))
    assert store.describe_range(range_name).tail == 61
    records = list(store.iter_entries(range_name, 1, page=7))
    assert [r.seq for r in records] == list(range(1, 62))
    assert [r.txid for r in records] == ["a"] + [f"b{i}" for i in range(60)]
    assert all(r.epoch == 1 and r.payload == entry(r.txid).payload for r in records)
    assert [r.seq for r in store.read(range_name, 30, 5)] == [30, 31, 32, 33, 34]
    assert store.read(range_name, 62) == []
    found = store.find_txid(range_name, "b41")
    assert found is not None and found.seq == 43
    assert store.find_txid(range_name, "never") is None


def test_stale_epoch_and_fenced_state_append_nothing(store: MusicStore, range_name: str) -> None:
    store.append(range_name, 1, [entry("before")])
    with pytest.raises(FencedError, match="current epoch is 1"):
        store.append(range_name, 2, [entry("future")])
    change = store.change_owner(range_name, 1, "dc2", reason="test")
    assert (change.from_site, change.to_site, change.to_epoch, change.tail) == ("dc1", "dc2", 2, 1)
    with pytest.raises(FencedError, match="not current"):
        store.append(range_name, 1, [entry("old owner")])
    with pytest.raises(FencedError, match="fenced"):
        store.append(range_name, 2, [entry("not open yet")])
    assert store.set_state(range_name, 2, RangeState.OPEN).state == RangeState.OPEN
    with pytest.raises(FencedError):
        store.set_state(range_name, 1, RangeState.OPEN)
    assert store.append(range_name, 2, [entry("new owner")]) == [2]
    assert [r.txid for r in store.read(range_name, 1)] == ["before", "new owner"]
    assert store.find_txid(range_name, "old owner") is None
    history = store.history(range_name)
    assert [(h.from_site, h.to_site, h.to_epoch, h.reason) for h in history] == [
        ("dc1", "dc2", 2, "test")
    ]


def test_draining_still_accepts_the_owner(store: MusicStore, range_name: str) -> None:
    store.set_state(range_name, 1, RangeState.DRAINING)
    assert store.append(range_name, 1, [entry("in flight")]) == [1]


def test_concurrent_appends_from_processes_have_no_gap_or_duplicate(
    store: MusicStore, store_cfg: StoreConfig, range_name: str
) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(
            append_for, [(store_cfg, range_name, 1, 4, 3.0, f"p{i}") for i in range(4)]
        )
    acked = [pair for r in results for pair in r["acked"]]  # type: ignore[attr-defined]
    assert len(acked) > 50, "too few appends to prove anything"
    records = list(store.iter_entries(range_name, 1))
    seqs = [r.seq for r in records]
    assert seqs == list(range(1, len(records) + 1)), "gap or disorder in the log"
    txids = [r.txid for r in records]
    assert len(set(txids)) == len(txids), "duplicate entry"
    by_txid = {r.txid: r.seq for r in records}
    for txid, seq in acked:
        assert by_txid.get(txid) == seq, f"acknowledged append {txid}@{seq} missing"
    assert store.describe_range(range_name).tail == len(records)
    # Group commit really grouped: fewer store calls than entries.
    assert sum(r["appends"] for r in results) < len(acked)  # type: ignore[misc]


def test_old_epoch_never_lands_after_a_racing_promotion(
    store: MusicStore, store_cfg: StoreConfig, range_name: str
) -> None:
    acked: list[tuple[str, int]] = []
    fenced_after: list[str] = []
    stop = threading.Event()
    change_done = threading.Event()

    def old_owner(worker: int) -> None:
        writer = make_store(store_cfg)
        n = 0
        while not stop.is_set():
            txid = f"w{worker}-{n}"
            n += 1
            try:
                acked.append((txid, writer.append(range_name, 1, [entry(txid)])[0]))
            except FencedError:
                if change_done.is_set():
                    fenced_after.append(txid)
            except StoreUnavailableError:
                pass
        writer.close()

    threads = [threading.Thread(target=old_owner, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    change = store.change_owner(range_name, 1, "dc2", reason="race", state=RangeState.OPEN)
    change_done.set()
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert acked, "the old owner never appended before the promotion"
    assert fenced_after, "the old owner kept appending after the promotion"
    assert all(seq <= change.tail for _, seq in acked), "an old-epoch append landed after fencing"
    records = list(store.iter_entries(range_name, 1))
    assert [r.seq for r in records] == list(range(1, change.tail + 1))
    assert all(r.epoch == 1 for r in records)
    assert store.append(range_name, 2, [entry("new")]) == [change.tail + 1]


def test_five_concurrent_promoters_one_winner(
    store: MusicStore, store_cfg: StoreConfig, range_name: str
) -> None:
    ctx = multiprocessing.get_context("spawn")
    sites = [f"dc{i}" for i in range(2, 7)]
    with ctx.Pool(5) as pool:
        outcomes = pool.starmap(promote, [(store_cfg, range_name, 1, s) for s in sites])
    winners = [s for s, o in zip(sites, outcomes, strict=True) if o == "won"]
    assert len(winners) == 1, outcomes
    info = store.describe_range(range_name)
    assert (info.owner, info.epoch) == (winners[0], 2)
    for outcome in outcomes:
        if outcome != "won":
            assert outcome.startswith("FencedError") and "already 2" in outcome, outcome
    assert len(store.history(range_name)) == 1


def test_lease_renewal_and_expiry(store: MusicStore, range_name: str) -> None:
    lease = store.acquire_lease(range_name, "dc1", ttl=2)
    assert lease is not None and lease.holder == "dc1"
    assert store.acquire_lease(range_name, "dc2", ttl=2) is None
    time.sleep(1.2)
    assert store.acquire_lease(range_name, "dc1", ttl=2) is not None  # renewed
    time.sleep(1.2)
    held = store.get_lease(range_name)
    assert held is not None and held.holder == "dc1", "renewal did not extend the lease"
    assert store.acquire_lease(range_name, "dc2", ttl=2) is None
    time.sleep(2.3)
    assert store.get_lease(range_name) is None
    taken = store.acquire_lease(range_name, "dc2", ttl=2)
    assert taken is not None and taken.holder == "dc2"
    store.release_lease(range_name, "dc1")  # not the holder: no effect
    assert store.get_lease(range_name).holder == "dc2"  # type: ignore[union-attr]
    store.release_lease(range_name, "dc2")
    assert store.get_lease(range_name) is None


def test_applied_positions_never_move_back_unless_reset(store: MusicStore, range_name: str) -> None:
    store.set_applied("dc2", range_name, 5)
    store.set_applied("dc2", range_name, 3)
    assert store.applied_positions(range_name)["dc2"].seq == 5
    store.reset_applied("dc2", range_name, 2)
    assert store.applied_positions(range_name)["dc2"].seq == 2


def test_trim_waits_for_live_sites_and_flags_stale_ones(store: MusicStore, range_name: str) -> None:
    store.append(range_name, 1, [entry(f"t{i}") for i in range(50)])
    for site in ("dc1", "dc2", "dc3"):
        store.register_site(site)
    store.set_applied("dc1", range_name, 50)
    store.set_applied("dc2", range_name, 30)
    store.set_applied("dc3", range_name, 10)
    assert store.trim(range_name, margin=5) == 5  # everybody has applied 10
    assert store.needs_resync(range_name) == set()
    time.sleep(1.5)
    store.heartbeat("dc1")
    store.heartbeat("dc2")  # dc3 has gone quiet
    point = store.trim(range_name, margin=5, stale_after=1.0)
    assert point == 25
    assert store.describe_range(range_name).trim_point == 25
    assert store.needs_resync(range_name) == {"dc3"}
    with pytest.raises(TrimmedError, match="resync"):
        store.read(range_name, 11)
    assert [r.seq for r in store.read(range_name, 26, 3)] == [26, 27, 28]
    assert store.trim(range_name) == 25  # dc3 counts again without stale_after: no move
    assert store.find_txid(range_name, "t3") is None


def test_64_mib_entry_round_trips_and_larger_is_refused(store: MusicStore, range_name: str) -> None:
    big = bytes(range(256)) * (MAX_ENTRY_BYTES // 256)
    assert len(big) == MAX_ENTRY_BYTES
    assert store.append(range_name, 1, [NewEntry("big", big), entry("small")]) == [1, 2]
    back = store.read(range_name, 1, 2)
    assert back[0].payload == big and back[1].txid == "small"
    del back
    with pytest.raises(EntryTooLargeError, match=str(MAX_ENTRY_BYTES)):
        store.append(range_name, 1, [entry("ok"), NewEntry("huge", big + b"x" * (1 << 20))])
    assert store.describe_range(range_name).tail == 2
    assert store.find_txid(range_name, "ok") is None


def test_settings_round_trip(store: MusicStore) -> None:
    name = f"test.setting.{time.time_ns()}"
    assert store.get_setting(name) is None
    store.put_setting(name, "on")
    assert store.get_setting(name) == "on"
    store.put_setting(name, "off")
    assert store.get_setting(name) == "off"
    store.put_setting(name, None)
    assert store.get_setting(name) is None
