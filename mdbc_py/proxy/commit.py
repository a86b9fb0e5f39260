"""The commit core, run on a proxy client's own backend session.

The same steps as the driver's commit (DESIGN.md section 4), from the same
functions of :mod:`mdbc_py.core.commit`: read the staged rows inside the
open transaction, build and encode the entry, the durable fenced append
(the process's group committer), then the local commit.

Where this differs from the driver, and why:

- The local commit is one multi-statement round trip of the proxy's own:
  the cleanup deletes, the applied position and *the client's own
  statement* (``COMMIT``, ``COMMIT AND CHAIN``, ``COMMIT RELEASE`` ...),
  whose OK packet is then relayed to the client unchanged.
  ``core.commit.local_commit`` always sends a bare ``COMMIT`` and answers
  through PyMySQL, which keeps no raw packet; a ``final_sql`` parameter
  there (and a hook returning the raw result) would let the proxy use it.
- Character set: the staged rows must decode exactly as the driver's do,
  so when the client's session may not be in ``utf8mb4`` the commit saves
  the session's character-set variables in user variables
  (``@mdbc_proxy_*``), switches to ``utf8mb4``, and restores them in the
  final batch.
- The choice of range for writes nobody could see (stored functions) and
  the logging of DDL that already ran are the core's rules
  (:mod:`mdbc_py.core.ownership`), shared with the driver.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pymysql
from pymysql.constants import ER
from pymysql.cursors import Cursor

from mdbc_py.core import apply, ownership, positions
from mdbc_py.core import commit as core
from mdbc_py.errors import (
    FencedError,
    LogDivergedError,
)
from mdbc_py.log import DdlStatement
from mdbc_py.log.chunks import check_size
from mdbc_py.music import NewEntry
from mdbc_py.music.group_commit import Ticket
from mdbc_py.proxy import wire
from mdbc_py.sql import TableRef

if TYPE_CHECKING:
    from mdbc_py.proxy.session import Session

log = logging.getLogger(__name__)


SAVE_CHARSET = (
    "SET @mdbc_proxy_csc = @@character_set_client, @mdbc_proxy_csr = @@character_set_results, "
    "@mdbc_proxy_coll = @@collation_connection, NAMES utf8mb4"
)
RESTORE_CHARSET = (
    "SET character_set_client = @mdbc_proxy_csc, character_set_results = @mdbc_proxy_csr, "
    "collation_connection = @mdbc_proxy_coll"
)


@dataclass(frozen=True)
class Finished:
    """How a commit ended: the final statement's terminal packet, to relay.

    ``repaired`` is True when the local COMMIT failed after a successful
    append: the entry is in the log, the proxy applied it on a fresh session
    (or replay will), and ``packet`` is an OK the proxy made. ``lost`` is
    True when the backend session is gone: answer, then end the session.
    """

    packet: wire.Packet
    repaired: bool = False
    lost: bool = False
    range_name: str | None = None
    """The range whose log took the entry; None when nothing was logged."""


def run_batch(s: Session, statements: list[str]) -> list[wire.Packet]:
    """Send ``statements`` as one multi-statement query; the terminal packet of each.

    MariaDB stops at the first error, so the list ends at the first ERR.
    """
    s.raw._next_seq_id = 0  # type: ignore[attr-defined]
    s.backend.send(
        wire.Packet(0, b"\x03" + ";\n".join(statements).encode("utf-8", "surrogateescape"))
    )
    results: list[wire.Packet] = []
    while True:
        terminal = s.backend.read_packet()
        if not (terminal.is_ok or terminal.is_err):  # a result set (none expected): skip it
            columns, _ = wire.read_lenenc(terminal.payload, 0)
            for _ in range(columns):
                s.backend.read_packet()
            terminal = s.backend.read_packet()  # end of the column definitions
            while not terminal.is_err:
                terminal = s.backend.read_packet()
                if terminal.is_eof:
                    break
        results.append(terminal)
        status = wire.status_of(terminal)
        if terminal.is_err or status is None or not status & wire.SERVER_MORE_RESULTS_EXISTS:
            return results


def save_charset(s: Session) -> bool:
    """Switch the session to utf8mb4 for the proxy's statements; True if it must be restored."""
    if s.charset_clean:
        return False
    with s.raw.cursor(Cursor) as cur:
        cur.execute(SAVE_CHARSET)
    return True


def restore_charset(s: Session) -> None:
    with contextlib.suppress(pymysql.err.Error, wire.ConnectionClosed), s.raw.cursor(Cursor) as cur:
        cur.execute(RESTORE_CHARSET)


def rollback(s: Session) -> None:
    """Roll back the open transaction (if the session is gone, the server did)."""
    s.relay.status &= ~wire.SERVER_STATUS_IN_TRANS
    with contextlib.suppress(pymysql.err.Error, wire.ConnectionClosed):
        s.raw.rollback()


def commit(s: Session, final_sql: str) -> Finished:
    """Commit the client's open transaction through the log, ending with ``final_sql``.

    Raises the mdbc error of a refused or failed commit, after rolling the
    transaction back (nothing of it exists anywhere then), except
    ``LogDivergedError`` (the site is marked needs-resync). The session's
    observer counts the outcome and times it.
    """
    return s.observer.commit(s.tx.range_name, lambda: _announced(s, final_sql))


def _announced(s: Session, final_sql: str) -> Finished:
    """``_commit``, announced to the group committer before the rows are read.

    A concurrent leader then waits for this entry and carries it in the
    same append (see :mod:`mdbc_py.music.group_commit`).
    """
    with s.runtime.committer.announced(s.tx.range_name if s.tx.has_writes else None) as ticket:
        return _commit(s, final_sql, ticket)


def _commit(s: Session, final_sql: str, ticket: Ticket | None) -> Finished:
    tx = s.tx
    restore = False
    try:
        restore = save_charset(s)
        taken = core.collect_changes(s.raw, tx.tables)
        changes = taken.changes
        range_name: str | None = None
        epoch: int | None = None
        if changes:
            range_of = {
                c.table: s.runtime.ranges.range_of(TableRef(*c.table.split(".", 1)))
                for c in changes
            }
            if tx.has_writes:
                range_name, epoch = tx.range_name, tx.epoch
            else:
                range_name, epoch = routine_range(s, range_of)
        if range_name is None:  # nothing staged, or only tables of no range: nothing to log
            tail = [RESTORE_CHARSET] if restore else []
            return Finished(run_batch(s, [*tail, final_sql])[-1])
        assert epoch is not None
        core.check_changes_in_range(changes, range_of, range_name)
        payload = core.build_payload(s.site.name, range_name, changes)
        entry = core.encode_entry(payload)
        check_size(entry.payload)
    except BaseException:
        rollback(s)
        if restore:
            restore_charset(s)
        raise
    try:
        seq = s.runtime.committer.append(range_name, epoch, entry, ticket)
    except BaseException as exc:
        rollback(s)
        if restore:
            restore_charset(s)
        if isinstance(exc, FencedError):
            s.runtime.forget_owner(range_name)
        raise
    with Cursor(s.raw) as cur:
        record = positions.record_sql(cur, range_name, seq, payload.txid)
    statements = [*taken.cleanup, record, *([RESTORE_CHARSET] if restore else []), final_sql]
    try:
        results = run_batch(s, statements)
    except (wire.ConnectionClosed, pymysql.err.Error) as exc:
        log.warning(
            "range %s entry %s (txid %s) is durable in the log but the session was lost "
            "at COMMIT (%s): applying it from the log",
            range_name,
            seq,
            payload.txid,
            exc,
        )
        core.repair_from_log(s.site.connect_kwargs(), seq, payload)
        return Finished(
            wire.ok_packet(0, s.ok_status()), repaired=True, lost=True, range_name=range_name
        )
    cleaned = len(taken.cleanup)
    for i, packet in enumerate(results):
        if packet.is_err:
            errno, _, message = wire.parse_err(packet.payload)
            rollback(s)
            if i == cleaned and errno == ER.DUP_ENTRY:
                diverged(s, range_name, seq, payload.txid)
            log.warning(
                "range %s entry %s (txid %s) is durable in the log but the local commit "
                "failed at statement %d (%d: %s): applying it from the log",
                range_name,
                seq,
                payload.txid,
                i,
                errno,
                message,
            )
            if restore:
                restore_charset(s)
            core.repair_from_log(s.site.connect_kwargs(), seq, payload)
            return Finished(wire.ok_packet(0, s.ok_status()), repaired=True, range_name=range_name)
        if i < cleaned:
            count = wire.parse_ok(packet.payload).affected_rows
            if count != taken.expected[i]:
                log.warning(
                    "entry %s of %s: cleanup %d deleted %d staged rows, %d expected; "
                    "'mdbc verify' reports leftovers as out-of-band rows",
                    seq,
                    range_name,
                    i,
                    count,
                    taken.expected[i],
                )
    return Finished(results[-1], range_name=range_name)


def diverged(s: Session, range_name: str, seq: int, txid: str) -> None:
    """The store reused a sequence number this site applied: mark needs-resync and raise."""
    mark_needs_resync(s, range_name, f"entry {seq} of the log was already applied here")
    raise LogDivergedError(
        f"the MUSIC store assigned entry {seq} of range {range_name!r} to transaction {txid}, "
        f"but site {s.site.name!r} had already applied an entry {seq}: the store lost "
        "acknowledged entries. The site is marked needs-resync: rebuild it with "
        f"'mdbc resync --site {s.site.name} --full'. The transaction itself is entry {seq} "
        "of the log and reaches the other sites."
    )


def mark_needs_resync(s: Session, range_name: str, why: str) -> None:
    try:
        with s.raw.cursor(Cursor) as cur:
            positions.set_state(cur, f"needs-resync:{range_name}", why[:1000])
        s.raw.commit()
    except (pymysql.err.Error, wire.ConnectionClosed):
        log.error("site %s must be resynced for range %s (%s)", s.site.name, range_name, why)


def routine_range(s: Session, range_of: dict[str, str | None]) -> tuple[str | None, int | None]:
    """Range and epoch of rows staged by writes nobody could see (the core's rule)."""
    return ownership.routine_range(s.runtime, s.site.name, s.tx.routine_epochs, range_of)


# -- DDL ----------------------------------------------------------------------------


def log_ddl(s: Session, range_name: str, epoch: int, sql: str) -> int:
    """Log a DDL statement that already ran on the session, and record its position.

    As the driver does: DDL cannot be rolled back, so it ran first; a failed
    append marks the site needs-resync and says so.
    """
    payload = core.build_payload(s.site.name, range_name, [], DdlStatement(s.current_db, sql))
    entry = core.encode_entry(payload)
    seq = append_ddl(s, range_name, epoch, entry)
    s.raw.begin()
    try:
        core.local_commit(s.raw, range_name, seq, payload.txid)
    except LogDivergedError:
        rollback(s)
        diverged(s, range_name, seq, payload.txid)
    return seq


def append_ddl(s: Session, range_name: str, epoch: int, entry: NewEntry) -> int:
    """Append a DDL entry that already ran on the session (the core's rule)."""
    return ownership.append_ddl(
        s.runtime,
        s.site.name,
        range_name,
        epoch,
        entry,
        lambda why: mark_needs_resync(s, range_name, why),
    )


def recapture(s: Session, sql: str) -> None:
    """Regenerate the capture of the tables a logged DDL named (strict, as the driver)."""
    s.runtime.forget_captured(s.site.name)
    restore = save_charset(s)
    try:
        apply.recapture(s.raw, s.current_db, sql, strict=True)
    finally:
        if restore:
            restore_charset(s)
