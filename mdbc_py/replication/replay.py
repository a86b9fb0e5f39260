"""Replay: bring a site's database up to a range's log, exactly once, in order.

Used by the agent on every range the site does not own, by a new owner
catching up to the fenced tail before it opens, and to fill the holes an
owner can have (an entry appended whose local COMMIT was lost). The site's
position (``positions``) says what is applied; replay reads the log from the
first hole and applies every entry not yet applied, a page at a time, then
reports the contiguous position to the store (for status and trimming).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py.log import EntryPayload, decode
from mdbc_py.music import MusicStore
from mdbc_py.replication import apply, positions

log = logging.getLogger(__name__)

PAGE = 500


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
            payload = decode(record.payload)
            if payload.ddl is None:
                pending.append((record.seq, payload))
                continue
            applied += apply.apply_batch(conn, range_name, pending)
            pending = []
            if apply.apply_entry(conn, record.seq, payload):
                applied += 1
        applied += apply.apply_batch(conn, range_name, pending)
        progress(applied, total)
        seq = batch[-1].seq + 1
    with conn.cursor(Cursor) as cur:
        position = positions.compact(cur, range_name)
    conn.commit()
    if report and position > 0:
        store.set_applied(site, range_name, position)
    return ReplayResult(range_name, applied, position, target)
