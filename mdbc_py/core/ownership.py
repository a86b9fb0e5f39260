"""Who may write a range now: the rules both front ends apply around a transaction.

The driver and the proxy learn where a transaction starts and ends in
different ways (a Python API, the MySQL wire), but they must answer the same
questions the same way, so the answers live here:

- :func:`wait_open`: before a transaction's first write, wait out a change
  of owner (bounded) instead of failing;
- :func:`note_possible_write` and :func:`routine_range`: a statement whose
  writes nobody can see (``SELECT f(x)`` of a stored function) is logged
  only if this site owned the range, open, when it ran and still does in the
  same epoch; otherwise it is refused;
- :func:`append_ddl`: a DDL statement already ran locally (it cannot be
  rolled back), so its append retries while the store is unreachable, and
  a failure marks the site ``needs-resync`` and says so.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, MutableMapping

from pymysql.connections import Connection

from mdbc_py import capture
from mdbc_py.core.runtime import Runtime
from mdbc_py.errors import (
    CommitOutcomeUnknownError,
    CrossRangeError,
    FailoverError,
    FencedError,
    NotCapturedError,
    NotOwnerError,
    StoreUnavailableError,
)
from mdbc_py.music import NewEntry, RangeInfo, RangeState
from mdbc_py.sql import Statement, TableRef

__all__ = [
    "DDL_APPEND_SECONDS",
    "OWNER_WAIT_SECONDS",
    "append_ddl",
    "note_possible_write",
    "require_captured",
    "routine_range",
    "wait_open",
]

OWNER_WAIT_SECONDS = 5.0
"""How long a new transaction waits for a range in a change of owner to open."""

DDL_APPEND_SECONDS = 30.0
"""How long a DDL that already ran locally keeps retrying its append."""


def wait_open(runtime: Runtime, range_name: str, info: RangeInfo) -> RangeInfo:
    """Before a transaction's first write, wait (bounded) for the range to be open.

    During a switchover the range is ``draining`` then ``fenced`` for a
    second or two; a new transaction waiting here instead of failing keeps
    the promise of at most one retryable error per transaction.
    """
    deadline = time.monotonic() + OWNER_WAIT_SECONDS
    while info.state is not RangeState.OPEN:
        if time.monotonic() > deadline:
            raise FailoverError(
                f"range {range_name!r} has been {info.state.value} for "
                f"{OWNER_WAIT_SECONDS:.0f} s: a change of owner is under way or stuck "
                "(nothing was executed); retry, and check 'mdbc status'"
            )
        time.sleep(0.05)
        info = runtime.owner(range_name, fresh=True)
    return info


def note_possible_write(runtime: Runtime, site: str, epochs: MutableMapping[str, int]) -> None:
    """A statement whose writes nobody can see is about to run: note the ranges ``site`` owns.

    From the owner cache (no store round trip); the first such statement of
    a transaction fixes each range's epoch in ``epochs``.
    """
    for name in runtime.cfg.ranges:
        if name in epochs:
            continue
        info = runtime.owner(name)
        if info.owner == site and info.state is RangeState.OPEN:
            epochs[name] = info.epoch


def routine_range(
    runtime: Runtime, site: str, epochs: MutableMapping[str, int], range_of: dict[str, str | None]
) -> tuple[str | None, int | None]:
    """Range and epoch of rows staged by writes the classifier could not see.

    They are the truth about what the transaction wrote (a stored function,
    a statement nobody parses), logged like any other write, but only if
    ``site`` owned their one range, open, when the first such statement ran
    (``epochs``, see :func:`note_possible_write`) and still owns it in the
    same epoch now. Otherwise the transaction is refused: at a replica it
    would have changed rows that the log never carries. ``(None, None)``:
    the rows belong to no range.
    """
    ranges = sorted({r for r in range_of.values() if r is not None})
    if not ranges:
        return None, None
    tables = ", ".join(sorted(range_of))
    if len(ranges) > 1:
        raise CrossRangeError(
            f"this transaction wrote rows of ranges {', '.join(ranges)} (tables {tables}) "
            "through a stored function or a statement mdbc cannot read: one transaction "
            "must stay in one range; it was rolled back, nothing of it was committed"
        )
    name = ranges[0]
    seen = epochs.get(name)
    info = runtime.owner(name)
    if info.owner != site or info.epoch != seen or info.state is not RangeState.OPEN:
        info = runtime.owner(name, fresh=True)
    mine = seen is not None and info.owner == site
    if mine and info.epoch == seen and info.state is RangeState.OPEN:
        return name, seen
    if mine:
        raise FailoverError(
            f"range {name!r} changed from epoch {seen} to {info.epoch} "
            f"({info.state.value}) while this transaction wrote {tables} through a stored "
            "function; it was rolled back, nothing of it was committed: retry it"
        )
    raise NotOwnerError(
        f"this transaction wrote {tables} of range {name!r} through a stored function "
        f"or a statement mdbc cannot read, at site {site!r}, which did not own "
        f"the range when it ran (owner {info.owner!r}, epoch {info.epoch}): it was rolled "
        f"back, nothing of it was committed; send it to {info.owner!r}"
    )


def append_ddl(
    runtime: Runtime,
    site: str,
    range_name: str,
    epoch: int,
    entry: NewEntry,
    mark_needs_resync: Callable[[str], None],
) -> int:
    """Append a DDL entry that already ran at ``site``, retrying while the store is down.

    The store promises that a ``StoreUnavailableError`` appended nothing;
    each retry still looks the transaction up first, so that a broken
    promise could never log the same DDL twice. When it finally fails,
    ``mark_needs_resync(why)`` records that the site's schema is ahead of
    the log, and the error says so.
    """
    deadline = time.monotonic() + DDL_APPEND_SECONDS
    while True:
        try:
            return runtime.committer.append(range_name, epoch, entry)
        except StoreUnavailableError as exc:
            if time.monotonic() < deadline:
                time.sleep(1.0)
                with contextlib.suppress(StoreUnavailableError):
                    found = runtime.store.find_txid(range_name, entry.txid)
                    if found is not None:
                        return found.seq
                continue
            mark_needs_resync(f"DDL not logged: {exc}")
            raise StoreUnavailableError(
                f"DDL ran at site {site!r} but could not be logged for "
                f"{DDL_APPEND_SECONDS:.0f} s ({exc}); the site is marked needs-resync: "
                f"rebuild it with 'mdbc resync --site {site} --full'"
            ) from None
        except (FencedError, CommitOutcomeUnknownError) as exc:
            mark_needs_resync(f"DDL not logged: {exc}")
            told = type(exc)(
                f"{exc}. The DDL already ran at site {site!r}, which is marked "
                f"needs-resync: rebuild it with 'mdbc resync --site {site} --full'"
            )
            told.__dict__.update(exc.__dict__)  # the facts (range, epochs, txid) stay
            raise told from None


def require_captured(
    runtime: Runtime,
    site: str,
    conn: Connection,
    stmt: Statement,
    range_name: str,
    temporary: Collection[TableRef] = (),
) -> None:
    """Refuse a write to a range table without capture at ``site``: it would not be replicated.

    What is captured is cached per database until a DDL; a table missing
    from the cache is looked up once more (``conn``: the session at
    ``site``) before the write is refused. Temporary tables and tables of
    no range pass.
    """
    for table in stmt.written:
        if table.is_wildcard or table.db is None or table in temporary:
            continue
        if runtime.ranges.range_of(table) is None:
            continue

        def load(db: str) -> set[str]:
            return set(capture.captured_tables(conn, db))

        if table.name in runtime.captured(site, table.db, load):
            continue
        if table.name in runtime.captured(site, table.db, load, fresh=True):
            continue
        raise NotCapturedError(
            f"table {table.db}.{table.name} of range {range_name!r} is not captured at site "
            f"{site!r}: it has no primary key, or does not exist, or 'mdbc init' "
            "has not run since it was created; its changes would not be replicated, so "
            "nothing was executed"
        )
