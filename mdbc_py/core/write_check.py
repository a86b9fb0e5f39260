"""The check every front end runs before a write is sent: one range, owned here, same epoch.

The driver (``Connection.before_statement``) and the proxy
(``Session._before_write``) call :func:`check_write` with their own
transaction state; what differs between them is passed in: where a refused
client should send its writes (``elsewhere``), what it should do after a
change of epoch (``on_epoch_change``), and what mode ``route`` does about
another owner (``reroute``: the driver moves its connection, the proxy cuts
the session). Nothing is sent to MariaDB before the check passes, so every
refusal says "nothing was executed" truthfully.

The errors carry their facts as attributes (``range_name``, ``owner``,
``epoch``, ``site``, ``ranges``), so a caller that reroutes or retries never
parses a message.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from mdbc_py.core.ownership import wait_open
from mdbc_py.core.runtime import Runtime
from mdbc_py.core.transaction import Transaction
from mdbc_py.errors import CrossRangeError, FailoverError, NotOwnerError
from mdbc_py.music import RangeInfo, RangeState
from mdbc_py.music.store import with_facts
from mdbc_py.sql import Kind, Statement, TableRef

Reroute = Callable[[str, RangeInfo], str]
"""Mode route: ``(range, owner info) -> site`` the session is at afterwards (or raises)."""


def range_of_write(
    runtime: Runtime, stmt: Statement, tx: Transaction, temporary: Collection[TableRef]
) -> str | None:
    """The one range ``stmt`` writes (None: none); refuses a second range in one transaction."""
    if stmt.kind is Kind.UNKNOWN and not stmt.written:
        return None
    ranges = runtime.ranges.ranges_written(stmt, temporary=temporary)
    if not ranges:
        return None
    if len(ranges) > 1 or (tx.range_name and tx.range_name not in ranges):
        names = sorted(ranges | ({tx.range_name} if tx.range_name else set()))
        raise with_facts(
            CrossRangeError(
                f"this transaction would span ranges {', '.join(names)}: each range has its own "
                "log and owner, so one transaction must stay in one; put the tables in one "
                "range in mdbc.toml or split the transaction (nothing was executed)"
            ),
            ranges=tuple(names),
        )
    return next(iter(ranges))


def owner_for_write(runtime: Runtime, range_name: str, site: str, tx: Transaction) -> RangeInfo:
    """Who owns ``range_name`` now, as a write must know it.

    The cached answer is trusted only when it says this site owns the range
    and it is open; otherwise the store is asked. Before a transaction's
    first write, a change of owner in progress is waited out (bounded).
    """
    info = runtime.owner(range_name)
    if info.owner != site or info.state is not RangeState.OPEN:
        info = runtime.owner(range_name, fresh=True)
    if info.state is not RangeState.OPEN and not tx.has_writes:
        info = wait_open(runtime, range_name, info)
    return info


def check_write(
    runtime: Runtime,
    site: str,
    stmt: Statement,
    tx: Transaction,
    temporary: Collection[TableRef],
    *,
    here: str,
    elsewhere: Callable[[str], str],
    on_epoch_change: str,
    reroute: Reroute | None = None,
) -> str | None:
    """Check a write before it is sent; return its range (None: it writes no range).

    Sets ``tx.epoch`` to the epoch the write runs in. ``here`` names the
    front end in the not-owner message ("this connection is"),
    ``elsewhere(owner)`` says where to send writes instead; ``on_epoch_change``
    ends the failover message (what to do now).
    """
    range_name = range_of_write(runtime, stmt, tx, temporary)
    if range_name is None:
        return None
    info = owner_for_write(runtime, range_name, site, tx)
    if info.owner != site and info.owner and reroute is not None:
        site = reroute(range_name, info)
    if info.owner != site:
        raise with_facts(
            NotOwnerError(
                f"range {range_name!r} is owned by site {info.owner!r} (epoch {info.epoch}), "
                f"not by {site!r} where {here}: {elsewhere(str(info.owner))} "
                "(nothing was executed)"
            ),
            range_name=range_name,
            owner=info.owner,
            epoch=info.epoch,
            site=site,
        )
    if tx.epoch is not None and tx.epoch != info.epoch:
        raise with_facts(
            FailoverError(
                f"range {range_name!r} changed epoch from {tx.epoch} to {info.epoch} "
                f"during this transaction; {on_epoch_change}"
            ),
            range_name=range_name,
            owner=info.owner,
            epoch=info.epoch,
            previous_epoch=tx.epoch,
            site=site,
        )
    tx.epoch = info.epoch
    return range_name
