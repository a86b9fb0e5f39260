"""Values the MUSIC store hands out: ranges, log records, owner changes, sites, leases.

All are frozen dataclasses: a snapshot read from the store at one instant,
never a live view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RangeState(StrEnum):
    """Whether a range's owner may append.

    ``open``: the owner appends. ``draining``: a switchover is under way; the
    owner lets in-flight transactions finish (appends still succeed) but starts
    no new ones. ``fenced``: the epoch has moved to a new owner that is still
    catching up; nobody may append until it opens the range.
    """

    OPEN = "open"
    DRAINING = "draining"
    FENCED = "fenced"

    @property
    def accepts_appends(self) -> bool:
        """True in the states where the current epoch's owner may append."""
        return self in (RangeState.OPEN, RangeState.DRAINING)


@dataclass(frozen=True)
class RangeInfo:
    """One range as the store sees it now.

    ``tail`` is the sequence number of the last entry (0 for an empty log);
    entries ``<= trim_point`` have been removed by trimming.
    """

    name: str
    owner: str | None
    epoch: int
    state: RangeState
    tail: int
    segment: int
    trim_point: int = 0


@dataclass(frozen=True)
class NewEntry:
    """An entry to append: the transaction id and its encoded payload (``mdbc_py.log``)."""

    txid: str
    payload: bytes


@dataclass(frozen=True)
class LogRecord:
    """One entry of a range's log, as stored."""

    range_name: str
    seq: int
    epoch: int
    txid: str
    payload: bytes = field(repr=False)
    appended_at: float  # seconds since the epoch, store clock


@dataclass(frozen=True)
class OwnerChange:
    """One change of owner: the result of a fence, and a line of the history."""

    range_name: str
    from_site: str | None
    to_site: str
    from_epoch: int
    to_epoch: int
    tail: int  # the last sequence number at the instant of the change
    at: float
    reason: str


@dataclass(frozen=True)
class SiteInfo:
    """A registered site and its last heartbeat."""

    name: str
    registered_at: float
    heartbeat_at: float
    info: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProxyInfo:
    """One ``mdbc proxy`` process as its last heartbeat describes it.

    ``instance`` names the process (host and listen address), ``info`` its
    state at that heartbeat (``listen``, ``sessions``, ``state``: up,
    draining or stopped; ``interval``: seconds between its heartbeats).
    """

    site: str
    instance: str
    heartbeat_at: float
    info: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Lease:
    """Who holds a range's lease, for which epoch, and until when (store clock).

    ``version`` changes at every renewal and ``ttl`` is the lifetime the
    holder promised: a reader judges liveness by how long ago (by its own
    monotonic clock) it last saw ``version`` change, so no reader trusts
    another host's wall clock (``mdbc_py.music.lease_watch``). ``expires_at``
    is the store's own estimate, for display. ``epoch`` is the epoch the
    holder owns the range at (0: written without one); an owner of a newer
    epoch takes the lease over at once.
    """

    range_name: str
    holder: str
    expires_at: float
    epoch: int = 0
    version: str = ""
    ttl: float = 0.0


@dataclass(frozen=True)
class AgentClaim:
    """The one agent process allowed to act for a site (``MusicStore.claim_agent``).

    ``instance`` identifies the process (host, pid and a random part);
    ``expires_at`` is the store's estimate of when the claim lapses unless
    renewed.
    """

    site: str
    instance: str
    expires_at: float


@dataclass(frozen=True)
class AppliedPosition:
    """How far one site has applied one range's log."""

    site: str
    range_name: str
    seq: int
    updated_at: float
