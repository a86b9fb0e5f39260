"""Group commit: the threads of one process share appends to the store.

An append is one conditional write (a Paxos round on Cassandra): its cost is
latency, not bytes. So while one append of a range is in flight, entries
from other threads queue up, and the thread whose append just finished
carries all of them in the next call. One thread at a time is the
*leader* for a range; the others wait on their own slot.

Gathering: the store's CPU is spent per append, not per entry (one Paxos
round, whatever it carries), so the CPU a transaction costs the store falls
as groups grow. A front end *announces* a transaction when it starts
collecting its rows (:meth:`GroupCommitter.announce`), a round trip or two
before its entry is ready. A leader that knows of announced transactions
waits for them, up to :data:`GATHER_SECONDS`, before it takes its group.
Nothing else is delayed: a lone writer, or a leader with nobody announced,
goes straight to the store.

Every entry gets exactly the outcome of the append that carried it: a
sequence number, or the error that append raised (all entries of one append
share it, since the append is atomic). Entries with different epochs never
share an append.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from mdbc_py.errors import CommitOutcomeUnknownError
from mdbc_py.log.chunks import check_size
from mdbc_py.music.model import NewEntry
from mdbc_py.music.store import MusicStore, with_facts

MAX_GROUP_ENTRIES = 256
MAX_GROUP_BYTES = 4 * 1024 * 1024
GATHER_SECONDS = 0.002
"""How long a leader waits at most for announced transactions (see module docstring)."""


class Ticket:
    """An announced transaction: consumed by its append, or withdrawn."""

    __slots__ = ("open", "range_name")

    def __init__(self, range_name: str) -> None:
        self.range_name = range_name
        self.open = True


@dataclass
class _Slot:
    epoch: int
    entry: NewEntry
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to carry the next group, not with a result
    seq: int | None = None
    error: BaseException | None = None


@dataclass
class _RangeQueue:
    pending: deque[_Slot] = field(default_factory=deque)
    leader_active: bool = False
    announced: int = 0
    """Announced transactions whose entry is not queued yet."""


class GroupCommitter:
    """Shares store appends between the threads of one process (see module docstring)."""

    def __init__(
        self,
        store: MusicStore,
        max_entries: int = MAX_GROUP_ENTRIES,
        max_bytes: int = MAX_GROUP_BYTES,
        observer: Callable[[str, int], None] | None = None,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        self.store = store
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.gather_seconds = gather_seconds
        self.observer = observer
        """Told ``(range, transactions)`` after each successful append (e.g. metrics)."""
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queues: dict[str, _RangeQueue] = {}
        self.appends = 0
        self.entries = 0

    def announce(self, range_name: str) -> Ticket:
        """Tell the committer a transaction of ``range_name`` is on its way.

        Pass the ticket to :meth:`append`, or :meth:`withdraw` it if the
        transaction ends without appending (withdrawing a consumed ticket
        does nothing, so a ``finally`` may always withdraw).
        """
        with self._lock:
            self._queues.setdefault(range_name, _RangeQueue()).announced += 1
        return Ticket(range_name)

    @contextlib.contextmanager
    def announced(self, range_name: str | None) -> Iterator[Ticket | None]:
        """Announce a transaction of ``range_name`` for the block (None: nothing to announce).

        The block passes the ticket to :meth:`append`; whatever happens, it is
        withdrawn at the end unless an append consumed it.
        """
        if range_name is None:
            yield None
            return
        ticket = self.announce(range_name)
        try:
            yield ticket
        finally:
            if ticket.open:  # read unlocked: withdraw checks again under the lock
                self.withdraw(ticket)

    def withdraw(self, ticket: Ticket) -> None:
        """Forget an announced transaction that will not append."""
        with self._lock:
            self._consume(ticket)

    def _consume(self, ticket: Ticket | None) -> None:
        if ticket is not None and ticket.open:
            ticket.open = False
            self._queues[ticket.range_name].announced -= 1
            self._arrived.notify_all()

    def append(
        self, range_name: str, epoch: int, entry: NewEntry, ticket: Ticket | None = None
    ) -> int:
        """Append one entry (sharing the store call with concurrent ones); return its seq.

        Raises what the carrying append raised: FencedError,
        StoreUnavailableError, CommitOutcomeUnknownError ... An oversized entry
        is refused here, before it can fail anybody else's append.
        """
        try:
            check_size(entry.payload)
        except BaseException:
            if ticket is not None:
                self.withdraw(ticket)
            raise
        slot = _Slot(epoch, entry)
        with self._lock:
            queue = self._queues.setdefault(range_name, _RangeQueue())
            queue.pending.append(slot)
            self._consume(ticket)
            lead = not queue.leader_active
            if lead:
                queue.leader_active = True
        if lead:
            self._lead_once(range_name, queue)
        while True:
            slot.done.wait()
            if not slot.lead:
                break
            slot.lead = False
            slot.done.clear()
            self._lead_once(range_name, queue)
        if slot.error is not None:
            raise slot.error
        assert slot.seq is not None
        return slot.seq

    def _take_group(self, queue: _RangeQueue) -> list[_Slot]:
        """The next group: same epoch as the oldest waiting entry, within the limits."""
        group: list[_Slot] = []
        size = 0
        epoch = queue.pending[0].epoch
        kept: deque[_Slot] = deque()
        while queue.pending:
            slot = queue.pending.popleft()
            fits = len(group) < self.max_entries and (
                not group or size + len(slot.entry.payload) <= self.max_bytes
            )
            if slot.epoch == epoch and fits:
                group.append(slot)
                size += len(slot.entry.payload)
            else:
                kept.append(slot)
        queue.pending = kept
        return group

    def _lead_once(self, range_name: str, queue: _RangeQueue) -> None:
        """Carry one group to the store, then hand leadership to the oldest waiter.

        Handing over (rather than serving the queue until it is empty) lets the
        leader's own caller return as soon as its entry is appended.
        """
        with self._lock:
            self._gather(queue)
            group = self._take_group(queue)
        try:
            seqs = self.store.append(range_name, group[0].epoch, [s.entry for s in group])
        except BaseException as exc:  # every waiter must learn the outcome, whatever it is
            for slot in group:
                slot.error = _own_error(exc, range_name, slot, group)
                slot.done.set()
            self._hand_over(queue)
            if not isinstance(exc, Exception):
                raise
            return
        self.appends += 1
        self.entries += len(group)
        if self.observer is not None:
            self.observer(range_name, len(group))
        for slot, seq in zip(group, seqs, strict=True):
            slot.seq = seq
            slot.done.set()
        self._hand_over(queue)

    def _gather(self, queue: _RangeQueue) -> None:
        """Wait (lock held) for announced transactions, up to ``gather_seconds``."""
        if queue.announced <= 0 or self.gather_seconds <= 0:
            return
        deadline = time.monotonic() + self.gather_seconds
        while queue.announced > 0 and len(queue.pending) < self.max_entries:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._arrived.wait(left)

    def _hand_over(self, queue: _RangeQueue) -> None:
        with self._lock:
            if queue.pending:
                nxt = queue.pending[0]
                nxt.lead = True
                nxt.done.set()
            else:
                queue.leader_active = False


def _own_error(
    exc: BaseException, range_name: str, slot: _Slot, group: list[_Slot]
) -> BaseException:
    """The error ``slot``'s caller gets when the append carrying its entry failed.

    An unknown outcome is about each transaction of the append: every caller
    gets an error of its own that names *its* transaction id (``.txid``),
    the one it must look up before retrying, and every id of the append
    (``.txids``). Other errors (fenced, store down) are the same for all.
    """
    if not isinstance(exc, CommitOutcomeUnknownError):
        return exc
    txid = slot.entry.txid
    if len(group) == 1 and exc.txid == txid:
        return exc
    own = with_facts(
        CommitOutcomeUnknownError(
            f"append to range {range_name!r}, carrying {len(group)} transactions, timed out "
            "after it was sent, and the store could not be asked whether it happened; look "
            f"transaction {txid!r} up in the log before retrying"
        ),
        range_name=range_name,
        txid=txid,
        txids=tuple(s.entry.txid for s in group),
    )
    own.__cause__ = exc
    return own
