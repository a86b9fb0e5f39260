"""The MUSIC store on Apache Cassandra.

How the contract of ``mdbc_py.music.store`` is kept:

- **Fencing and sequencing in one step.** A range's log lives in partitions
  ``(range, segment)``; the static columns of the active segment hold the
  epoch, owner, state and tail. An append is one conditional batch on that
  partition: the entry rows plus ``SET tail = T + n IF epoch = E AND tail = T
  AND sealed = false AND state IN ('open', 'draining')``. Paxos makes it
  linearizable, so the epoch check and the sequence assignment cannot be torn
  apart, and a fence (``SET epoch = E + 1 ... IF epoch = E AND tail = T``)
  orders strictly before or after every append.
- **Bounded partitions.** When a segment holds ``segment_entries`` entries or
  ``segment_bytes`` bytes it is sealed (one more conditional write) and the
  next segment starts with the sealed one's final statics. A sealed segment
  never changes again, so any process can create its successor identically.
- **Large entries** (over ``inline_bytes``) are written first as 1 MiB chunks
  at QUORUM under a fresh id; the log row then refers to them. A failed
  append leaves only unreferenced chunks, which are deleted.
- **Uncertain outcomes.** A conditional write that times out may still have
  been accepted. The store then reads the partition at SERIAL (which
  finishes any half-done Paxos round) to learn what happened, and raises
  ``CommitOutcomeUnknownError`` only if even that read fails.
"""

from __future__ import annotations

import datetime
import logging
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from cassandra import ConsistencyLevel, InvalidRequest, Unauthorized
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import (
    UNSET_VALUE,
    BatchStatement,
    BatchType,
    PreparedStatement,
    SimpleStatement,
)
from cassandra.util import uuid_from_time

from mdbc_py.config import StoreConfig, check_name
from mdbc_py.errors import (
    CommitOutcomeUnknownError,
    FencedError,
    StorePermissionError,
    StoreSchemaError,
    StoreUnavailableError,
    TrimmedError,
    UnknownRangeError,
)
from mdbc_py.log.chunks import check_size, join, split
from mdbc_py.music.cassandra.rows import was_applied
from mdbc_py.music.cassandra.session import UNCERTAIN_ERRORS, cause_of, connect, run
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
from mdbc_py.music.store import (
    DEFAULT_PAGE,
    MusicStore,
    append_refused,
    owner_change_refused,
    owner_of_epoch,
    valid_range_name,
    with_facts,
)

log = logging.getLogger(__name__)

CLAIM_ATTEMPTS = 3
"""Rounds of claim-then-renew before an agent's site claim gives up (see ``claim_agent``)."""

CHUNK_BYTES = 1024 * 1024
INLINE_BYTES = 256 * 1024
BATCH_INLINE_BYTES = 4 * 1024 * 1024
SEGMENT_ENTRIES = 20_000
SEGMENT_BYTES = 256 * 1024 * 1024
CAS_ATTEMPTS = 200
RESOLVE_SECONDS = 15.0


@dataclass(frozen=True)
class Head:
    """The static columns of one log segment: the fencing state at one instant."""

    segment: int
    epoch: int
    owner: str | None
    state: RangeState
    tail: int
    base: int
    seg_bytes: int
    sealed: bool


def _ts(value: Any) -> float:
    """A Cassandra timestamp (naive UTC datetime) as seconds since the epoch."""
    if value is None:
        return 0.0
    return value.replace(tzinfo=datetime.UTC).timestamp()


def _site_name(name: str) -> str:
    return check_name("site", name)


class CassandraStore(MusicStore):
    """MUSIC store backend over cassandra-driver (see the module docstring)."""

    def __init__(
        self,
        cfg: StoreConfig,
        *,
        segment_entries: int = SEGMENT_ENTRIES,
        segment_bytes: int = SEGMENT_BYTES,
        inline_bytes: int = INLINE_BYTES,
        create: bool = True,
    ) -> None:
        self.cfg = cfg
        self.keyspace = check_name("keyspace", cfg.keyspace)
        self.segment_entries = segment_entries
        self.segment_bytes = segment_bytes
        self.inline_bytes = inline_bytes
        self.cluster, self.session = connect(cfg)
        self._heads: dict[str, Head] = {}
        self._known_ranges: set[str] = set()
        self._prepared: dict[str, PreparedStatement] = {}
        if create:
            self.create_schema()

    # -- plumbing -----------------------------------------------------------

    def _q(self, cql: str) -> PreparedStatement:
        """A prepared statement (cached), with ``{ks}`` replaced by the keyspace."""
        stmt = self._prepared.get(cql)
        if stmt is None:
            text = cql.replace("{ks}", self.keyspace)
            stmt = run("prepare", lambda: self.session.prepare(text))
            self._prepared[cql] = stmt
        return stmt

    def _exec(
        self, what: str, cql: str, params: Sequence[Any] = (), uncertain_ok: bool = False
    ) -> Any:
        stmt = self._q(cql)
        return run(what, lambda: self.session.execute(stmt, params), uncertain_ok)

    def _serial(self, what: str, cql: str, params: Sequence[Any]) -> Any:
        """A linearizable read: it also completes any Paxos round left half-done."""
        bound = self._q(cql).bind(params)
        bound.consistency_level = ConsistencyLevel.SERIAL
        return run(what, lambda: self.session.execute(bound))

    def create_schema(self) -> None:
        """Create keyspace and tables from ``music.cql`` (idempotent)."""
        text = resources.files("mdbc_py.music.cassandra").joinpath("music.cql").read_text()
        replication = (
            "{" + ", ".join(f"'{k}': '{v}'" for k, v in sorted(self.cfg.replication.items())) + "}"
        )
        text = text.replace("{keyspace}", self.keyspace).replace("{replication}", replication)
        lines = [ln for ln in text.splitlines() if not ln.strip().startswith("--")]
        exists = self.keyspace in self.cluster.metadata.keyspaces
        for statement in " ".join(lines).split(";"):
            if not statement.strip():
                continue
            # A least-privilege role may not CREATE KEYSPACE (Cassandra checks the
            # permission before IF NOT EXISTS): skip it when the keyspace is there.
            if exists and statement.split()[:2] == ["CREATE", "KEYSPACE"]:
                continue
            try:
                run(
                    "schema creation",
                    lambda s=statement: self.session.execute(SimpleStatement(s), timeout=60),
                )
            except Unauthorized as exc:
                raise with_facts(
                    StorePermissionError(
                        f"the store's account may not create mdbc's schema in keyspace "
                        f"{self.keyspace!r} ({_first_line(exc)}); ask a Cassandra administrator "
                        f"to create the keyspace (NetworkTopologyStrategy, one DC per site) and "
                        f"to GRANT CREATE, ALTER, SELECT, MODIFY ON KEYSPACE {self.keyspace} to "
                        "the account in [store], then run 'mdbc init' again"
                    ),
                    operation="schema creation",
                ) from None

    def close(self) -> None:
        self.cluster.shutdown()

    def _range(self, name: str) -> str:
        """A valid name of an existing range, else ``UnknownRangeError``.

        Ranges are never deleted, so a range seen once is remembered.
        """
        name = valid_range_name(name)
        if name not in self._known_ranges:
            self._range_row(name)
            self._known_ranges.add(name)
        return name

    # -- heads and segments ---------------------------------------------------

    def _read_head(self, range_name: str, segment: int) -> Head | None:
        row = self._serial(
            "reading a log segment",
            "SELECT epoch, owner, state, tail, base, seg_bytes, sealed FROM {ks}.log "
            "WHERE range = ? AND segment = ? LIMIT 1",
            (range_name, segment),
        ).one()
        if row is None or row.epoch is None:
            return None
        return Head(
            segment=segment,
            epoch=row.epoch,
            owner=row.owner,
            state=RangeState(row.state),
            tail=row.tail,
            base=row.base,
            seg_bytes=row.seg_bytes or 0,
            sealed=bool(row.sealed),
        )

    def _range_row(self, range_name: str) -> Any:
        row = self._exec(
            "reading a range",
            "SELECT segment, trim_point FROM {ks}.ranges WHERE range = ?",
            (range_name,),
        ).one()
        if row is None:
            raise UnknownRangeError(
                f"unknown range {range_name!r}: create it with 'mdbc init' "
                "(it must be listed under [ranges] in mdbc.toml)"
            )
        return row

    def _head(self, range_name: str, fresh: bool = False) -> Head:
        """The active segment's head: cached, or found by walking the sealed chain."""
        cached = self._heads.get(range_name)
        if cached is not None and not fresh:
            return cached
        segment = cached.segment if cached else self._range_row(range_name).segment
        while True:
            head = self._read_head(range_name, segment)
            if head is None:
                # a sealed segment trimmed whole: start again from the active one
                hint = self._range_row(range_name).segment
                if hint > segment:
                    segment = hint
                    continue
                raise UnknownRangeError(f"range {range_name!r} has no log segment {segment}")
            if not head.sealed:
                self._heads[range_name] = head
                return head
            segment = self._open_next_segment(range_name, head).segment

    def _open_next_segment(self, range_name: str, sealed: Head) -> Head:
        """Create the successor of a sealed segment (idempotent: its statics are fixed)."""
        nxt = replace(
            sealed, segment=sealed.segment + 1, base=sealed.tail, seg_bytes=0, sealed=False
        )
        self._exec(
            "opening a log segment",
            "INSERT INTO {ks}.log (range, segment, epoch, owner, state, tail, base, seg_bytes, "
            "sealed) VALUES (?, ?, ?, ?, ?, ?, ?, 0, false) IF NOT EXISTS",
            (range_name, nxt.segment, nxt.epoch, nxt.owner, nxt.state.value, nxt.tail, nxt.base),
        )
        self._exec(
            "recording a log segment",
            "INSERT INTO {ks}.segments (range, segment, base) VALUES (?, ?, ?)",
            (range_name, nxt.segment, nxt.base),
        )
        self._exec(
            "recording the active segment",
            "UPDATE {ks}.ranges SET segment = ? WHERE range = ?",
            (nxt.segment, range_name),
        )
        return nxt

    def _seal(self, range_name: str, head: Head) -> None:
        self._exec(
            "sealing a log segment",
            "UPDATE {ks}.log SET sealed = true WHERE range = ? AND segment = ? "
            "IF sealed = false AND tail = ?",
            (range_name, head.segment, head.tail),
        )
        self._heads.pop(range_name, None)

    def _head_from_cas(self, head: Head, row: Any) -> Head:
        """The head as reported by a failed conditional write (its current values)."""
        values = row._asdict() if hasattr(row, "_asdict") else {}
        epoch = values.get("epoch")
        if epoch is None:
            return head
        return replace(
            head,
            epoch=epoch,
            tail=values.get("tail", head.tail),
            state=RangeState(values.get("state") or head.state.value),
            sealed=bool(values.get("sealed", head.sealed)),
        )

    # -- ranges ---------------------------------------------------------------

    def create_range(self, name: str, owner: str) -> RangeInfo:
        name, owner = valid_range_name(name), _site_name(owner)
        self._exec(
            "creating a range",
            "INSERT INTO {ks}.ranges (range, segment, trim_point, created_at) "
            "VALUES (?, 1, 0, toTimestamp(now())) IF NOT EXISTS",
            (name,),
        )
        self._exec(
            "creating a range",
            "INSERT INTO {ks}.log (range, segment, epoch, owner, state, tail, base, seg_bytes, "
            "sealed) VALUES (?, 1, 1, ?, 'open', 0, 0, 0, false) IF NOT EXISTS",
            (name, owner),
        )
        self._exec(
            "creating a range",
            "INSERT INTO {ks}.segments (range, segment, base) VALUES (?, 1, 0)",
            (name,),
        )
        return self.describe_range(name)

    def describe_range(self, name: str) -> RangeInfo:
        name = self._range(name)
        trim_point = self._range_row(name).trim_point or 0
        head = self._head(name, fresh=True)
        return RangeInfo(
            name=name,
            owner=head.owner,
            epoch=head.epoch,
            state=head.state,
            tail=head.tail,
            segment=head.segment,
            trim_point=trim_point,
        )

    def list_ranges(self) -> list[RangeInfo]:
        rows = self._exec("listing ranges", "SELECT range FROM {ks}.ranges")
        return [self.describe_range(r.range) for r in sorted(rows, key=lambda r: r.range)]

    # -- append -----------------------------------------------------------------

    def append(self, range_name: str, epoch: int, entries: Sequence[NewEntry]) -> list[int]:
        range_name = self._range(range_name)
        if not entries:
            return []
        for entry in entries:
            check_size(entry.payload)
        chunked = self._choose_chunked(entries)
        chunk_ids = {i: self._write_chunks(entries[i].payload) for i in chunked}
        try:
            return self._append_rows(range_name, epoch, entries, chunk_ids)
        except FencedError:
            self._delete_chunks(chunk_ids.values())
            raise
        except StoreUnavailableError:
            self._delete_chunks(chunk_ids.values(), quiet=True)
            raise

    def _choose_chunked(self, entries: Sequence[NewEntry]) -> set[int]:
        """Which entries go to the chunks table: the large ones, then the largest
        until the batch's inline bytes fit one request."""
        chunked = {i for i, e in enumerate(entries) if len(e.payload) > self.inline_bytes}
        inline = sum(len(e.payload) for i, e in enumerate(entries) if i not in chunked)
        for i in sorted(range(len(entries)), key=lambda i: -len(entries[i].payload)):
            if inline <= BATCH_INLINE_BYTES:
                break
            if i not in chunked:
                chunked.add(i)
                inline -= len(entries[i].payload)
        return chunked

    def _write_chunks(self, payload: bytes) -> uuid.UUID:
        """Write a large payload as chunks under a fresh id (QUORUM, a few at a time)."""
        chunk_id = uuid.uuid4()
        stmt = self._q("INSERT INTO {ks}.chunks (chunk_id, chunk, data) VALUES (?, ?, ?)")
        todo = [(chunk_id, i, part) for i, part in enumerate(split(payload, CHUNK_BYTES))]
        for _attempt in range(5):
            results = run(
                "writing entry chunks",
                lambda rows=todo: execute_concurrent_with_args(
                    self.session, stmt, rows, concurrency=4, raise_on_first_error=False
                ),
            )
            failed = [row for row, (ok, _) in zip(todo, results, strict=True) if not ok]
            if not failed:
                return chunk_id
            errors = [res for ok, res in results if not ok]
            todo = failed
            time.sleep(0.2)
        self._delete_chunks([chunk_id], quiet=True)
        raise StoreUnavailableError(
            f"MUSIC store unavailable while writing a large entry: {errors[0]}; "
            "nothing was appended, retry once enough Cassandra replicas are up"
        )

    def _delete_chunks(self, ids: Any, quiet: bool = False) -> None:
        for chunk_id in ids:
            try:
                self._exec(
                    "deleting entry chunks",
                    "DELETE FROM {ks}.chunks WHERE chunk_id = ?",
                    (chunk_id,),
                )
            except StoreUnavailableError:
                if not quiet:
                    raise
                log.warning("could not delete unreferenced chunks %s (harmless)", chunk_id)

    def _append_rows(
        self,
        range_name: str,
        epoch: int,
        entries: Sequence[NewEntry],
        chunk_ids: dict[int, uuid.UUID],
    ) -> list[int]:
        n = len(entries)
        size = sum(len(e.payload) for e in entries)
        head = self._head(range_name)
        confirmed = False  # has the current head been read fresh (not from cache)?
        for _ in range(CAS_ATTEMPTS):
            if head.sealed:
                head = self._head(range_name, fresh=True)
                confirmed = True
                continue
            if head.epoch != epoch or not head.state.accepts_appends:
                if not confirmed:
                    head = self._head(range_name, fresh=True)
                    confirmed = True
                    continue
                raise self._fenced(range_name, epoch, head)
            full = head.tail - head.base >= self.segment_entries or (
                head.seg_bytes >= self.segment_bytes and head.tail > head.base
            )
            if full:
                self._seal(range_name, head)
                head = self._head(range_name, fresh=True)
                continue
            batch = self._append_batch(range_name, head, epoch, entries, chunk_ids, size)
            try:
                result = run("append", lambda b=batch: self.session.execute(b), uncertain_ok=True)
            except UNCERTAIN_ERRORS:
                if self._resolve(range_name, head, entries):
                    return self._applied(range_name, head, n, size)
                head = self._head(range_name, fresh=True)
                confirmed = True
                continue
            row = result.one()
            if was_applied(result):
                return self._applied(range_name, head, n, size)
            if getattr(row, "epoch", None) is None:  # the segment was trimmed whole
                head = self._head(range_name, fresh=True)
            else:
                head = self._head_from_cas(head, row)
                self._heads[range_name] = head
            confirmed = True
        raise StoreUnavailableError(
            f"append to range {range_name!r} lost {CAS_ATTEMPTS} conditional-write races in a "
            "row; nothing was appended, retry"
        )

    def _applied(self, range_name: str, head: Head, n: int, size: int) -> list[int]:
        self._heads[range_name] = replace(head, tail=head.tail + n, seg_bytes=head.seg_bytes + size)
        return list(range(head.tail + 1, head.tail + n + 1))

    def _append_batch(
        self,
        range_name: str,
        head: Head,
        epoch: int,
        entries: Sequence[NewEntry],
        chunk_ids: dict[int, uuid.UUID],
        size: int,
    ) -> BatchStatement:
        batch = BatchStatement(
            batch_type=BatchType.UNLOGGED,
            consistency_level=ConsistencyLevel.QUORUM,
            serial_consistency_level=ConsistencyLevel.SERIAL,
        )
        chunk_map = {head.tail + 1 + i: chunk_id for i, chunk_id in chunk_ids.items()}
        batch.add(
            self._q(
                "UPDATE {ks}.log SET tail = ?, seg_bytes = ?, chunk_map = chunk_map + ? "
                "WHERE range = ? AND segment = ? "
                "IF epoch = ? AND tail = ? AND sealed = false AND state IN ('open', 'draining')"
            ),
            (
                head.tail + len(entries),
                head.seg_bytes + size,
                chunk_map if chunk_map else UNSET_VALUE,
                range_name,
                head.segment,
                epoch,
                head.tail,
            ),
        )
        # Absent values are UNSET, not NULL: a NULL is a tombstone cell, and
        # every trimmed or read range of the log would wade through them.
        insert = self._q(
            "INSERT INTO {ks}.log (range, segment, seq, entry_epoch, txid, payload, chunk_id, "
            "chunks, size, appended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, toTimestamp(now()))"
        )
        for i, entry in enumerate(entries):
            chunk_id = chunk_ids.get(i)
            payload = UNSET_VALUE if chunk_id else entry.payload
            count = max(1, math.ceil(len(entry.payload) / CHUNK_BYTES)) if chunk_id else 0
            batch.add(
                insert,
                (
                    range_name,
                    head.segment,
                    head.tail + 1 + i,
                    epoch,
                    entry.txid,
                    payload,
                    chunk_id or UNSET_VALUE,
                    count,
                    len(entry.payload),
                ),
            )
        return batch

    def _resolve(self, range_name: str, head: Head, entries: Sequence[NewEntry]) -> bool:
        """After an uncertain append: did it happen? (A SERIAL read settles Paxos.)"""
        deadline = time.monotonic() + RESOLVE_SECONDS
        while True:
            try:
                rows = self._serial(
                    "checking an uncertain append",
                    "SELECT seq, txid FROM {ks}.log WHERE range = ? AND segment = ? "
                    "AND seq > ? AND seq <= ?",
                    (range_name, head.segment, head.tail, head.tail + len(entries)),
                )
                found = [r.txid for r in rows]
                return found == [e.txid for e in entries]
            except (StoreUnavailableError, *UNCERTAIN_ERRORS) as exc:
                if time.monotonic() > deadline:
                    raise with_facts(
                        CommitOutcomeUnknownError(
                            f"append to range {range_name!r} timed out after it was sent, so it "
                            "may or may not be in the log, and for "
                            f"{RESOLVE_SECONDS:g} s the store could not be asked which "
                            f"({cause_of(exc)}); look transaction {entries[0].txid!r} up in the "
                            "log before retrying"
                        ),
                        range_name=range_name,
                        txid=entries[0].txid,
                        txids=[e.txid for e in entries],
                    ) from None
                time.sleep(0.5)

    def _fenced(self, range_name: str, epoch: int, head: Head) -> FencedError:
        """The refusal of an append at ``epoch``, naming each epoch's real owner.

        The head at hand may come from a failed conditional write, which
        reports the epoch but not the owner: read it fresh (and the owner of
        the refused epoch from the history) so that the message never pairs
        an epoch with another epoch's owner.
        """
        try:
            head = self._head(range_name, fresh=True)
            changes = self.history(range_name, limit=20)
        except StoreUnavailableError:
            changes = []
        epoch_owner = owner_of_epoch(changes, epoch, head.owner, head.epoch)
        return append_refused(range_name, epoch, head.epoch, head.owner, head.state, epoch_owner)

    # -- reading ----------------------------------------------------------------

    def _segments(self, range_name: str) -> list[tuple[int, int]]:
        rows = self._exec(
            "listing log segments",
            "SELECT segment, base FROM {ks}.segments WHERE range = ?",
            (range_name,),
        )
        return sorted((r.segment, r.base) for r in rows)

    def read(self, range_name: str, from_seq: int, limit: int = DEFAULT_PAGE) -> list[LogRecord]:
        range_name = self._range(range_name)
        from_seq = max(1, from_seq)
        trim_point = self._range_row(range_name).trim_point or 0
        if from_seq <= trim_point:
            raise TrimmedError(
                f"range {range_name!r}: entries up to {trim_point} were trimmed, cannot read "
                f"from {from_seq}; rebuild this site with 'mdbc resync --full'"
            )
        segments = self._segments(range_name)
        start = [seg for seg, base in segments if base < from_seq]
        if not start:
            return []
        out: list[LogRecord] = []
        seq = from_seq
        for segment, _base in (s for s in segments if s[0] >= start[-1]):
            rows = self._exec(
                "reading the log",
                "SELECT seq, entry_epoch, txid, payload, chunk_id, chunks, size, appended_at "
                "FROM {ks}.log WHERE range = ? AND segment = ? AND seq >= ? LIMIT ?",
                (range_name, segment, seq, limit - len(out)),
            )
            for row in rows:
                if row.seq is None:
                    continue
                if row.seq != seq:
                    break  # never hand out a gap: stop at the first missing number
                out.append(self._record(range_name, row))
                seq += 1
            if len(out) >= limit:
                break
        return out

    def _record(self, range_name: str, row: Any) -> LogRecord:
        payload = row.payload
        if row.chunk_id is not None:
            # A few chunks per page: one response must stay far below the
            # native protocol's frame limit (16 MiB by default).
            bound = self._q("SELECT chunk, data FROM {ks}.chunks WHERE chunk_id = ?").bind(
                (row.chunk_id,)
            )
            bound.fetch_size = 4
            ordered = run(
                "reading entry chunks",
                lambda: sorted((p.chunk, p.data) for p in self.session.execute(bound)),
            )
            if [c for c, _ in ordered] != list(range(row.chunks)):
                raise StoreUnavailableError(
                    f"range {range_name!r} entry {row.seq}: {len(ordered)} of {row.chunks} "
                    "chunks readable; retry once all Cassandra replicas are up"
                )
            payload = join([d for _, d in ordered])
        return LogRecord(
            range_name=range_name,
            seq=row.seq,
            epoch=row.entry_epoch,
            txid=row.txid,
            payload=bytes(payload or b""),
            appended_at=_ts(row.appended_at),
        )

    def find_txid(self, range_name: str, txid: str) -> LogRecord | None:
        range_name = self._range(range_name)
        self._range_row(range_name)
        for segment, _ in reversed(self._segments(range_name)):
            row = self._exec(
                "looking up a transaction",
                "SELECT seq, entry_epoch, txid, payload, chunk_id, chunks, size, appended_at "
                "FROM {ks}.log WHERE range = ? AND segment = ? AND txid = ?",
                (range_name, segment, txid),
            ).one()
            if row is not None:
                return self._record(range_name, row)
        return None

    # -- ownership ----------------------------------------------------------------

    def change_owner(
        self,
        range_name: str,
        from_epoch: int,
        to_site: str,
        reason: str,
        state: RangeState = RangeState.FENCED,
    ) -> OwnerChange:
        range_name, to_site = self._range(range_name), _site_name(to_site)
        head = self._head(range_name, fresh=True)
        for _ in range(CAS_ATTEMPTS):
            if head.sealed:
                head = self._head(range_name, fresh=True)
                continue
            if head.epoch != from_epoch:
                raise owner_change_refused(
                    range_name, from_epoch, head.epoch, head.owner, head.state
                )
            try:
                result = self._exec(
                    "changing owner",
                    "UPDATE {ks}.log SET epoch = ?, owner = ?, state = ? WHERE range = ? AND "
                    "segment = ? IF epoch = ? AND tail = ? AND sealed = false",
                    (
                        from_epoch + 1,
                        to_site,
                        state.value,
                        range_name,
                        head.segment,
                        from_epoch,
                        head.tail,
                    ),
                    uncertain_ok=True,
                )
                applied, row = was_applied(result), result.one()
            except UNCERTAIN_ERRORS:
                now = self._head(range_name, fresh=True)
                applied = now.epoch == from_epoch + 1 and now.owner == to_site
                row = None
                if not applied:
                    head = now
                    continue
            if applied:
                change = OwnerChange(
                    range_name=range_name,
                    from_site=head.owner,
                    to_site=to_site,
                    from_epoch=from_epoch,
                    to_epoch=from_epoch + 1,
                    tail=head.tail,
                    at=time.time(),
                    reason=reason,
                )
                self._heads.pop(range_name, None)
                self._record_history(change)
                return change
            head = self._head_from_cas(head, row)
        raise StoreUnavailableError(
            f"change of owner of {range_name!r} lost {CAS_ATTEMPTS} races with appends; retry"
        )

    def _record_history(self, change: OwnerChange) -> None:
        try:
            self._exec(
                "recording history",
                "INSERT INTO {ks}.history (range, at, from_site, to_site, from_epoch, to_epoch, "
                "tail, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    change.range_name,
                    uuid_from_time(change.at),
                    change.from_site,
                    change.to_site,
                    change.from_epoch,
                    change.to_epoch,
                    change.tail,
                    change.reason,
                ),
            )
        except StoreUnavailableError:
            log.warning("owner change of %s done but not recorded in history", change.range_name)

    def set_state(self, range_name: str, epoch: int, state: RangeState) -> RangeInfo:
        range_name = self._range(range_name)
        head = self._head(range_name, fresh=True)
        for _ in range(CAS_ATTEMPTS):
            if head.epoch != epoch:
                raise self._fenced(range_name, epoch, head)
            result = self._exec(
                "changing range state",
                "UPDATE {ks}.log SET state = ? WHERE range = ? AND segment = ? "
                "IF epoch = ? AND sealed = false",
                (state.value, range_name, head.segment, epoch),
            )
            if was_applied(result):
                self._heads.pop(range_name, None)
                return self.describe_range(range_name)
            head = self._head(range_name, fresh=True)
        raise StoreUnavailableError(f"state change of {range_name!r} kept racing; retry")

    def history(self, range_name: str | None = None, limit: int = 100) -> list[OwnerChange]:
        names = (
            [self._range(range_name)]
            if range_name
            else [r.range for r in self._exec("listing ranges", "SELECT range FROM {ks}.ranges")]
        )
        changes: list[OwnerChange] = []
        for name in names:
            rows = self._exec(
                "reading history",
                "SELECT range, at, from_site, to_site, from_epoch, to_epoch, tail, reason "
                "FROM {ks}.history WHERE range = ? LIMIT ?",
                (name, limit),
            )
            for r in rows:
                changes.append(
                    OwnerChange(
                        range_name=r.range,
                        from_site=r.from_site,
                        to_site=r.to_site,
                        from_epoch=r.from_epoch,
                        to_epoch=r.to_epoch,
                        tail=r.tail,
                        at=(r.at.time - 0x01B21DD213814000) / 1e7,
                        reason=r.reason,
                    )
                )
        changes.sort(key=lambda c: (c.at, c.to_epoch), reverse=True)
        return changes[:limit]

    # -- settings ---------------------------------------------------------------------

    def put_setting(self, name: str, value: str | None) -> None:
        if value is None:
            self._exec("removing a setting", "DELETE FROM {ks}.settings WHERE name = ?", (name,))
        else:
            self._exec(
                "writing a setting",
                "INSERT INTO {ks}.settings (name, value) VALUES (?, ?)",
                (name, value),
            )

    def get_setting(self, name: str) -> str | None:
        row = self._exec(
            "reading a setting", "SELECT value FROM {ks}.settings WHERE name = ?", (name,)
        ).one()
        return None if row is None else str(row.value)

    # -- sites, leases, positions ---------------------------------------------------

    def register_site(self, name: str, info: dict[str, str] | None = None) -> None:
        name = _site_name(name)
        self._exec(
            "registering a site",
            "INSERT INTO {ks}.sites (site, registered_at) VALUES (?, toTimestamp(now())) "
            "IF NOT EXISTS",
            (name,),
        )
        self._exec(
            "registering a site",
            "UPDATE {ks}.sites SET heartbeat_at = toTimestamp(now()), info = ? WHERE site = ?",
            (info or {}, name),
        )

    def heartbeat(self, name: str, info: dict[str, str] | None = None) -> None:
        name = _site_name(name)
        if info is None:
            self._exec(
                "heartbeat",
                "UPDATE {ks}.sites SET heartbeat_at = toTimestamp(now()) WHERE site = ?",
                (name,),
            )
            return
        self._exec(
            "heartbeat",
            "UPDATE {ks}.sites SET heartbeat_at = toTimestamp(now()), info = ? WHERE site = ?",
            (info, name),
        )

    def list_sites(self) -> list[SiteInfo]:
        rows = self._exec(
            "listing sites", "SELECT site, registered_at, heartbeat_at, info FROM {ks}.sites"
        )
        return sorted(
            (
                SiteInfo(
                    name=r.site,
                    registered_at=_ts(r.registered_at) or _ts(r.heartbeat_at),
                    heartbeat_at=_ts(r.heartbeat_at),
                    info=dict(r.info or {}),
                )
                for r in rows
            ),
            key=lambda s: s.name,
        )

    def acquire_lease(
        self, range_name: str, site: str, ttl: float, epoch: int | None = None
    ) -> Lease | None:
        range_name, site = self._range(range_name), _site_name(site)
        # Cassandra expires cells on whole seconds of its clock, so a TTL of n
        # lasts between n-1 and n seconds: one more second guarantees >= ttl.
        # That TTL only removes leases nobody renews; readers judge a lease
        # by watching its version change (``lease_watch``), to the ms.
        seconds = math.ceil(ttl) + 1
        version = uuid.uuid4().hex
        ttl_ms = max(1, round(ttl * 1000))
        result = self._exec(
            "acquiring a lease",
            "INSERT INTO {ks}.leases (range, holder, renewed_at, epoch, version, ttl_ms) "
            "VALUES (?, ?, toTimestamp(now()), ?, ?, ?) IF NOT EXISTS USING TTL ?",
            (range_name, site, epoch or 0, version, ttl_ms, seconds),
        )
        held_epoch = epoch or 0
        if not was_applied(result):
            row = result.one()
            current = row.epoch or 0
            if row.holder == site:
                if epoch is not None and epoch < current:
                    return None  # a stale view of this very site must not move the epoch back
                held_epoch = current if epoch is None else epoch
            elif epoch is None or current >= epoch:
                return None  # another site's live lease, of an epoch not older than ours
            result = self._exec(
                "renewing a lease",
                "UPDATE {ks}.leases USING TTL ? SET holder = ?, renewed_at = toTimestamp(now()), "
                "epoch = ?, version = ?, ttl_ms = ? WHERE range = ? IF holder = ? AND epoch = ?",
                (
                    seconds,
                    site,
                    held_epoch,
                    version,
                    ttl_ms,
                    range_name,
                    row.holder,
                    row.epoch,
                ),
            )
            if not was_applied(result):
                return None
        return Lease(
            range_name=range_name,
            holder=site,
            expires_at=time.time() + seconds,
            epoch=held_epoch,
            version=version,
            ttl=ttl_ms / 1000,
        )

    def get_lease(self, range_name: str) -> Lease | None:
        range_name = self._range(range_name)
        row = self._serial(
            "reading a lease",
            "SELECT holder, TTL(holder) AS remaining, epoch, version, ttl_ms "
            "FROM {ks}.leases WHERE range = ?",
            (range_name,),
        ).one()
        if row is None or row.holder is None:
            return None
        return Lease(
            range_name,
            row.holder,
            time.time() + (row.remaining or 0),
            row.epoch or 0,
            row.version or "",
            (row.ttl_ms or 0) / 1000,
        )

    def release_lease(self, range_name: str, site: str) -> None:
        range_name, site = self._range(range_name), _site_name(site)
        self._exec(
            "releasing a lease",
            "DELETE FROM {ks}.leases WHERE range = ? IF holder = ?",
            (range_name, site),
        )

    # -- proxies ----------------------------------------------------------------------

    def _proxies(self, what: str, cql: str, params: Sequence[Any] = ()) -> Any:
        """A statement on the proxies table, which a keyspace of an older mdbc_py lacks."""
        try:
            return self._exec(what, cql, params)
        except InvalidRequest as exc:
            if "proxies" not in str(exc):
                raise
            raise with_facts(
                StoreSchemaError(
                    f"the store's keyspace {self.keyspace!r} has no table 'proxies' (it was "
                    "created by an older mdbc_py): run 'mdbc init' once to add it; nothing "
                    "was written"
                ),
                table="proxies",
            ) from None

    def proxy_heartbeat(self, site: str, instance: str, info: dict[str, str], ttl: float) -> None:
        site = _site_name(site)
        self._proxies(
            "a proxy's heartbeat",
            "INSERT INTO {ks}.proxies (site, instance, heartbeat_at, info) "
            "VALUES (?, ?, toTimestamp(now()), ?) USING TTL ?",
            (site, instance, info, max(1, math.ceil(ttl))),
        )

    def list_proxies(self) -> list[ProxyInfo]:
        rows = self._proxies(
            "listing proxies", "SELECT site, instance, heartbeat_at, info FROM {ks}.proxies"
        )
        return sorted(
            (ProxyInfo(r.site, r.instance, _ts(r.heartbeat_at), dict(r.info or {})) for r in rows),
            key=lambda p: (p.site, p.instance),
        )

    # -- one agent per site ------------------------------------------------------

    def claim_agent(self, site: str, instance: str, ttl: float) -> AgentClaim:
        site = _site_name(site)
        seconds = max(1, math.ceil(ttl))
        # Our own claim can lapse between the INSERT that finds it and the
        # UPDATE that renews it (its TTL runs out in between): the UPDATE then
        # finds no row, and the site is free again, so claim it afresh rather
        # than report an unknown holder (the agent would stop).
        for _ in range(CLAIM_ATTEMPTS):
            result = self._exec(
                "claiming a site for an agent",
                "INSERT INTO {ks}.agents (site, instance, claimed_at) "
                "VALUES (?, ?, toTimestamp(now())) IF NOT EXISTS USING TTL ?",
                (site, instance, seconds),
            )
            if was_applied(result):
                return AgentClaim(site, instance, time.time() + seconds)
            holder = result.one().instance
            if holder is not None and holder != instance:
                return self.agent_claim(site) or AgentClaim(site, holder, time.time())
            result = self._exec(
                "renewing an agent's claim",
                "UPDATE {ks}.agents USING TTL ? SET instance = ? WHERE site = ? IF instance = ?",
                (seconds, instance, site, instance),
            )
            if was_applied(result):
                return AgentClaim(site, instance, time.time() + seconds)
            current = self.agent_claim(site)
            if current is not None and current.instance != instance:
                return current
        return self.agent_claim(site) or AgentClaim(site, "?", time.time())

    def agent_claim(self, site: str) -> AgentClaim | None:
        site = _site_name(site)
        row = self._serial(
            "reading an agent's claim",
            "SELECT instance, TTL(instance) AS remaining FROM {ks}.agents WHERE site = ?",
            (site,),
        ).one()
        if row is None or row.instance is None:
            return None
        return AgentClaim(site, row.instance, time.time() + (row.remaining or 0))

    def release_agent(self, site: str, instance: str) -> None:
        site = _site_name(site)
        self._exec(
            "releasing an agent's claim",
            "DELETE FROM {ks}.agents WHERE site = ? IF instance = ?",
            (site, instance),
        )

    def set_applied(self, site: str, range_name: str, seq: int) -> None:
        site, range_name = _site_name(site), self._range(range_name)
        result = self._exec(
            "reporting applied position",
            "INSERT INTO {ks}.applied (range, site, seq, updated_at) "
            "VALUES (?, ?, ?, toTimestamp(now())) IF NOT EXISTS",
            (range_name, site, seq),
        )
        if was_applied(result):
            return
        self._exec(
            "reporting applied position",
            "UPDATE {ks}.applied SET seq = ?, updated_at = toTimestamp(now()) "
            "WHERE range = ? AND site = ? IF seq < ?",
            (seq, range_name, site, seq),
        )

    def reset_applied(self, site: str, range_name: str, seq: int) -> None:
        site, range_name = _site_name(site), self._range(range_name)
        self._exec(
            "resetting applied position",
            "UPDATE {ks}.applied SET seq = ?, updated_at = toTimestamp(now()) "
            "WHERE range = ? AND site = ? IF EXISTS",
            (seq, range_name, site),
        )
        self._exec(
            "resetting applied position",
            "INSERT INTO {ks}.applied (range, site, seq, updated_at) "
            "VALUES (?, ?, ?, toTimestamp(now())) IF NOT EXISTS",
            (range_name, site, seq),
        )

    def applied_positions(self, range_name: str) -> dict[str, AppliedPosition]:
        range_name = self._range(range_name)
        rows = self._exec(
            "reading applied positions",
            "SELECT site, seq, updated_at FROM {ks}.applied WHERE range = ?",
            (range_name,),
        )
        return {r.site: AppliedPosition(r.site, range_name, r.seq, _ts(r.updated_at)) for r in rows}

    # -- trimming -------------------------------------------------------------------

    def trim(self, range_name: str, margin: int = 0, stale_after: float | None = None) -> int:
        """Remove the entries every counted site has applied, without reading them.

        A sealed segment wholly at or below the new trim point goes with one
        partition delete; the segment the trim point falls in gets one range
        delete on its clustering key (``seq <= target``). Large entries'
        chunks are found in the segment's static ``chunk_map``, so no log
        row is read: no scan, no wading through tombstones.
        """
        range_name = self._range(range_name)
        current = self._range_row(range_name).trim_point or 0
        head = self._head(range_name, fresh=True)
        positions = self.applied_positions(range_name)
        now = time.time()
        waited_for = [
            s
            for s in self.list_sites()
            if stale_after is None or now - s.heartbeat_at <= stale_after
        ]
        if not waited_for:
            return current
        low = min(positions[s.name].seq if s.name in positions else 0 for s in waited_for)
        target = min(low - margin, head.tail)
        if target <= current:
            return current
        segments = self._segments(range_name)
        for i, (segment, base) in enumerate(segments):
            if base >= target:
                break
            if base + 1 <= current and i + 1 < len(segments) and segments[i + 1][1] <= current:
                continue  # trimmed before, whole
            last = segments[i + 1][1] if i + 1 < len(segments) else None
            self._delete_chunks_of(range_name, segment, current, target)
            if last is not None and last <= target and segment < head.segment:
                self._exec(
                    "recording the active segment",
                    "UPDATE {ks}.ranges SET segment = ? WHERE range = ? IF segment < ?",
                    (head.segment, range_name, head.segment),
                )
                self._exec(
                    "trimming a whole segment",
                    "DELETE FROM {ks}.log WHERE range = ? AND segment = ?",
                    (range_name, segment),
                )
            else:
                self._exec(
                    "trimming",
                    "DELETE FROM {ks}.log WHERE range = ? AND segment = ? AND seq <= ?",
                    (range_name, segment, target),
                )
        self._exec(
            "recording the trim point",
            "UPDATE {ks}.ranges SET trim_point = ? WHERE range = ? IF trim_point < ?",
            (target, range_name, target),
        )
        return max(target, self._range_row(range_name).trim_point or 0)

    def _delete_chunks_of(self, range_name: str, segment: int, after: int, upto: int) -> None:
        """Delete the chunks of the segment's entries ``after < seq <= upto``."""
        row = self._exec(
            "trimming",
            "SELECT chunk_map FROM {ks}.log WHERE range = ? AND segment = ? LIMIT 1",
            (range_name, segment),
        ).one()
        chunk_map = (row.chunk_map if row is not None else None) or {}
        for seq, chunk_id in sorted(chunk_map.items()):
            if after < seq <= upto:
                self._exec("trimming", "DELETE FROM {ks}.chunks WHERE chunk_id = ?", (chunk_id,))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
