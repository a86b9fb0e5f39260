"""The commit path: staged rows -> log entry -> durable append -> local commit.

Order of DESIGN.md section 4: the transaction is durable in the MUSIC store
before the local COMMIT, so no acknowledged commit can be lost with the site.
Every failure leaves a clear, provable outcome:

- refused or failed append: the local transaction is rolled back, nothing of
  it exists anywhere, the error is retryable;
- local COMMIT failed after the append: the entry *is* committed (it is in
  the log); the driver applies it from the log on a fresh session, and the
  agent's replay fills the hole otherwise.
"""

from __future__ import annotations

import logging
import time
import uuid

import pymysql
from pymysql.connections import Connection as RawConnection
from pymysql.constants import ER
from pymysql.cursors import Cursor

from mdbc_py.capture.batch import run_statements
from mdbc_py.capture.collect import Taken, take
from mdbc_py.core import apply, positions
from mdbc_py.errors import CrossRangeError, LogDivergedError
from mdbc_py.log import DdlStatement, EntryPayload, RowChange, encode
from mdbc_py.music import NewEntry
from mdbc_py.mysql_errors import errno
from mdbc_py.sql import TableRef

log = logging.getLogger(__name__)


def new_txid() -> str:
    """A globally unique transaction id (hex, 32 characters)."""
    return uuid.uuid4().hex


def build_payload(
    site: str, range_name: str, changes: list[RowChange], ddl: DdlStatement | None = None
) -> EntryPayload:
    """The log entry of one transaction."""
    return EntryPayload(
        txid=new_txid(),
        commit_time_us=time.time_ns() // 1000,
        origin_site=site,
        range_name=range_name,
        changes=tuple(changes),
        ddl=ddl,
    )


def collect_changes(raw: RawConnection, tables: set[TableRef]) -> Taken:
    """Read the rows this session staged (inside its open transaction).

    The deletes that clear them are left in ``Taken.cleanup``: ``local_commit``
    sends them together with the ``COMMIT``.
    """
    with raw.cursor(Cursor) as cur:
        return take(cur, tables or None)


def check_changes_in_range(changes: list[RowChange], range_of: dict[str, str | None],
                           range_name: str) -> None:  # fmt: skip
    """Refuse staged rows of another range (e.g. written by a trigger of the app's own)."""
    others = sorted({c.table for c in changes if range_of.get(c.table) not in (range_name, None)})
    if others:
        raise CrossRangeError(
            f"the transaction changed rows of range {range_name!r} and also {', '.join(others)} "
            "of another range; put the tables in one range in mdbc.toml or split the transaction"
        )


def encode_entry(payload: EntryPayload) -> NewEntry:
    """Encode the payload (raises DataError subclasses for unencodable values)."""
    return NewEntry(payload.txid, encode(payload))


def local_commit(
    raw: RawConnection, range_name: str, seq: int, txid: str, taken: Taken | None = None
) -> None:
    """Clear the staged rows, record the applied position and COMMIT: one local transaction.

    On a session with ``CLIENT.MULTI_STATEMENTS`` (the driver opens every
    session so) all of it is one round trip; MariaDB stops the batch at the
    first error, so a failed statement never reaches the ``COMMIT``.

    A duplicate ``(range, seq)`` means the store reused a sequence number
    this site already applied: the store lost acknowledged entries, and
    that is reported as ``LogDivergedError``, never as the app's own
    IntegrityError.
    """
    cleanup = taken.cleanup if taken is not None else []
    with raw.cursor(Cursor) as cur:
        statements = [*cleanup, positions.record_sql(cur, range_name, seq, txid), "COMMIT"]
        recorded = len(cleanup)
        counts: dict[int, int] = {}

        def check(i: int) -> None:
            if i < recorded:
                counts[i] = cur.rowcount

        try:
            run_statements(cur, statements, check)
        except pymysql.err.IntegrityError as exc:
            if errno(exc) != ER.DUP_ENTRY:
                raise
            raise LogDivergedError(
                f"the MUSIC store assigned entry {seq} of range {range_name!r} to transaction "
                f"{txid}, but this site had already applied an entry {seq}: the store lost "
                "acknowledged entries (run Cassandra with commitlog_sync: batch or group)"
            ) from None
    if taken is not None:
        for i, count in counts.items():
            if count != taken.expected[i]:  # committed as logged; the leftovers are harmless
                log.warning("entry %s of %s: cleanup %d deleted %d staged rows, %d expected; "
                            "'mdbc verify' reports leftovers as out-of-band rows", seq,
                            range_name, i, count, taken.expected[i])  # fmt: skip


def repair_from_log(connect_kwargs: dict[str, object], seq: int, payload: EntryPayload) -> bool:
    """Apply an appended entry whose local COMMIT failed, on a fresh session.

    Returns True if the entry is now applied here (by us or already). A
    failure is logged, not raised: the entry is committed in the log and the
    agent's replay will apply it.
    """
    try:
        conn = pymysql.connect(**connect_kwargs, autocommit=False)  # type: ignore[arg-type]
    except pymysql.err.Error as exc:
        log.warning("entry %s of %s is committed in the log but not yet applied locally: %s; "
                    "replay will apply it", seq, payload.range_name, exc)  # fmt: skip
        return False
    try:
        apply.begin_replay(conn)
        apply.apply_entry(conn, seq, payload)
        return True
    except pymysql.err.Error as exc:
        log.warning("entry %s of %s: local apply after a failed COMMIT failed: %s; replay will "
                    "apply it", seq, payload.range_name, exc)  # fmt: skip
        return False
    finally:
        conn.close()
