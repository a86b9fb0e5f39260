"""Replay: bring a site's database up to a range's log, exactly once, in order.

Used by the agent on every range the site does not own, by a new owner
catching up to the fenced tail before it opens, and to fill the holes an
owner can have (an entry appended whose local COMMIT was lost). The site's
position (``positions``) says what is applied; replay reads the log from the
first hole and applies every entry not yet applied, a page at a time, then
reports the contiguous position to the store (for status and trimming).

An entry the site's database refuses (a duplicate key, a missing table, ...)
stops replay at that entry with ``ApplyFailedError``, which names the range,
the site, the sequence number and the MySQL error. The entries before it are
applied (a refused batch is replayed one entry at a time to find the culprit),
so the position shows exactly where replay is stuck. Lost connections are not
apply failures: they propagate as the PyMySQL errors they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py.core import apply, positions
from mdbc_py.errors import MdbcError, OperationalError
from mdbc_py.log import EntryPayload, LogFormatError, decode
from mdbc_py.music import MusicStore
from mdbc_py.mysql_errors import CLIENT_ERRORS_FROM, errno

log = logging.getLogger(__name__)

PAGE = 500


class ApplyFailedError(MdbcError, OperationalError):
    """The site's database refused a log entry: replay of the range stops there.

    Facts as attributes: ``range_name``, ``site``, ``seq``, ``code`` (the
    MySQL error number) and ``reason`` (the server's message, which names the
    key or table at fault and never a credential).
    """

    def __init__(self, range_name: str, site: str, seq: int, code: int, reason: str) -> None:
        self.range_name = range_name
        self.site = site
        self.seq = seq
        self.code = code
        self.reason = reason
        super().__init__(
            f"site {site!r} cannot apply entry {seq} of range {range_name!r}: MySQL error "
            f"{code}: {reason}; replay of this range is stuck at that entry until the cause "
            "is removed at that site (or the site is rebuilt: 'mdbc resync --site "
            f"{site} --full')"
        )


class CorruptEntryError(ApplyFailedError):
    """A log entry's bytes are damaged (checksum, truncation ...): replay stops before it.

    Nothing of the entry is applied, and nothing after it: guessing would
    let the replica diverge. ``kind`` is the decoder's word for the damage
    (``LogFormatError.kind``); ``code`` is 0 (no MySQL error). Rereading
    the entry cannot help; the range's other sites or a full resync can.
    """

    def __init__(self, range_name: str, site: str, seq: int, error: LogFormatError) -> None:
        self.kind = error.kind
        super().__init__(
            range_name, site, seq, 0, f"the log entry is damaged ({error.kind}): {error.reason}"
        )


def _refusal(exc: pymysql.err.MySQLError) -> tuple[int, str] | None:
    """(code, message) if the server refused the entry itself; None for connection trouble."""
    code = errno(exc) or 0
    if isinstance(exc, pymysql.err.InterfaceError) or code == 0 or code >= CLIENT_ERRORS_FROM:
        return None
    return code, str(exc.args[-1])


@dataclass
class ReplayResult:
    """What one catch-up did."""

    range_name: str
    applied: int
    position: int
    tail: int


Progress = Callable[[int, int], None]


def _noop(done: int, total: int) -> None:
    pass


def catch_up(
    store: MusicStore,
    conn: Connection,
    site: str,
    range_name: str,
    upto: int | None = None,
    progress: Progress = _noop,
    report: bool = True,
    max_entries: int | None = None,
) -> ReplayResult:
    """Apply every entry of ``range_name`` up to ``upto`` (default: the tail now).

    ``conn`` must be a session of the site's MariaDB prepared with
    ``apply.begin_replay``. Raises ``TrimmedError`` when the entries needed
    are gone from the log (the site must be rebuilt from a snapshot).
    ``max_entries`` bounds the work of one call (the agent's loop must stay
    responsive).
    """
    with conn.cursor(Cursor) as cur:
        pos = positions.read(cur, range_name)
    conn.rollback()
    target = store.describe_range(range_name).tail if upto is None else upto
    if max_entries is not None:
        target = min(target, pos.contiguous + max_entries)
    applied = 0
    total = max(0, target - pos.contiguous - len(pos.above))
    seq = pos.contiguous + 1
    while seq <= target:
        batch = store.read(range_name, seq, min(PAGE, target - seq + 1))
        if not batch:
            break
        pending: list[tuple[int, EntryPayload]] = []
        for record in batch:
            if record.seq in pos.above:
                continue
            try:
                payload = decode(record.payload, range_name=range_name, seq=record.seq)
            except LogFormatError as exc:
                applied += _apply_batch(conn, site, range_name, pending)  # the ones before it
                raise CorruptEntryError(range_name, site, record.seq, exc) from exc
            if payload.ddl is None:
                pending.append((record.seq, payload))
                continue
            applied += _apply_batch(conn, site, range_name, pending)
            pending = []
            applied += _apply_one(conn, site, range_name, record.seq, payload)
        applied += _apply_batch(conn, site, range_name, pending)
        progress(applied, total)
        seq = batch[-1].seq + 1
    with conn.cursor(Cursor) as cur:
        position = positions.compact(cur, range_name)
    conn.commit()
    if report and position > 0:
        store.set_applied(site, range_name, position)
    return ReplayResult(range_name, applied, position, target)


def _apply_batch(
    conn: Connection, site: str, range_name: str, items: list[tuple[int, EntryPayload]]
) -> int:
    """``apply.apply_batch``; if the database refuses it, entry by entry to find the culprit."""
    try:
        return apply.apply_batch(conn, range_name, items)
    except pymysql.err.MySQLError as exc:
        if _refusal(exc) is None:
            raise
    return sum(_apply_one(conn, site, range_name, seq, payload) for seq, payload in items)


def _apply_one(
    conn: Connection, site: str, range_name: str, seq: int, payload: EntryPayload
) -> int:
    """Apply one entry (1 if new); a refusal becomes ``ApplyFailedError`` naming it."""
    try:
        return 1 if apply.apply_entry(conn, seq, payload) else 0
    except pymysql.err.MySQLError as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise
        raise ApplyFailedError(range_name, site, seq, *refusal) from exc
