"""Group commit gathers announced transactions into one append, and delays nobody else."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from mdbc_py.errors import EntryTooLargeError
from mdbc_py.music import NewEntry
from mdbc_py.music.group_commit import GroupCommitter

LONG = 30.0
"""A gathering bound no test may reach: a leader that waited it out would fail the join."""


class _RecordingStore:
    """Records the transactions of each append; sequence numbers count up."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.tail = 0

    def append(self, range_name: str, epoch: int, entries: Sequence[NewEntry]) -> list[int]:
        self.groups.append([e.txid for e in entries])
        first = self.tail + 1
        self.tail += len(entries)
        return list(range(first, self.tail + 1))


def _committer(store: _RecordingStore) -> GroupCommitter:
    return GroupCommitter(store, gather_seconds=LONG)  # type: ignore[arg-type]


def _append_in_thread(committer: GroupCommitter, txid: str, **kw: object) -> threading.Thread:
    thread = threading.Thread(
        target=committer.append, args=("r", 1, NewEntry(txid, b"x")), kwargs=kw, daemon=True
    )
    thread.start()
    return thread


def _wait_until(condition: object) -> None:
    for _ in range(10_000):
        if condition():  # type: ignore[operator]
            return
        threading.Event().wait(0.001)
    raise AssertionError("condition never held")


def test_a_leader_waits_for_an_announced_transaction_and_carries_it() -> None:
    store = _RecordingStore()
    committer = _committer(store)
    ticket = committer.announce("r")
    leader = _append_in_thread(committer, "first")
    _wait_until(lambda: committer._queues["r"].leader_active)
    assert store.groups == []  # held back: an announced transaction is on its way
    assert committer.append("r", 1, NewEntry("second", b"y"), ticket) == 2
    leader.join(10)
    assert not leader.is_alive()
    assert store.groups == [["first", "second"]]


def test_a_lone_writer_goes_straight_to_the_store() -> None:
    store = _RecordingStore()
    committer = _committer(store)
    writer = _append_in_thread(committer, "alone")
    writer.join(10)
    assert not writer.is_alive()
    assert store.groups == [["alone"]]


def test_a_withdrawn_announcement_releases_the_leader() -> None:
    store = _RecordingStore()
    committer = _committer(store)
    ticket = committer.announce("r")
    leader = _append_in_thread(committer, "first")
    _wait_until(lambda: committer._queues["r"].leader_active)
    committer.withdraw(ticket)
    leader.join(10)
    assert not leader.is_alive()
    assert store.groups == [["first"]]
    assert committer._queues["r"].announced == 0


def test_withdrawing_a_consumed_ticket_changes_nothing() -> None:
    store = _RecordingStore()
    committer = _committer(store)
    ticket = committer.announce("r")
    assert committer.append("r", 1, NewEntry("only", b"x"), ticket) == 1
    committer.withdraw(ticket)
    committer.withdraw(ticket)
    assert committer._queues["r"].announced == 0
    other = committer.announce("r")
    assert committer._queues["r"].announced == 1
    committer.withdraw(other)
    assert committer._queues["r"].announced == 0


def test_an_oversized_entry_withdraws_its_announcement() -> None:
    store = _RecordingStore()
    committer = _committer(store)
    ticket = committer.announce("r")
    huge = NewEntry("huge", b"x" * (64 * 1024 * 1024 + 1))
    with pytest.raises(EntryTooLargeError):
        committer.append("r", 1, huge, ticket)
    assert committer._queues["r"].announced == 0
    assert store.groups == []


def test_the_announced_block_withdraws_what_no_append_consumed() -> None:
    store = _RecordingStore()
    committer = _committer(store)
    with pytest.raises(RuntimeError), committer.announced("r"):
        assert committer._queues["r"].announced == 1
        raise RuntimeError("the transaction failed before its append")
    assert committer._queues["r"].announced == 0
    with committer.announced("r") as ticket:
        assert committer.append("r", 1, NewEntry("t", b"x"), ticket) == 1
    assert committer._queues["r"].announced == 0
    with committer.announced(None) as nothing:
        assert nothing is None
