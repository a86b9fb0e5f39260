"""Verify: per-table checksums of a range's owner and replicas, at one sequence number.

Two copies can only be compared at the same point of the log, and the log
moves while writers are active. So verify stops it briefly:

1. At the owner, ``LOCK TABLES ... READ`` on every table of the range. The
   lock waits for the open write transactions on those tables to finish and
   holds new ones back, so the owner's data and the log's tail stop moving.
   Its applied position ``P`` is then read from a second session; when it
   has holes, or is behind the tail (an entry appended whose local commit
   has not happened yet: the owner's agent fills it), the lock is released
   and taken again a moment later, until ``timeout``.
2. Each replica is waited for until it has applied exactly ``P`` (its agent
   brings it there; ``catch_up=True`` replays here instead, for tools and
   tests that run no agent). No entry beyond ``P`` exists while the owner is
   locked, so a replica cannot pass ``P``; one that is already beyond it
   applied entries the log does not have (an old owner of an earlier epoch)
   and is reported as ``ahead``.
3. Each replica that reached ``P`` is locked the same way, and the owner's
   checksums are taken under its lock. Then the owner is released: writes
   there were held only for the replicas to catch up and for the owner's own
   checksums, never for the replicas' checksums, which run afterwards under
   their own locks (holding back only their replay).
4. ``CHECKSUM TABLE ... EXTENDED`` and ``COUNT(*)`` of every table are
   compared with the owner's; out-of-band writes (staged rows that no
   driver commit claimed) are counted at every site.

Why the position is read from a second session rather than by also locking
``mdbc.applied``: a writer that holds a range table and then records its
applied row would wait for the verify's lock on ``mdbc.applied`` while the
verify waits for the writer's table, and MariaDB resolves that metadata
deadlock by killing the writer, *after* its entry was appended to the log.
Reading from another session needs no lock: once the range's tables are
locked, no transaction that can still change them is open, so the position
is final.

A lock request queued behind a long write transaction makes newer writers
wait too, so each attempt waits at most :data:`LOCK_ATTEMPT_SECONDS`; a
writer that takes the range's tables in an order that crosses the verify's
queued lock may get MariaDB's ordinary, retryable deadlock error (before its
commit, so before anything was appended).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import pymysql
from pymysql.connections import Connection
from pymysql.constants import ER
from pymysql.cursors import Cursor

from mdbc_py import capture
from mdbc_py.config import Config, RangeConfig
from mdbc_py.core import apply, positions
from mdbc_py.errors import MdbcError, OperationalError, TrimmedError, UnknownRangeError
from mdbc_py.music import MusicStore
from mdbc_py.mysql_errors import CONNECTION_LOST, TRANSIENT, errno
from mdbc_py.replication import replay
from mdbc_py.replication.snapshot import (
    SiteUnreachableError,
    connect_site,
    qualified,
    range_tables,
)

__all__ = [
    "LOCK_ATTEMPT_SECONDS",
    "Mismatch",
    "SiteReport",
    "SiteState",
    "TableChecksum",
    "VerifyError",
    "VerifyResult",
    "VerifyTimeoutError",
    "verify_range",
]

LOCK_ATTEMPT_SECONDS = 10
"""Longest single wait for the owner's table locks (writers queue behind a waiting lock)."""

RETRY_PAUSE = 0.2
"""Pause between attempts to find the owner settled, and between replica position polls."""


class VerifyError(MdbcError, OperationalError):
    """Verify could not compare the sites (the message says why)."""


class VerifyTimeoutError(VerifyError):
    """A site did not reach the sequence number to compare at within the timeout.

    ``site`` lagged: it had applied up to ``position`` when it had to reach
    ``target``.
    """

    def __init__(self, message: str, site: str, position: int | None, target: int) -> None:
        super().__init__(message)
        self.site = site
        self.position = position
        self.target = target


class SiteState(StrEnum):
    """The outcome of verify at one site."""

    OK = "ok"
    MISMATCH = "mismatch"
    OUT_OF_BAND = "out-of-band"
    LAGGING = "lagging"
    AHEAD = "ahead"
    NEEDS_RESYNC = "needs-resync"
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(frozen=True)
class TableChecksum:
    """One table at one site: ``COUNT(*)`` and ``CHECKSUM TABLE ... EXTENDED``."""

    rows: int
    checksum: int | None


@dataclass(frozen=True)
class Mismatch:
    """A table whose ``rows`` or ``checksum`` (``what``) differs between owner and ``site``."""

    site: str
    table: str
    owner_value: int | None
    site_value: int | None
    what: str


@dataclass
class SiteReport:
    """What verify found at one site: its state, its position, and why when not ok."""

    site: str
    role: str
    state: SiteState
    position: int | None = None
    detail: str = ""


@dataclass
class VerifyResult:
    """Checksums of every site at sequence number ``seq``, and every difference found.

    ``ok`` only when every site reached ``seq``, has the owner's tables and
    no other, every count and checksum equals the owner's, and no site holds
    out-of-band writes.
    """

    range_name: str
    seq: int
    owner: str
    checksums: dict[str, dict[str, TableChecksum]] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    missing_tables: dict[str, list[str]] = field(default_factory=dict)
    extra_tables: dict[str, list[str]] = field(default_factory=dict)
    out_of_band: dict[str, dict[str, int]] = field(default_factory=dict)
    sites: dict[str, SiteReport] = field(default_factory=dict)
    seconds: float = 0.0
    locked_seconds: float = 0.0
    """How long writes at the owner were held back."""

    @property
    def ok(self) -> bool:
        """True when every site equals the owner at ``seq`` (see the class docstring)."""
        return all(r.state is SiteState.OK for r in self.sites.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for ``mdbc verify --json``)."""
        out = asdict(self)
        out["ok"] = self.ok
        return out

    def describe(self) -> str:
        """A status line, one row per site, and one line per difference."""
        verdict = "OK" if self.ok else "DIFFERENCES FOUND"
        lines = [f"range {self.range_name} at seq {self.seq} (owner {self.owner}): {verdict}"]
        header = ("SITE", "ROLE", "STATE", "POSITION", "TABLES", "ROWS", "DETAIL")
        rows = [header]
        for name in sorted(self.sites, key=lambda s: (s != self.owner, s)):
            report = self.sites[name]
            sums = self.checksums.get(name)
            rows.append(
                (
                    name,
                    report.role,
                    report.state.value,
                    "-" if report.position is None else str(report.position),
                    "-" if sums is None else str(len(sums)),
                    "-" if sums is None else str(sum(s.rows for s in sums.values())),
                    report.detail,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
        for m in self.mismatches:
            lines.append(f"  {m.site} {m.table}: {m.what} {m.site_value} (owner {m.owner_value})")
        for site, tables in sorted(self.missing_tables.items()):
            lines.append(f"  {site}: missing tables {', '.join(tables)}")
        for site, tables in sorted(self.extra_tables.items()):
            lines.append(f"  {site}: tables the owner does not have: {', '.join(tables)}")
        for site, counts in sorted(self.out_of_band.items()):
            listed = ", ".join(f"{t} ({n})" for t, n in sorted(counts.items()))
            lines.append(f"  {site}: out-of-band writes staged in {listed}")
        return "\n".join(lines)


def _quiet(_: str) -> None:
    pass


def _read_position(conn: Connection, range_name: str) -> positions.Position:
    """The site's position, both bookkeeping tables read in one snapshot."""
    with conn.cursor(Cursor) as cur:
        cur.execute("START TRANSACTION READ ONLY")
        try:
            return positions.read(cur, range_name)
        finally:
            conn.rollback()


def _checksums(conn: Connection, db: str, tables: Sequence[str]) -> dict[str, TableChecksum]:
    """Row count and extended checksum of each table (two statements for all of them)."""
    if not tables:
        return {}
    names = [qualified(db, t) for t in tables]
    with conn.cursor(Cursor) as cur:
        cur.execute("CHECKSUM TABLE " + ", ".join(names) + " EXTENDED")
        sums = [row[1] for row in cur.fetchall()]
        cur.execute(
            " UNION ALL ".join(f"SELECT {i}, COUNT(*) FROM {n}" for i, n in enumerate(names))
        )
        counts = {int(i): int(n) for i, n in cur.fetchall()}
    if len(sums) != len(tables):
        raise VerifyError(f"CHECKSUM TABLE answered {len(sums)} rows for {len(tables)} tables")
    return {
        t: TableChecksum(counts[i], None if sums[i] is None else int(sums[i]))
        for i, t in enumerate(tables)
    }


def _out_of_band(conn: Connection, rng: RangeConfig) -> dict[str, int]:
    """Committed staged rows per table of the range: writes that bypassed the driver.

    No live driver connection is known here, and none is needed: at a locked
    owner, or a replica at the target position, no transaction that staged
    rows is still open.
    """
    counts = capture.out_of_band(conn, rng.database, ())
    if rng.tables is not None:
        counts = {t: n for t, n in counts.items() if t in rng.tables}
    return counts


def _lock(conn: Connection, db: str, tables: Sequence[str], wait: float) -> None:
    """``LOCK TABLES`` ``tables`` READ, waiting at most ``wait`` seconds (at least one)."""
    with conn.cursor(Cursor) as cur:
        cur.execute("SET SESSION lock_wait_timeout = %s", (max(1, int(wait)),))
        if tables:
            cur.execute("LOCK TABLES " + ", ".join(f"{qualified(db, t)} READ" for t in tables))


def _unlock(conn: Connection) -> None:
    try:
        with conn.cursor(Cursor) as cur:
            cur.execute("UNLOCK TABLES")
    except pymysql.err.Error:
        conn.close()  # closing the session releases its locks too


@dataclass
class _Owner:
    """The owner's two sessions: one holds the table locks, one looks around."""

    site: str
    lock: Connection
    look: Connection
    tables: list[str] = field(default_factory=list)
    locked_at: float | None = None

    def close(self) -> None:
        for conn in (self.lock, self.look):
            if conn.open:
                conn.close()


def _settle_owner(
    owner: _Owner,
    store: MusicStore,
    rng: RangeConfig,
    epoch: int,
    deadline: float,
    timeout: float,
    say: Callable[[str], None],
) -> int:
    """Lock the owner's tables at a position equal to the log's tail; return it.

    Leaves the tables locked (``owner.locked_at`` set) on success.
    """
    last: tuple[positions.Position, int] | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _owner_timeout(owner.site, rng.name, timeout, last)
        with owner.look.cursor(Cursor) as cur:
            tables = range_tables(cur, rng)
        try:
            _lock(owner.lock, rng.database, tables, min(remaining, LOCK_ATTEMPT_SECONDS))
        except pymysql.err.MySQLError as exc:
            if errno(exc) in TRANSIENT | {ER.NO_SUCH_TABLE}:
                continue
            raise
        owner.locked_at = time.monotonic()
        with owner.look.cursor(Cursor) as cur:
            same = range_tables(cur, rng) == tables
        pos = _read_position(owner.look, rng.name)
        info = store.describe_range(rng.name)
        if info.owner != owner.site or info.epoch != epoch:
            raise VerifyError(
                f"the owner of range {rng.name!r} changed during verify (now {info.owner}, "
                f"epoch {info.epoch}); run verify again"
            )
        if same and not pos.above and pos.contiguous == info.tail:
            owner.tables = tables
            say(f"{owner.site}: {len(tables)} tables of {rng.name} locked at seq {info.tail}")
            return info.tail
        if pos.contiguous > info.tail:
            raise VerifyError(
                f"site {owner.site} has applied range {rng.name!r} up to {pos.contiguous}, "
                f"beyond the log's tail {info.tail}: its database does not belong to this log"
            )
        _unlock(owner.lock)
        owner.locked_at = None
        if same:
            last = (pos, info.tail)
        time.sleep(RETRY_PAUSE)


def _owner_timeout(
    site: str, range_name: str, timeout: float, last: tuple[positions.Position, int] | None
) -> VerifyTimeoutError:
    if last is None:
        return VerifyTimeoutError(
            f"verify of range {range_name!r}: could not lock its tables at the owner {site} "
            f"within {timeout:g} s: a write transaction there stayed open",
            site,
            None,
            0,
        )
    pos, tail = last
    holes = pos.missing(tail)
    shown = ", ".join(map(str, holes[:10])) + (" ..." if len(holes) > 10 else "")
    return VerifyTimeoutError(
        f"verify of range {range_name!r}: the owner {site} lagged: it had applied up to "
        f"{pos.contiguous} of the log's {tail} entries ({len(holes)} missing: {shown}) "
        f"after {timeout:g} s; entries appended but not committed there are filled by its agent",
        site,
        pos.contiguous,
        tail,
    )


@dataclass
class _Replica:
    """One replica's check: reach the target position, lock, checksum."""

    site: str
    cfg: Config
    store: MusicStore
    rng: RangeConfig
    catch_up: bool
    say: Callable[[str], None]
    report: SiteReport = field(init=False)
    lock: Connection | None = None
    look: Connection | None = None
    tables: list[str] = field(default_factory=list)
    sums: dict[str, TableChecksum] | None = None
    out_of_band: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.report = SiteReport(self.site, "replica", SiteState.ERROR)

    def _fail(self, state: SiteState, detail: str) -> None:
        self.report.state = state
        self.report.detail = detail
        self.say(f"{self.site}: {state.value}: {detail}")
        self.close()

    def reach(self, target: int, deadline: float, timeout: float) -> None:
        """Bring (or wait for) the replica to ``target`` and lock its tables there."""
        try:
            self._reach(target, deadline, timeout)
        except SiteUnreachableError as exc:
            self._fail(SiteState.UNREACHABLE, str(exc))
        except pymysql.err.MySQLError as exc:
            lost = isinstance(exc, pymysql.err.OperationalError) and errno(exc) in CONNECTION_LOST
            self._fail(SiteState.UNREACHABLE if lost else SiteState.ERROR, str(exc))

    def _reach(self, target: int, deadline: float, timeout: float) -> None:
        self.look = connect_site(self.cfg, self.site)
        self.lock = connect_site(self.cfg, self.site)
        if self.catch_up:
            replayer = connect_site(self.cfg, self.site, autocommit=False)
            try:
                apply.begin_replay(replayer)
                replay.catch_up(self.store, replayer, self.site, self.rng.name, upto=target)
            except TrimmedError as exc:
                self._fail(SiteState.NEEDS_RESYNC, str(exc))
                return
            finally:
                replayer.close()
        while True:
            pos = _read_position(self.look, self.rng.name)
            self.report.position = pos.contiguous
            if pos.contiguous > target or any(s > target for s in pos.above):
                self._fail(
                    SiteState.AHEAD,
                    f"applied up to {pos.highest}, beyond seq {target}: it holds entries the "
                    "log does not have (an old owner?); rebuild it with 'mdbc resync --full'",
                )
                return
            if pos.contiguous == target:
                break
            if time.monotonic() >= deadline:
                error = VerifyTimeoutError(
                    f"{self.site} lagged: at {pos.contiguous} of {target} "
                    f"({target - pos.contiguous} entries behind) after {timeout:g} s",
                    self.site,
                    pos.contiguous,
                    target,
                )
                self._fail(SiteState.LAGGING, str(error))
                return
            time.sleep(RETRY_PAUSE)
        with self.look.cursor(Cursor) as cur:
            self.tables = range_tables(cur, self.rng)
        _lock(self.lock, self.rng.database, self.tables, max(1.0, deadline - time.monotonic()))
        self.report.state = SiteState.OK
        self.say(f"{self.site}: at seq {target}, {len(self.tables)} tables locked")

    def checksum(self) -> None:
        """Checksums and out-of-band counts, under the replica's lock; then release it."""
        if self.lock is None or self.look is None or self.report.state is not SiteState.OK:
            return
        try:
            self.sums = _checksums(self.lock, self.rng.database, self.tables)
            self.out_of_band = _out_of_band(self.look, self.rng)
            self.say(f"{self.site}: {len(self.tables)} tables checksummed")
        except pymysql.err.MySQLError as exc:
            self.sums = None
            lost = isinstance(exc, pymysql.err.OperationalError) and errno(exc) in CONNECTION_LOST
            self._fail(SiteState.UNREACHABLE if lost else SiteState.ERROR, str(exc))
        finally:
            self.close()

    def close(self) -> None:
        for conn in (self.lock, self.look):
            if conn is not None and conn.open:
                conn.close()


def verify_range(
    cfg: Config,
    store: MusicStore,
    range_name: str,
    sites: Sequence[str] | None = None,
    timeout: float = 60,
    progress: Callable[[str], None] | None = None,
    catch_up: bool = False,
) -> VerifyResult:
    """Compare the owner of ``range_name`` with its replicas at one sequence number.

    ``sites`` limits the replicas checked (default: every configured site;
    the owner is always part of it). ``timeout`` bounds the wait for the
    owner to settle and for each replica to reach the owner's position.
    ``progress`` receives one line per step (from several threads).
    ``catch_up`` replays missing entries into the replicas here instead of
    waiting for their agents.

    Raises :class:`UnknownRangeError` for a range that is not configured or
    not in the store, ``ConfigError`` for an unknown site,
    :class:`SiteUnreachableError` when the owner cannot be reached, and
    :class:`VerifyTimeoutError` when the owner does not settle in time.
    Replicas that cannot be reached or do not reach the position in time are
    reported in the result (never skipped), which is then not ok.
    """
    started = time.monotonic()
    deadline = started + timeout
    say = progress or _quiet
    rng = cfg.ranges.get(range_name)
    if rng is None:
        known = ", ".join(sorted(cfg.ranges)) or "none"
        raise UnknownRangeError(f"unknown range {range_name!r} (configured ranges: {known})")
    info = store.describe_range(range_name)
    if info.owner is None:
        raise VerifyError(f"range {range_name!r} has no owner: nothing to compare with")
    owner_name = info.owner
    wanted = list(cfg.sites) if sites is None else list(dict.fromkeys(sites))
    for name in wanted:
        cfg.site(name)
    replicas = [
        _Replica(name, cfg, store, rng, catch_up, say) for name in wanted if name != owner_name
    ]

    owner = _Owner(owner_name, connect_site(cfg, owner_name), connect_site(cfg, owner_name))
    try:
        seq = _settle_owner(owner, store, rng, info.epoch, deadline, timeout, say)
        try:
            with ThreadPoolExecutor(max_workers=max(1, len(replicas))) as pool:
                waits = [pool.submit(r.reach, seq, deadline, timeout) for r in replicas]
                owner_sums = _checksums(owner.lock, rng.database, owner.tables)
                owner_oob = _out_of_band(owner.look, rng)
                say(f"{owner_name}: {len(owner.tables)} tables checksummed")
                for wait in waits:
                    wait.result()
        finally:
            _unlock(owner.lock)
            assert owner.locked_at is not None
            locked_seconds = time.monotonic() - owner.locked_at
        with ThreadPoolExecutor(max_workers=max(1, len(replicas))) as pool:
            for done in [pool.submit(r.checksum) for r in replicas]:
                done.result()
    finally:
        owner.close()
        for replica in replicas:
            replica.close()

    result = VerifyResult(range_name, seq, owner_name, locked_seconds=locked_seconds)
    result.checksums[owner_name] = owner_sums
    owner_state = SiteState.OUT_OF_BAND if owner_oob else SiteState.OK
    result.sites[owner_name] = SiteReport(owner_name, "owner", owner_state, seq)
    if owner_oob:
        result.out_of_band[owner_name] = owner_oob
    for replica in replicas:
        result.sites[replica.site] = replica.report
        if replica.sums is not None:
            _compare(result, replica, owner_sums)
    result.seconds = time.monotonic() - started
    return result


def _compare(result: VerifyResult, replica: _Replica, owner_sums: dict[str, TableChecksum]) -> None:
    """Record the replica's checksums and every way they differ from the owner's."""
    assert replica.sums is not None
    site, sums = replica.site, replica.sums
    result.checksums[site] = sums
    missing = sorted(set(owner_sums) - set(sums))
    extra = sorted(set(sums) - set(owner_sums))
    if missing:
        result.missing_tables[site] = missing
    if extra:
        result.extra_tables[site] = extra
    for table in sorted(set(owner_sums) & set(sums)):
        mine, theirs = owner_sums[table], sums[table]
        if mine.rows != theirs.rows:
            result.mismatches.append(Mismatch(site, table, mine.rows, theirs.rows, "rows"))
        if mine.checksum != theirs.checksum:
            result.mismatches.append(
                Mismatch(site, table, mine.checksum, theirs.checksum, "checksum")
            )
    differing = sorted({m.table for m in result.mismatches if m.site == site})
    report = replica.report
    if differing or missing or extra:
        report.state = SiteState.MISMATCH
        parts = []
        if differing:
            parts.append(f"{len(differing)} table(s) differ: {', '.join(differing)}")
        if missing:
            parts.append(f"{len(missing)} missing")
        if extra:
            parts.append(f"{len(extra)} extra")
        report.detail = "; ".join(parts)
    if replica.out_of_band:
        result.out_of_band[site] = replica.out_of_band
        if report.state is SiteState.OK:
            report.state = SiteState.OUT_OF_BAND
            total = sum(replica.out_of_band.values())
            report.detail = f"{total} staged row(s) no commit claimed"
