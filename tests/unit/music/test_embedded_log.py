"""Embedded store: appending, fencing of appends, reading, txid lookup and the size limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdbc_py.errors import (
    DataError,
    EntryTooLargeError,
    FencedError,
    OperationalError,
    RetryableError,
    TrimmedError,
    UnknownRangeError,
)
from mdbc_py.log import MAX_ENTRY_BYTES
from mdbc_py.music.embedded import EmbeddedStore
from mdbc_py.music.model import NewEntry, RangeState


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path / "music.db") as opened:
        opened.create_range("r1", "dc1")
        yield opened


def _entries(*txids: str) -> list[NewEntry]:
    return [NewEntry(t, f"payload of {t}".encode()) for t in txids]


# -- append ---------------------------------------------------------------------


def test_append_assigns_consecutive_sequence_numbers(store: EmbeddedStore) -> None:
    before = time.time()
    assert store.append("r1", 1, _entries("a")) == [1]
    assert store.append("r1", 1, _entries("b", "c", "d")) == [2, 3, 4]
    assert store.append("r1", 1, _entries("e")) == [5]
    records = store.read("r1", 1)
    assert [(r.seq, r.txid, r.epoch) for r in records] == [
        (1, "a", 1),
        (2, "b", 1),
        (3, "c", 1),
        (4, "d", 1),
        (5, "e", 1),
    ]
    assert all(r.range_name == "r1" for r in records)
    assert records[2].payload == b"payload of c"
    assert all(before <= r.appended_at <= time.time() for r in records)
    assert store.describe_range("r1").tail == 5


def test_ranges_have_separate_sequences(store: EmbeddedStore) -> None:
    store.create_range("r2", "dc2")
    assert store.append("r1", 1, _entries("a", "b")) == [1, 2]
    assert store.append("r2", 1, _entries("x")) == [1]
    assert [r.txid for r in store.read("r2", 1)] == ["x"]


def test_append_of_nothing_returns_nothing(store: EmbeddedStore) -> None:
    assert store.append("r1", 1, []) == []
    # not even the epoch is checked: nothing is written, nothing to fence
    assert store.append("r1", 99, ()) == []
    assert store.describe_range("r1").tail == 0


def test_append_keeps_binary_payload_exactly(store: EmbeddedStore) -> None:
    payloads = [b"", b"\x00", bytes(range(256)) * 3, b"\xff\x00\xfe"]
    entries = [NewEntry(f"t{i}", p) for i, p in enumerate(payloads)]
    store.append("r1", 1, entries)
    back = store.read("r1", 1)
    assert [r.payload for r in back] == payloads
    assert all(type(r.payload) is bytes for r in back)


def test_append_accepts_bytearray_and_memoryview(store: EmbeddedStore) -> None:
    store.append(
        "r1",
        1,
        [NewEntry("a", bytearray(b"ab")), NewEntry("b", memoryview(b"cd"))],  # type: ignore[arg-type]
    )
    assert [r.payload for r in store.read("r1", 1)] == [b"ab", b"cd"]


def test_append_refuses_wrong_types(store: EmbeddedStore) -> None:
    with pytest.raises(TypeError, match="payload"):
        store.append("r1", 1, [NewEntry("a", "text")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="txid"):
        store.append("r1", 1, [NewEntry(5, b"x")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="NewEntry"):
        store.append("r1", 1, [b"x"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="epoch"):
        store.append("r1", True, _entries("a"))
    with pytest.raises(TypeError, match="epoch"):
        store.append("r1", 1.0, _entries("a"))  # type: ignore[arg-type]
    assert store.describe_range("r1").tail == 0


def test_append_to_unknown_range(store: EmbeddedStore) -> None:
    with pytest.raises(UnknownRangeError, match=r"'nope'.*r1"):
        store.append("nope", 1, _entries("a"))


# -- fencing ---------------------------------------------------------------------


def test_append_with_stale_epoch_is_fenced(store: EmbeddedStore) -> None:
    store.append("r1", 1, _entries("a"))
    store.change_owner("r1", 1, "dc2", "failover", RangeState.OPEN)
    with pytest.raises(FencedError) as info:
        store.append("r1", 1, _entries("late"))
    message = str(info.value)
    for part in ("'r1'", "epoch 1 is not current", "current epoch is 2", "'dc2'", "retry"):
        assert part in message
    assert isinstance(info.value, RetryableError)
    assert isinstance(info.value, OperationalError)
    assert store.describe_range("r1").tail == 1
    assert store.find_txid("r1", "late") is None
    assert store.append("r1", 2, _entries("b")) == [2]


def test_append_with_future_epoch_is_fenced(store: EmbeddedStore) -> None:
    with pytest.raises(FencedError, match="epoch 2 is not current, the current epoch is 1"):
        store.append("r1", 2, _entries("a"))
    assert store.describe_range("r1").tail == 0


def test_append_while_fenced_is_refused_even_at_current_epoch(store: EmbeddedStore) -> None:
    change = store.change_owner("r1", 1, "dc2", "failover")  # state fenced
    with pytest.raises(FencedError, match=r"'r1'.*fenced.*epoch 2.*'dc2'"):
        store.append("r1", change.to_epoch, _entries("a"))
    assert store.describe_range("r1").tail == 0
    store.set_state("r1", 2, RangeState.OPEN)
    assert store.append("r1", 2, _entries("a")) == [1]


def test_append_while_draining_succeeds(store: EmbeddedStore) -> None:
    store.set_state("r1", 1, RangeState.DRAINING)
    assert store.append("r1", 1, _entries("a")) == [1]
    store.set_state("r1", 1, RangeState.FENCED)
    with pytest.raises(FencedError):
        store.append("r1", 1, _entries("b"))


def test_no_old_epoch_append_lands_after_the_fenced_tail(store: EmbeddedStore) -> None:
    store.append("r1", 1, _entries("a", "b"))
    change = store.change_owner("r1", 1, "dc2", "failover", RangeState.OPEN)
    with pytest.raises(FencedError):
        store.append("r1", 1, _entries("c"))
    store.append("r1", 2, _entries("d"))
    records = store.read("r1", 1)
    assert all(r.epoch == 1 for r in records if r.seq <= change.tail)
    assert all(r.epoch == 2 for r in records if r.seq > change.tail)


# -- size limit ---------------------------------------------------------------


def test_entry_of_exactly_the_limit_round_trips(store: EmbeddedStore) -> None:
    payload = bytes(range(256)) * (MAX_ENTRY_BYTES // 256)
    assert len(payload) == MAX_ENTRY_BYTES
    assert store.append("r1", 1, [NewEntry("big", payload)]) == [1]
    back = store.read("r1", 1)
    assert len(back) == 1
    assert back[0].payload == payload
    found = store.find_txid("r1", "big")
    assert found is not None and found.payload == payload


def test_entry_over_the_limit_is_refused_and_nothing_is_written(store: EmbeddedStore) -> None:
    small = NewEntry("small", b"fits")
    huge = NewEntry("huge", bytes(MAX_ENTRY_BYTES + 1))
    with pytest.raises(EntryTooLargeError, match=str(MAX_ENTRY_BYTES + 1)) as info:
        store.append("r1", 1, [small, huge])
    assert isinstance(info.value, DataError)
    assert store.describe_range("r1").tail == 0
    assert store.read("r1", 1) == []
    assert store.find_txid("r1", "small") is None


def test_size_is_checked_before_the_epoch(store: EmbeddedStore) -> None:
    with pytest.raises(EntryTooLargeError):
        store.append("r1", 99, [NewEntry("huge", bytes(MAX_ENTRY_BYTES + 1))])


# -- read -----------------------------------------------------------------------


def test_read_pages_in_order(store: EmbeddedStore) -> None:
    store.append("r1", 1, _entries(*(f"t{i}" for i in range(1, 11))))
    assert [r.seq for r in store.read("r1", 1, limit=3)] == [1, 2, 3]
    assert [r.seq for r in store.read("r1", 4, limit=3)] == [4, 5, 6]
    assert [r.seq for r in store.read("r1", 9, limit=5)] == [9, 10]
    assert store.read("r1", 11) == []
    assert store.read("r1", 500) == []
    assert store.read("r1", 1, limit=0) == []
    assert [r.seq for r in store.iter_entries("r1", 3, page=4)] == list(range(3, 11))


def test_read_of_empty_range(store: EmbeddedStore) -> None:
    assert store.read("r1", 1) == []
    assert list(store.iter_entries("r1")) == []


@pytest.mark.parametrize(("from_seq", "limit"), [(0, 10), (-1, 10), (1, -1)])
def test_read_refuses_bad_bounds(store: EmbeddedStore, from_seq: int, limit: int) -> None:
    with pytest.raises(ValueError, match=">="):
        store.read("r1", from_seq, limit)


def test_read_unknown_range(store: EmbeddedStore) -> None:
    with pytest.raises(UnknownRangeError):
        store.read("nope", 1)


def test_read_below_the_trim_point_is_trimmed_error(store: EmbeddedStore) -> None:
    store.append("r1", 1, _entries("a", "b", "c", "d"))
    store.register_site("dc1")
    store.set_applied("dc1", "r1", 2)
    assert store.trim("r1") == 2
    for start in (1, 2):
        with pytest.raises(TrimmedError, match=r"'r1'.*up to 2") as info:
            store.read("r1", start)
        assert isinstance(info.value, OperationalError)
    with pytest.raises(TrimmedError):
        list(store.iter_entries("r1", 1))
    assert [r.seq for r in store.read("r1", 3)] == [3, 4]
    assert [r.txid for r in store.iter_entries("r1", 3)] == ["c", "d"]


# -- find_txid ------------------------------------------------------------------


def test_find_txid(store: EmbeddedStore) -> None:
    store.append("r1", 1, _entries("a", "b"))
    store.create_range("r2", "dc1")
    store.append("r2", 1, _entries("b"))
    found = store.find_txid("r1", "b")
    assert found is not None
    assert (found.range_name, found.seq, found.txid, found.epoch) == ("r1", 2, "b", 1)
    assert found.payload == b"payload of b"
    assert store.find_txid("r1", "zzz") is None
    assert store.find_txid("r2", "a") is None
    with pytest.raises(UnknownRangeError):
        store.find_txid("nope", "a")


def test_find_txid_after_trim_is_none(store: EmbeddedStore) -> None:
    store.append("r1", 1, _entries("a", "b"))
    store.register_site("dc1")
    store.set_applied("dc1", "r1", 1)
    store.trim("r1")
    assert store.find_txid("r1", "a") is None
    found = store.find_txid("r1", "b")
    assert found is not None and found.seq == 2
