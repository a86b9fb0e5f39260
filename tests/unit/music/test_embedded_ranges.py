"""Embedded store: opening the file, ranges, changes of owner, states, history and names."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdbc_py.errors import (
    ConfigError,
    FencedError,
    InterfaceError,
    ProgrammingError,
    RetryableError,
    StoreUnavailableError,
    UnknownRangeError,
)
from mdbc_py.music.embedded import EmbeddedStore
from mdbc_py.music.model import NewEntry, RangeInfo, RangeState

BAD_NAMES = ["x'; drop", "", "1abc", "a-b", "a b", "é", "a" * 49, None, 7]


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path / "music.db") as opened:
        yield opened


def _entry(txid: str) -> list[NewEntry]:
    return [NewEntry(txid, txid.encode())]


# -- opening ------------------------------------------------------------------


def test_open_creates_file_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "music.db"
    store = EmbeddedStore(path)
    try:
        assert path.exists()
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        raw.close()
        with store._transaction("test", write=False) as conn:
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        store.create_schema()  # idempotent
        store.create_schema()
    finally:
        store.close()


def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "music.db"
    with EmbeddedStore(path) as first:
        first.create_range("r1", "dc1")
        first.append("r1", 1, _entry("t1"))
    with EmbeddedStore(str(path)) as second:
        assert second.describe_range("r1").tail == 1
        assert second.read("r1", 1)[0].txid == "t1"


@pytest.mark.parametrize("path", ["", ":memory:", "file:x?mode=memory"])
def test_in_memory_or_uri_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="path of a file"):
        EmbeddedStore(path)


def test_negative_busy_timeout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="busy_timeout"):
        EmbeddedStore(tmp_path / "m.db", busy_timeout=-1)


def test_unreachable_file_is_store_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="no_such_dir"):
        EmbeddedStore(tmp_path / "no_such_dir" / "music.db")


def test_file_that_is_not_a_database_is_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not sqlite" * 1000)
    with pytest.raises(StoreUnavailableError, match=r"garbage\.db"):
        EmbeddedStore(path)


def test_file_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "music.db"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(StoreUnavailableError, match="schema version 99"):
        EmbeddedStore(path)


def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "music.db")
    store.create_range("r1", "dc1")
    store.close()
    store.close()  # idempotent
    with pytest.raises(InterfaceError, match="closed"):
        store.describe_range("r1")


def test_locked_file_beyond_busy_timeout_is_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "music.db"
    with EmbeddedStore(path, busy_timeout=0.2) as store:
        store.create_range("r1", "dc1")
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreUnavailableError, match="locked") as info:
                store.append("r1", 1, _entry("t1"))
            assert isinstance(info.value, RetryableError)
            with pytest.raises(StoreUnavailableError):
                store.change_owner("r1", 1, "dc2", "test")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        # nothing of the refused calls was written, and the store works again
        info_after = store.describe_range("r1")
        assert (info_after.tail, info_after.epoch) == (0, 1)
        assert store.append("r1", 1, _entry("t2")) == [1]


def test_writer_of_this_process_stuck_beyond_busy_timeout_is_unavailable(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "music.db", busy_timeout=0.2) as store:
        store.create_range("r1", "dc1")
        store._write_lock.acquire()  # as if another thread were stuck mid-write
        try:
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError, match="another thread"):
                store.append("r1", 1, _entry("t1"))
            assert 0.15 <= time.monotonic() - started < 5
            assert store.describe_range("r1").tail == 0  # reads go on meanwhile
        finally:
            store._write_lock.release()
        assert store.append("r1", 1, _entry("t1")) == [1]


# -- ranges ---------------------------------------------------------------------


def test_create_range_starts_open_at_epoch_one(store: EmbeddedStore) -> None:
    info = store.create_range("catalogdb", "dc1")
    assert info == RangeInfo("catalogdb", "dc1", 1, RangeState.OPEN, 0, 1, 0)
    assert store.describe_range("catalogdb") == info


def test_create_range_is_idempotent_and_keeps_the_existing_range(store: EmbeddedStore) -> None:
    store.create_range("r1", "dc1")
    store.append("r1", 1, _entry("t1"))
    store.change_owner("r1", 1, "dc2", "test", RangeState.OPEN)
    again = store.create_range("r1", "dc3")
    assert (again.owner, again.epoch, again.tail, again.state) == ("dc2", 2, 1, RangeState.OPEN)
    assert store.describe_range("r1") == again


def test_list_ranges_by_name(store: EmbeddedStore) -> None:
    assert store.list_ranges() == []
    for name in ("requestdb", "camundabpmn", "catalogdb"):
        store.create_range(name, "dc1")
    assert [r.name for r in store.list_ranges()] == ["camundabpmn", "catalogdb", "requestdb"]


def test_describe_unknown_range_names_the_known_ones(store: EmbeddedStore) -> None:
    store.create_range("catalogdb", "dc1")
    with pytest.raises(UnknownRangeError, match=r"'nope'.*catalogdb") as info:
        store.describe_range("nope")
    assert isinstance(info.value, ProgrammingError)


# -- change of owner ----------------------------------------------------------


def test_change_owner_bumps_epoch_and_returns_the_tail(store: EmbeddedStore) -> None:
    store.create_range("r1", "dc1")
    store.append("r1", 1, _entry("t1") + _entry("t2"))
    change = store.change_owner("r1", 1, "dc2", "owner lease expired")
    assert (change.range_name, change.from_site, change.to_site) == ("r1", "dc1", "dc2")
    assert (change.from_epoch, change.to_epoch, change.tail) == (1, 2, 2)
    assert change.reason == "owner lease expired"
    info = store.describe_range("r1")
    assert (info.owner, info.epoch, info.state, info.tail) == ("dc2", 2, RangeState.FENCED, 2)


def test_change_owner_can_open_directly(store: EmbeddedStore) -> None:
    store.create_range("r1", "dc1")
    store.change_owner("r1", 1, "dc2", "switchover", state=RangeState.OPEN)
    assert store.describe_range("r1").state is RangeState.OPEN
    assert store.append("r1", 2, _entry("t1")) == [1]


def test_change_owner_with_stale_epoch_is_fenced_and_names_the_owner(store: EmbeddedStore) -> None:
    store.create_range("r1", "dc1")
    store.change_owner("r1", 1, "dc2", "first")
    with pytest.raises(FencedError, match=r"'r1'.*cannot move from epoch 1.*already 2.*'dc2'"):
        store.change_owner("r1", 1, "dc3", "second")
    info = store.describe_range("r1")
    assert (info.owner, info.epoch) == ("dc2", 2)
    assert len(store.history("r1")) == 1


def test_concurrent_change_owner_has_exactly_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "music.db"
    with EmbeddedStore(path) as setup:
        setup.create_range("r1", "dc1")
    winners: list[str] = []
    fenced: list[str] = []
    barrier = threading.Barrier(8)

    def contend(site: str) -> None:
        with EmbeddedStore(path) as mine:
            barrier.wait()
            try:
                mine.change_owner("r1", 1, site, "race")
                winners.append(site)
            except FencedError:
                fenced.append(site)

    threads = [threading.Thread(target=contend, args=(f"dc{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert len(fenced) == 7
    with EmbeddedStore(path) as check:
        info = check.describe_range("r1")
        assert (info.owner, info.epoch) == (winners[0], 2)


def test_change_owner_of_unknown_range(store: EmbeddedStore) -> None:
    with pytest.raises(UnknownRangeError):
        store.change_owner("nope", 1, "dc2", "x")


# -- state --------------------------------------------------------------------


def test_set_state_needs_the_current_epoch(store: EmbeddedStore) -> None:
    store.create_range("r1", "dc1")
    info = store.set_state("r1", 1, RangeState.DRAINING)
    assert info.state is RangeState.DRAINING
    assert store.describe_range("r1") == info
    store.change_owner("r1", 1, "dc2", "switchover")
    with pytest.raises(
        FencedError, match=r"'r1'.*epoch 1 is not current.*current epoch is 2.*'dc2'"
    ):
        store.set_state("r1", 1, RangeState.OPEN)
    assert store.describe_range("r1").state is RangeState.FENCED
    assert store.set_state("r1", 2, RangeState.OPEN).state is RangeState.OPEN


def test_set_state_refuses_unknown_state(store: EmbeddedStore) -> None:
    store.create_range("r1", "dc1")
    with pytest.raises(ValueError):
        store.set_state("r1", 1, "closed")  # type: ignore[arg-type]


# -- history ------------------------------------------------------------------


def test_history_is_newest_first_with_filter_and_limit(store: EmbeddedStore) -> None:
    store.create_range("r1", "dc1")
    store.create_range("r2", "dc1")
    assert store.history() == []
    store.append("r1", 1, _entry("t1"))
    store.change_owner("r1", 1, "dc2", "first", RangeState.OPEN)
    store.change_owner("r2", 1, "dc3", "other range")
    store.append("r1", 2, _entry("t2"))
    store.change_owner("r1", 2, "dc1", "back")

    everything = store.history()
    assert [(c.range_name, c.reason) for c in everything] == [
        ("r1", "back"),
        ("r2", "other range"),
        ("r1", "first"),
    ]
    only_r1 = store.history("r1")
    assert [(c.from_site, c.to_site, c.from_epoch, c.to_epoch, c.tail) for c in only_r1] == [
        ("dc2", "dc1", 2, 3, 2),
        ("dc1", "dc2", 1, 2, 1),
    ]
    assert only_r1[0].at >= only_r1[1].at
    assert store.history("r1", limit=1) == only_r1[:1]
    assert store.history(limit=0) == []
    with pytest.raises(UnknownRangeError):
        store.history("nope")


# -- names --------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_range_names_are_unknown_ranges(store: EmbeddedStore, name: object) -> None:
    store.create_range("r1", "dc1")
    calls = [
        lambda: store.create_range(name, "dc1"),  # type: ignore[arg-type]
        lambda: store.describe_range(name),  # type: ignore[arg-type]
        lambda: store.append(name, 1, _entry("t")),  # type: ignore[arg-type]
        lambda: store.append(name, 1, []),  # type: ignore[arg-type]
        lambda: store.read(name, 1),  # type: ignore[arg-type]
        lambda: store.find_txid(name, "t"),  # type: ignore[arg-type]
        lambda: store.change_owner(name, 1, "dc2", "x"),  # type: ignore[arg-type]
        lambda: store.set_state(name, 1, RangeState.OPEN),  # type: ignore[arg-type]
        lambda: store.acquire_lease(name, "dc1", 1.0),  # type: ignore[arg-type]
        lambda: store.get_lease(name),  # type: ignore[arg-type]
        lambda: store.release_lease(name, "dc1"),  # type: ignore[arg-type]
        lambda: store.set_applied("dc1", name, 1),  # type: ignore[arg-type]
        lambda: store.reset_applied("dc1", name, 1),  # type: ignore[arg-type]
        lambda: store.applied_positions(name),  # type: ignore[arg-type]
        lambda: store.trim(name),  # type: ignore[arg-type]
    ]
    if name is not None:  # history(None) is the history of every range
        calls.append(lambda: store.history(name))  # type: ignore[arg-type]
    for call in calls:
        with pytest.raises(UnknownRangeError, match="invalid range name"):
            call()
    assert [r.name for r in store.list_ranges()] == ["r1"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_site_names_are_config_errors(store: EmbeddedStore, name: object) -> None:
    store.create_range("r1", "dc1")
    calls = [
        lambda: store.create_range("r2", name),  # type: ignore[arg-type]
        lambda: store.change_owner("r1", 1, name, "x"),  # type: ignore[arg-type]
        lambda: store.register_site(name),  # type: ignore[arg-type]
        lambda: store.heartbeat(name),  # type: ignore[arg-type]
        lambda: store.acquire_lease("r1", name, 1.0),  # type: ignore[arg-type]
        lambda: store.release_lease("r1", name),  # type: ignore[arg-type]
        lambda: store.set_applied(name, "r1", 1),  # type: ignore[arg-type]
        lambda: store.reset_applied(name, "r1", 1),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(ConfigError, match="invalid site name"):
            call()
    info = store.describe_range("r1")
    assert (info.owner, info.epoch) == ("dc1", 1)
    assert store.list_sites() == []
    assert [r.name for r in store.list_ranges()] == ["r1"]
