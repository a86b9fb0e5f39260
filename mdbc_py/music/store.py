"""The MUSIC store contract: a fenced, sequenced log per range, plus coordination.

This is the role MUSIC plays in ONAP (locks, critical and eventual puts over
Cassandra), implemented directly with fencing tokens: every range has an
owner and an epoch, and the store refuses any append whose epoch is not the
current one. Two backends implement it (``cassandra`` and ``embedded``) and
pass the same contract tests (``tests/integration/music``).

Guarantees every backend gives:

- ``append`` assigns consecutive sequence numbers (no gap, no duplicate) to
  all entries of the call, atomically, and only if the epoch is current and
  the range accepts appends; otherwise nothing is written.
- ``change_owner`` is linearizable: of several concurrent calls with the same
  ``from_epoch``, exactly one wins; it returns the tail at that instant, and
  no append with an older epoch succeeds afterwards.
- A successful call is durable (Cassandra: QUORUM / SERIAL); a call that
  cannot reach enough replicas raises ``StoreUnavailableError`` and, for
  ``append``, leaves no partial entry.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import TypeVar

from mdbc_py.config import check_name
from mdbc_py.errors import ConfigError, FencedError, UnknownRangeError
from mdbc_py.music.model import (
    AgentClaim,
    AppliedPosition,
    Lease,
    LogRecord,
    NewEntry,
    OwnerChange,
    ProxyInfo,
    RangeInfo,
    RangeState,
    SiteInfo,
)

DEFAULT_PAGE = 500

E = TypeVar("E", bound=BaseException)


def valid_range_name(name: object) -> str:
    """``name`` if it is a valid range name; else ``UnknownRangeError`` (no such range can exist).

    Names reach CQL and SQL as values or checked identifiers only, so this
    check is also what keeps a hostile name out of any statement.
    """
    try:
        return check_name("range", name)
    except ConfigError as exc:
        raise UnknownRangeError(f"{exc}; no range of that name can exist") from None


def with_facts(exc: E, **facts: object) -> E:
    """Attach the facts of an error as attributes (``exc.range_name``, ``exc.epoch``, ...).

    Callers (the driver, the agent, tests) then branch on values, never on
    the wording of the message.
    """
    for key, value in facts.items():
        setattr(exc, key, value)
    return exc


def append_refused(
    range_name: str,
    epoch: int,
    current: int,
    owner: str | None,
    state: RangeState,
    epoch_owner: str | None = None,
) -> FencedError:
    """The error of an append refused at epoch ``current`` in ``state`` (same in every backend).

    ``owner`` is the owner of the *current* epoch, ``epoch_owner`` the owner
    of the refused ``epoch`` (None when unknown): the message names each
    beside its own epoch, and the error carries them as attributes
    ``range_name``, ``epoch``, ``epoch_owner``, ``current_epoch``, ``owner``
    and ``state``.
    """
    facts = {
        "range_name": range_name,
        "epoch": epoch,
        "epoch_owner": epoch_owner,
        "current_epoch": current,
        "owner": owner,
        "state": state.value,
    }
    if epoch != current:
        held = f" (it was owned by {epoch_owner!r})" if epoch_owner else ""
        return with_facts(
            FencedError(
                f"append to range {range_name!r} refused: epoch {epoch} is not current{held}, "
                f"the current epoch is {current} (owner {owner!r}, {state.value}); nothing was "
                "appended. This writer no longer owns the range: roll back and retry, which "
                "reaches the current owner"
            ),
            **facts,
        )
    return with_facts(
        FencedError(
            f"append to range {range_name!r} refused: the range is {state.value} at epoch "
            f"{current} (owner {owner!r}): a change of owner is in progress; nothing was "
            "appended, roll back and retry once it is open"
        ),
        **facts,
    )


def owner_change_refused(
    range_name: str, from_epoch: int, current: int, owner: str | None, state: RangeState
) -> FencedError:
    """The error of a change of owner that lost to another one (facts as in ``append_refused``)."""
    return with_facts(
        FencedError(
            f"change of owner of range {range_name!r} refused: cannot move from epoch "
            f"{from_epoch}, the epoch is already {current} (owner {owner!r}, {state.value}); "
            "someone changed it first: read the range again and decide anew"
        ),
        range_name=range_name,
        epoch=from_epoch,
        epoch_owner=None,
        current_epoch=current,
        owner=owner,
        state=state.value,
    )


def owner_of_epoch(
    changes: Sequence[OwnerChange], epoch: int, current_owner: str | None, current_epoch: int
) -> str | None:
    """Who owned ``epoch``, from the owner history (newest first); None if it does not say."""
    if epoch == current_epoch:
        return current_owner
    for change in changes:
        if change.to_epoch == epoch:
            return change.to_site
        if change.from_epoch == epoch:
            return change.from_site
    return None


class MusicStore(abc.ABC):
    """Interface of a MUSIC store backend."""

    # -- schema and ranges ------------------------------------------------

    @abc.abstractmethod
    def create_schema(self) -> None:
        """Create the store's tables if missing (idempotent)."""

    @abc.abstractmethod
    def create_range(self, name: str, owner: str) -> RangeInfo:
        """Create a range owned by ``owner`` at epoch 1, state open.

        Idempotent: an existing range is returned unchanged (whoever owns it).
        """

    @abc.abstractmethod
    def describe_range(self, name: str) -> RangeInfo:
        """The range's owner, epoch, state and tail; ``UnknownRangeError`` if absent."""

    @abc.abstractmethod
    def list_ranges(self) -> list[RangeInfo]:
        """Every range, by name."""

    # -- the log ------------------------------------------------------------

    @abc.abstractmethod
    def append(self, range_name: str, epoch: int, entries: Sequence[NewEntry]) -> list[int]:
        """Append ``entries`` in order; return their sequence numbers.

        Raises ``FencedError`` when ``epoch`` is not current or the range does
        not accept appends, ``EntryTooLargeError`` (before writing anything)
        when an entry exceeds the size limit, ``StoreUnavailableError`` when
        the store cannot confirm the write.
        """

    @abc.abstractmethod
    def read(self, range_name: str, from_seq: int, limit: int = DEFAULT_PAGE) -> list[LogRecord]:
        """Up to ``limit`` entries with ``seq >= from_seq``, in order, without gaps.

        Entries below the trim point are gone; reading them raises
        ``TrimmedError`` rather than silently skipping.
        """

    def iter_entries(
        self, range_name: str, from_seq: int = 1, page: int = DEFAULT_PAGE
    ) -> Iterator[LogRecord]:
        """Every entry from ``from_seq`` to the tail as of each page, page by page."""
        seq = from_seq
        while True:
            batch = self.read(range_name, seq, page)
            yield from batch
            if len(batch) < page:
                return
            seq = batch[-1].seq + 1

    @abc.abstractmethod
    def find_txid(self, range_name: str, txid: str) -> LogRecord | None:
        """The entry of transaction ``txid``, if it is in the (untrimmed) log."""

    # -- ownership ------------------------------------------------------------

    @abc.abstractmethod
    def change_owner(
        self,
        range_name: str,
        from_epoch: int,
        to_site: str,
        reason: str,
        state: RangeState = RangeState.FENCED,
    ) -> OwnerChange:
        """Fence: move the range to ``to_site`` at epoch ``from_epoch + 1``.

        One conditional write; exactly one of several concurrent callers with
        the same ``from_epoch`` wins, the others get ``FencedError`` naming the
        new owner. The returned ``tail`` is the last entry at that instant:
        the new owner must apply up to it before it opens the range.
        """

    @abc.abstractmethod
    def set_state(self, range_name: str, epoch: int, state: RangeState) -> RangeInfo:
        """Change the state (open, draining, fenced) if ``epoch`` is current."""

    @abc.abstractmethod
    def history(self, range_name: str | None = None, limit: int = 100) -> list[OwnerChange]:
        """Owner changes, newest first (of one range, or of all)."""

    # -- sites, leases, positions -----------------------------------------

    @abc.abstractmethod
    def register_site(self, name: str, info: dict[str, str] | None = None) -> None:
        """Add (or refresh) a site in the registry."""

    @abc.abstractmethod
    def heartbeat(self, name: str, info: dict[str, str] | None = None) -> None:
        """Record that ``name`` is alive now; ``info`` (if given) replaces its info.

        Agents pass their whole current state with every heartbeat, so a
        state such as ``db=down`` cannot outlive the condition it reports.
        """

    @abc.abstractmethod
    def list_sites(self) -> list[SiteInfo]:
        """Registered sites with their last heartbeat."""

    @abc.abstractmethod
    def acquire_lease(
        self, range_name: str, site: str, ttl: float, epoch: int | None = None
    ) -> Lease | None:
        """Take the lease if free or expired, or renew it if ``site`` holds it.

        Every call writes a new ``version``. With ``epoch`` (the epoch at
        which ``site`` owns the range) the lease is also taken over from a
        holder of an older epoch, live or not: the winner of an epoch holds
        the lease from that moment, and a renewal by the fenced owner (its
        older epoch) fails. Returns the lease held, or None when another
        site holds a live one of an epoch not older than ``epoch``.
        """

    @abc.abstractmethod
    def get_lease(self, range_name: str) -> Lease | None:
        """The live lease of the range, if any."""

    @abc.abstractmethod
    def release_lease(self, range_name: str, site: str) -> None:
        """Give the lease up early (clean shutdown), if ``site`` holds it."""

    # -- one agent per site ---------------------------------------------------

    @abc.abstractmethod
    def claim_agent(self, site: str, instance: str, ttl: float) -> AgentClaim:
        """Claim (or renew the claim) that agent ``instance`` acts for ``site``.

        One conditional write: the claim is granted when nobody holds it, it
        lapsed (``ttl`` seconds without renewal), or ``instance`` holds it.
        Returns the claim now in force; it is ours iff its ``instance`` is
        ``instance``.
        """

    @abc.abstractmethod
    def agent_claim(self, site: str) -> AgentClaim | None:
        """The claim in force for ``site``, if any."""

    @abc.abstractmethod
    def release_agent(self, site: str, instance: str) -> None:
        """Give the claim up (clean shutdown), if ``instance`` holds it."""

    @abc.abstractmethod
    def set_applied(self, site: str, range_name: str, seq: int) -> None:
        """Report that ``site`` has applied the range up to ``seq`` (never moves back)."""

    @abc.abstractmethod
    def applied_positions(self, range_name: str) -> dict[str, AppliedPosition]:
        """Applied position of every site that reported one for the range."""

    @abc.abstractmethod
    def reset_applied(self, site: str, range_name: str, seq: int) -> None:
        """Set a site's position to ``seq`` even if lower (after a resync from a snapshot)."""

    # -- proxies ------------------------------------------------------------

    @abc.abstractmethod
    def proxy_heartbeat(self, site: str, instance: str, info: dict[str, str], ttl: float) -> None:
        """Record that proxy ``instance`` of ``site`` is alive now, with its whole ``info``.

        The record lives ``ttl`` seconds past its last heartbeat, then is
        gone: a proxy that died leaves no permanent trace, and nothing has
        to clean up after it. Proxies are not sites: they never count for
        trimming or failover.
        """

    @abc.abstractmethod
    def list_proxies(self) -> list[ProxyInfo]:
        """The proxies whose last heartbeat is younger than its ``ttl``, by site and instance."""

    # -- settings -----------------------------------------------------------

    @abc.abstractmethod
    def put_setting(self, name: str, value: str | None) -> None:
        """Store a cluster-wide setting (``None`` removes it), e.g. ``failover.paused``."""

    @abc.abstractmethod
    def get_setting(self, name: str) -> str | None:
        """A cluster-wide setting, or None."""

    # -- trimming -----------------------------------------------------------

    @abc.abstractmethod
    def trim(self, range_name: str, margin: int = 0, stale_after: float | None = None) -> int:
        """Remove entries every registered site has applied, keeping ``margin`` more.

        Sites whose heartbeat is older than ``stale_after`` seconds are not
        waited for: they fall behind the trim point and are reported by
        ``needs_resync``. Returns the new trim point.
        """

    def needs_resync(self, range_name: str) -> set[str]:
        """Registered sites whose applied position is below the trim point.

        Such a site can no longer catch up from the log: it must be rebuilt
        from a snapshot (``mdbc resync --full``). The owner never needs one.
        """
        info = self.describe_range(range_name)
        if info.trim_point == 0:
            return set()
        positions = self.applied_positions(range_name)
        behind = set()
        for site in self.list_sites():
            if site.name == info.owner:
                continue
            pos = positions.get(site.name)
            if pos is None or pos.seq < info.trim_point:
                behind.add(site.name)
        return behind

    # -- lifecycle ----------------------------------------------------------

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> MusicStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
