"""Group commit: when a shared append ends in doubt, each caller learns about its own txid."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from mdbc_py.errors import CommitOutcomeUnknownError, FencedError
from mdbc_py.music import NewEntry
from mdbc_py.music.group_commit import GroupCommitter


class _DoubtfulStore:
    """Holds the first append until every caller has queued, then fails the group."""

    def __init__(self, error: Exception, callers: int) -> None:
        self.error = error
        self.callers = callers
        self.gate = threading.Event()
        self.groups: list[list[str]] = []

    def append(self, range_name: str, epoch: int, entries: Sequence[NewEntry]) -> list[int]:
        self.gate.wait(5)
        self.groups.append([e.txid for e in entries])
        raise self.error


def _race(committer: GroupCommitter, store: _DoubtfulStore, n: int) -> dict[str, BaseException]:
    errors: dict[str, BaseException] = {}
    lock = threading.Lock()

    def commit(i: int) -> None:
        txid = f"tx{i:02d}"
        try:
            committer.append("r", 1, NewEntry(txid, b"x"))
        except Exception as exc:
            with lock:
                errors[txid] = exc

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(n)]
    threads[0].start()
    while not committer._queues.get("r") or not committer._queues["r"].leader_active:
        pass
    for t in threads[1:]:
        t.start()
    while sum(len(q.pending) for q in committer._queues.values()) < n - 1:
        pass
    store.gate.set()
    for t in threads:
        t.join(10)
    return errors


def test_each_waiter_of_a_doubtful_append_gets_its_own_txid() -> None:
    store = _DoubtfulStore(CommitOutcomeUnknownError("append timed out"), 6)
    errors = _race(GroupCommitter(store), store, 6)  # type: ignore[arg-type]
    assert len(errors) == 6
    shared = [g for g in store.groups if len(g) > 1]
    assert shared, "no append carried more than one transaction"
    for txid, exc in errors.items():
        assert isinstance(exc, CommitOutcomeUnknownError)
        assert exc.txid == txid, f"{txid} was told about {exc.txid}"
        assert f"{txid!r}" in str(exc)
        assert txid in exc.txids
    assert len({id(e) for e in errors.values()}) == 6


@pytest.mark.parametrize("error", [FencedError("fenced")])
def test_other_failures_reach_every_waiter_unchanged(error: Exception) -> None:
    store = _DoubtfulStore(error, 4)
    errors = _race(GroupCommitter(store), store, 4)  # type: ignore[arg-type]
    assert set(errors) == {"tx00", "tx01", "tx02", "tx03"}
    assert all(e is error for e in errors.values())
