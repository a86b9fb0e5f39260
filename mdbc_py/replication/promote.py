"""Changes of owner: the new owner's catch-up and opening, manual promote, switchover.

Every change of owner has the same two halves:

1. **fence**: one conditional write in the store moves the range to the new
   site at epoch E+1, state ``fenced``, and returns the log's tail T at that
   instant. From then on no append of epoch E can succeed.
2. **open**: the new site applies every entry up to T (all that can ever
   exist of epoch E), then sets the range ``open`` at E+1. Only then may it
   accept writes. This is DESIGN.md invariant 5: promotion never loses data.

``promote`` and ``switchover`` differ only in what happens before the fence:
a switchover first drains the old owner (state ``draining``: in-flight
transactions finish, new ones get a retryable error), a promote does not.

A catch-up that fails after the fence (the new owner's database refuses an
entry, or cannot be reached) must not leave the range fenced with nobody
able to open it: ``finish_or_hand_back`` gives the range back to the
previous owner at a new epoch when that site is reachable and has applied
everything up to the fenced tail; otherwise the range stays fenced at the
new owner and the ``PromotionError`` says which range, site and entry, the
cause, and what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import pymysql
from pymysql.cursors import Cursor

from mdbc_py.config import Config
from mdbc_py.core import positions
from mdbc_py.errors import FencedError, MdbcError, OperationalError, StoreUnavailableError
from mdbc_py.music import MusicStore, OwnerChange, RangeInfo, RangeState
from mdbc_py.replication import replay
from mdbc_py.replication.replay import ApplyFailedError
from mdbc_py.replication.sites import SiteUnreachableError, connect_site, set_read_only

log = logging.getLogger(__name__)

DRAIN_SECONDS = 2.0
QUIET_SECONDS = 0.3


class PromotionError(MdbcError, OperationalError):
    """A promote or switchover was refused or could not finish; the message says why.

    Facts as attributes (None where they do not apply): ``range_name``,
    ``site`` (the site that was to become owner), ``seq`` (the entry it could
    not apply), ``cause`` (the underlying error's text), ``handed_back_to``
    (the previous owner, when the range was given back to it) and ``owner``,
    ``epoch``, ``state`` (where the range stands now).
    """

    def __init__(
        self,
        message: str,
        *,
        range_name: str | None = None,
        site: str | None = None,
        seq: int | None = None,
        cause: str | None = None,
        handed_back_to: str | None = None,
        owner: str | None = None,
        epoch: int | None = None,
        state: str | None = None,
    ) -> None:
        super().__init__(message)
        self.range_name = range_name
        self.site = site
        self.seq = seq
        self.cause = cause
        self.handed_back_to = handed_back_to
        self.owner = owner
        self.epoch = epoch
        self.state = state


@dataclass(frozen=True)
class Promotion:
    """The outcome of a change of owner."""

    change: OwnerChange
    opened: RangeInfo
    applied: int
    seconds: float


Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def open_as_owner(
    cfg: Config, store: MusicStore, change: OwnerChange, say: Say = _quiet
) -> Promotion:
    """The new owner's half: apply everything up to the fenced tail, then open."""
    began = time.monotonic()
    conn = connect_site(cfg, change.to_site, replay=True, autocommit=False)
    try:
        result = replay.catch_up(store, conn, change.to_site, change.range_name, upto=change.tail)
        with conn.cursor(Cursor) as cur:
            pos = positions.read(cur, change.range_name)
        conn.rollback()
        if pos.contiguous < change.tail:
            raise PromotionError(
                f"range {change.range_name!r}: site {change.to_site!r} applied up to "
                f"{pos.contiguous} but the fenced tail is {change.tail}",
                range_name=change.range_name,
                site=change.to_site,
                seq=pos.contiguous + 1,
                cause="the log ended before the fenced tail",
            )
        set_read_only(conn, False)
        conn.commit()
    finally:
        conn.close()
    opened = store.set_state(change.range_name, change.to_epoch, RangeState.OPEN)
    say(
        f"range {change.range_name}: {change.to_site} applied {result.applied} entries up to "
        f"{change.tail} and opened at epoch {change.to_epoch}"
    )
    return Promotion(change, opened, result.applied, time.monotonic() - began)


FAILURES = (ApplyFailedError, PromotionError, SiteUnreachableError, pymysql.err.Error)
"""What can stop a catch-up after the fence (the store's own failures propagate as they are)."""


def finish_or_hand_back(
    cfg: Config, store: MusicStore, change: OwnerChange, say: Say = _quiet
) -> Promotion:
    """``open_as_owner``; if it fails, never leave the range fenced without a way out.

    The previous owner gets the range back (at ``to_epoch + 1``, open) when
    its database is reachable and has applied every entry up to the fenced
    tail: nothing can have been appended since the fence, so it has it all.
    Either way a ``PromotionError`` names the range, the site, the entry
    that could not be applied, the cause and what to do.
    """
    try:
        return open_as_owner(cfg, store, change, say)
    except (FencedError, StoreUnavailableError):
        raise  # the store's own answers (PyMySQL subclasses too): nothing to hand back
    except FAILURES as exc:
        raise _hand_back(cfg, store, change, exc, say) from exc


def _failure_facts(change: OwnerChange, exc: BaseException) -> tuple[int | None, str]:
    if isinstance(exc, ApplyFailedError):
        return exc.seq, f"MySQL error {exc.code}: {exc.reason}"
    if isinstance(exc, PromotionError):
        return exc.seq, f"{exc}: {exc.cause}" if exc.cause else str(exc)
    if isinstance(exc, pymysql.err.Error) and exc.args:
        return None, f"MySQL error {exc.args[0]}: {exc.args[-1]}"
    return None, str(exc)


def _hand_back(
    cfg: Config, store: MusicStore, change: OwnerChange, exc: BaseException, say: Say
) -> PromotionError:
    """Give the range back to the previous owner if it can take it; the error to raise."""
    rng, site, prev = change.range_name, change.to_site, change.from_site
    seq, cause = _failure_facts(change, exc)
    at = f"entry {seq}" if seq is not None else "its catch-up"
    facts = {"range_name": rng, "site": site, "seq": seq, "cause": cause}
    why_not = _can_take_back(cfg, prev, change)
    back: OwnerChange | None = None
    if why_not is None and prev is not None:
        try:
            back = store.change_owner(
                rng,
                change.to_epoch,
                prev,
                reason=f"hand back: promotion of {site} failed at {at} ({cause})",
                state=RangeState.OPEN,
            )
        except (FencedError, StoreUnavailableError) as lost:
            back = _handed_back_by_another(store, rng, prev, change)
            if back is None:
                why_not = f"giving it back failed ({lost})"
        if back is not None:
            say(f"range {rng}: promotion of {site} failed; handed back to {prev}")
            return PromotionError(
                f"range {rng!r}: {site!r} could not finish its promotion: it failed at {at} "
                f"({cause}). The range was handed back to {prev!r}, which had applied every "
                f"entry up to the fenced tail {change.tail}: it is open at epoch "
                f"{back.to_epoch}. Remove the cause at {site!r} (its replay shows the same "
                f"error) before promoting it again, or promote another site",
                **facts,
                handed_back_to=prev,
                owner=prev,
                epoch=back.to_epoch,
                state=RangeState.OPEN.value,
            )
    return PromotionError(
        f"range {rng!r} stays fenced at epoch {change.to_epoch} with owner {site!r}, which "
        f"failed at {at} ({cause}); {why_not}. No site accepts writes for this range until "
        f"{site!r} applies entries up to {change.tail}: remove the cause at {site!r} and its "
        f"agent opens the range (or run 'mdbc promote {rng} --site {site} --force' again), "
        f"or promote another site that has applied up to {change.tail}",
        **facts,
        owner=site,
        epoch=change.to_epoch,
        state=RangeState.FENCED.value,
    )


def _handed_back_by_another(
    store: MusicStore, rng: str, prev: str, change: OwnerChange
) -> OwnerChange | None:
    """The hand-back to ``prev`` if another process (say the agent beside a CLI) just did it."""
    try:
        for past in store.history(rng, limit=5):
            if past.from_epoch == change.to_epoch and past.to_site == prev:
                return past
    except StoreUnavailableError:
        pass
    return None


def _can_take_back(cfg: Config, prev: str | None, change: OwnerChange) -> str | None:
    """None if ``prev`` can take the range back; else why not (for the message)."""
    if prev is None or prev == change.to_site or prev not in cfg.sites:
        return "there is no previous owner to give it back to"
    try:
        conn = connect_site(cfg, prev)
    except SiteUnreachableError as exc:
        return f"the previous owner {prev!r} cannot take it back: {exc}"
    try:
        with conn.cursor(Cursor) as cur:
            done = positions.read(cur, change.range_name).contiguous
    except pymysql.err.Error as exc:
        return f"the previous owner {prev!r} cannot take it back: {exc.args[-1]}"
    finally:
        conn.close()
    if done < change.tail:
        return (
            f"the previous owner {prev!r} cannot take it back: it applied up to {done}, "
            f"short of the fenced tail {change.tail}"
        )
    return None


def _check_target(cfg: Config, store: MusicStore, range_name: str, site: str) -> RangeInfo:
    """Validate a promote/switchover target before anything changes."""
    if site not in cfg.sites:
        raise PromotionError(
            f"unknown site {site!r} (configured: {', '.join(sorted(cfg.sites))}); nothing changed"
        )
    if cfg.sites[site].nofailover:
        raise PromotionError(f"site {site!r} is tagged nofailover; nothing changed")
    info = store.describe_range(range_name)
    if info.owner == site and info.state is RangeState.OPEN:
        raise PromotionError(f"site {site!r} already owns {range_name!r} (epoch {info.epoch})")
    try:
        connect_site(cfg, site).close()
    except SiteUnreachableError as exc:
        raise PromotionError(
            f"{exc}; cannot make it the owner of {range_name!r}; nothing changed"
        ) from None
    return info


def promote(
    cfg: Config,
    store: MusicStore,
    range_name: str,
    site: str,
    force: bool = False,
    reason: str = "manual promote",
    say: Say = _quiet,
) -> Promotion:
    """Make ``site`` the owner now. Without ``force`` only if the owner's lease is gone."""
    info = _check_target(cfg, store, range_name, site)
    if not force:
        lease = store.get_lease(range_name)
        if lease is not None and lease.holder == info.owner:
            raise PromotionError(
                f"range {range_name!r}: owner {info.owner!r} is alive (it holds the lease); use "
                f"'mdbc switchover {range_name} --to {site}' for a planned change, or --force; "
                "nothing changed"
            )
    change = store.change_owner(range_name, info.epoch, site, reason)
    say(
        f"range {range_name}: fenced epoch {info.epoch} ({info.owner}) at tail {change.tail}; "
        f"{site} is owner at epoch {change.to_epoch}"
    )
    promotion = finish_or_hand_back(cfg, store, change, say)
    _demote_quietly(cfg, store, info.owner)
    return promotion


def switchover(
    cfg: Config,
    store: MusicStore,
    range_name: str,
    to_site: str,
    drain_seconds: float = DRAIN_SECONDS,
    say: Say = _quiet,
) -> Promotion:
    """Planned change of owner: drain, fence, catch up, open; nothing acknowledged is lost."""
    info = _check_target(cfg, store, range_name, to_site)
    if info.state is not RangeState.OPEN:
        raise PromotionError(
            f"range {range_name!r} is {info.state.value}: another change of owner is under way"
        )
    store.set_state(range_name, info.epoch, RangeState.DRAINING)
    say(f"range {range_name}: draining {info.owner} (up to {drain_seconds:.1f} s)")
    _wait_quiet(store, range_name, drain_seconds)
    change = store.change_owner(range_name, info.epoch, to_site, reason="switchover")
    say(f"range {range_name}: fenced {info.owner} at tail {change.tail}")
    promotion = finish_or_hand_back(cfg, store, change, say)
    _demote_quietly(cfg, store, info.owner)
    return promotion


def _wait_quiet(store: MusicStore, range_name: str, limit: float) -> None:
    """Wait until the tail has not moved for QUIET_SECONDS (or ``limit`` passed)."""
    deadline = time.monotonic() + limit
    tail = store.describe_range(range_name).tail
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now_tail = store.describe_range(range_name).tail
        if now_tail != tail:
            tail, still_since = now_tail, time.monotonic()
        elif time.monotonic() - still_since >= QUIET_SECONDS:
            return


def _demote_quietly(cfg: Config, store: MusicStore, old_owner: str | None) -> None:
    """Make the old owner read-only if it owns nothing any more and can be reached."""
    if old_owner is None or old_owner not in cfg.sites:
        return
    if any(r.owner == old_owner for r in store.list_ranges() if r.name in cfg.ranges):
        return
    try:
        conn = connect_site(cfg, old_owner)
    except SiteUnreachableError:
        return  # its agent makes it read-only when it comes back
    try:
        set_read_only(conn, True)
    finally:
        conn.close()
