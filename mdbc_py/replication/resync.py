"""Resync: bring a replica back in line with its range's log.

Two ways, chosen by the operator (``mdbc resync [--full]``):

- **Replay** (default): an old owner that rejoins, or a replica that was
  down for a while, continues from its own applied position: every entry it
  lacks is replayed, exactly once. Refused when the log was trimmed past
  that position, or when the site was marked ``needs-resync`` (its schema
  is ahead of the log after a DDL that could not be logged): only a
  snapshot can repair those, and the error says to use ``--full``.
- **Full**: the site's tables of the range are rebuilt from a consistent
  snapshot of the owner (``snapshot``) taken at a known position, the
  position is set to exactly that snapshot's, the capture is reinstalled,
  and replay continues from there to the tail. For an empty site, a site
  behind the trim point, or one whose data is suspect (``verify`` found
  differences).

Safety: nothing is changed before every range and site asked for has been
checked (known, not owned by the site, databases reachable, log not
trimmed for a replay). During a full rebuild the site carries the state
``needs-resync:<range>`` in ``mdbc.site_state`` until its position has been
reset, so a rebuild cut short is never mistaken for a usable replica: it
must be run again. The site's agent must leave a range so marked alone
(its replay would write into tables being dropped and reloaded). The owner
is never resynced: its data is the reference.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py import capture
from mdbc_py.config import Config, RangeConfig
from mdbc_py.core import apply, positions
from mdbc_py.core.positions import META_DB
from mdbc_py.errors import (
    MdbcError,
    OperationalError,
    ProgrammingError,
    TrimmedError,
    UnknownRangeError,
)
from mdbc_py.music import MusicStore
from mdbc_py.mysql_errors import errno
from mdbc_py.replication import replay, snapshot
from mdbc_py.replication.snapshot import SiteUnreachableError, connect_site, qualified

log = logging.getLogger(__name__)

__all__ = [
    "NEEDS_RESYNC_PREFIX",
    "NeedsFullResyncError",
    "ResyncError",
    "ResyncRefusedError",
    "ResyncResult",
    "SiteUnreachableError",
    "resync_site",
]

NEEDS_RESYNC_PREFIX = "needs-resync:"
"""``mdbc.site_state`` name prefix (then the range) of a site that must be rebuilt."""

PROGRESS_PREFIX = "resync-progress:"
"""``mdbc.site_state`` name prefix (then the range): ``"<rows copied> <rows>"`` of a full
resync under way, for the site's agent to export (``mdbc_resync_copied_rows``)."""

PROGRESS_EVERY = 1.0
"""Seconds between two progress records of a full resync."""

SNAPSHOT_ATTEMPTS = 5
"""How often a snapshot is taken again when a table changed under it (a concurrent DDL)."""

NOT_INITIALISED = {1049, 1146}
"""Unknown database / table: the site has no ``mdbc`` bookkeeping yet."""

Progress = Callable[[int, int], None]


class ResyncError(MdbcError, OperationalError):
    """A resync could not be done (the message says why and what was left behind)."""


class NeedsFullResyncError(ResyncError):
    """The site cannot catch up from the log: rebuild it with ``mdbc resync --full``."""


class ResyncRefusedError(MdbcError, ProgrammingError):
    """A resync that must not be done (of the owner, say); nothing was changed."""


@dataclass(frozen=True)
class ResyncResult:
    """What the resync of one range at one site did.

    ``snapshot_seq`` is the position the snapshot was taken at (None for a
    replay), ``rows_copied`` the rows loaded from it, ``applied_after`` the
    log entries replayed afterwards, ``position`` the site's final position.
    """

    range_name: str
    site: str
    full: bool
    snapshot_seq: int | None
    rows_copied: int
    applied_after: int
    position: int
    seconds: float


def _flag_name(range_name: str) -> str:
    return NEEDS_RESYNC_PREFIX + range_name


def _select_ranges(
    cfg: Config, store: MusicStore, site: str, range_names: Sequence[str] | None
) -> list[str]:
    """The ranges to resync, each checked: configured, in the store, not owned by ``site``."""
    if range_names is None:
        names = [n for n in sorted(cfg.ranges) if store.describe_range(n).owner != site]
        if not names:
            raise ResyncRefusedError(
                f"site {site!r} owns every configured range: there is nothing to resync"
            )
        return names
    names = list(dict.fromkeys(range_names))
    for name in names:
        if name not in cfg.ranges:
            known = ", ".join(sorted(cfg.ranges)) or "none"
            raise UnknownRangeError(f"unknown range {name!r} (configured ranges: {known})")
    for name in names:
        if store.describe_range(name).owner == site:
            raise ResyncRefusedError(
                f"cannot resync the owner of {name} ({site}): switch it over first "
                "(nothing was changed)"
            )
    return names


def resync_site(
    cfg: Config,
    store: MusicStore,
    site: str,
    range_names: Sequence[str] | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> list[ResyncResult]:
    """Resync ``site`` for ``range_names`` (default: every range it does not own).

    ``full`` rebuilds from a snapshot of the owner; otherwise the site
    replays from its own position. ``progress`` receives ``(done, total)``:
    rows copied of the snapshot's rows during a full resync, entries applied
    during a replay; counting starts again for each range.

    Raises, before changing anything: ``ConfigError`` for an unknown site,
    :class:`UnknownRangeError` for an unknown range,
    :class:`ResyncRefusedError` when the site owns a range asked for,
    :class:`SiteUnreachableError` when the site's (or, for ``full``, the
    owner's) database cannot be reached, and, without ``full``,
    :class:`NeedsFullResyncError` when the log was trimmed past the site's
    position or the site is marked ``needs-resync``.
    """
    cfg.site(site)
    names = _select_ranges(cfg, store, site, range_names)
    connect_site(cfg, site).close()
    if full:
        owners = sorted({o for n in names if (o := store.describe_range(n).owner)})
        for owner in owners:
            connect_site(cfg, owner).close()
        return [_full(cfg, store, site, cfg.ranges[n], progress) for n in names]
    conn = connect_site(cfg, site)
    try:
        for name in names:
            _check_replayable(conn, store, site, name)
    finally:
        conn.close()
    return [_replay(cfg, store, site, name, progress) for name in names]


def _check_replayable(conn: Connection, store: MusicStore, site: str, name: str) -> None:
    """Raise NeedsFullResyncError unless the site can catch up from the log."""
    try:
        with conn.cursor(Cursor) as cur:
            pos = positions.read(cur, name)
            flags = positions.get_states(cur, [_flag_name(name)])
    except pymysql.err.MySQLError as exc:
        if errno(exc) not in NOT_INITIALISED:
            raise
        raise NeedsFullResyncError(
            f"site {site!r} has no mdbc bookkeeping ({exc.args[-1]}): rebuild it with "
            f"'mdbc resync --site {site} --full'"
        ) from None
    if flags:
        raise NeedsFullResyncError(
            f"site {site!r} is marked needs-resync for range {name!r} "
            f"({flags[_flag_name(name)]}): rebuild it with 'mdbc resync --site {site} --full'"
        )
    info = store.describe_range(name)
    if pos.contiguous < info.trim_point:
        raise NeedsFullResyncError(
            f"site {site!r} has applied range {name!r} up to {pos.contiguous}, but the log "
            f"was trimmed up to {info.trim_point}: it cannot catch up from the log; rebuild "
            f"it with 'mdbc resync --site {site} --full'"
        )


def _replay(
    cfg: Config, store: MusicStore, site: str, name: str, progress: Progress | None
) -> ResyncResult:
    started = time.monotonic()
    conn = connect_site(cfg, site, autocommit=False)
    try:
        apply.begin_replay(conn)
        done = replay.catch_up(store, conn, site, name, progress=progress or _no_progress)
    except TrimmedError as exc:
        raise NeedsFullResyncError(
            f"{exc} (site {site!r}): rebuild it with 'mdbc resync --site {site} --full'"
        ) from None
    finally:
        conn.close()
    store.reset_applied(site, name, done.position)
    return ResyncResult(
        range_name=name,
        site=site,
        full=False,
        snapshot_seq=None,
        rows_copied=0,
        applied_after=done.applied,
        position=done.position,
        seconds=time.monotonic() - started,
    )


def _no_progress(done: int, total: int) -> None:
    pass


def _full(
    cfg: Config, store: MusicStore, site: str, rng: RangeConfig, progress: Progress | None
) -> ResyncResult:
    """Rebuild one range at ``site`` from a snapshot of the owner, then replay to the tail."""
    started = time.monotonic()
    owner = store.describe_range(rng.name).owner
    if owner is None or owner == site:
        raise ResyncRefusedError(
            f"cannot resync the owner of {rng.name} ({site}): switch it over first"
        )
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
        source = connect_site(cfg, owner, autocommit=False)
        target = connect_site(cfg, site)
        try:
            snap = snapshot.take(source, rng)
            if progress is not None:
                progress(0, snap.total_rows)
            _mark(target, rng.name, f"full resync from {owner} in progress")
            record = _ProgressRecord(target, rng.name, progress)
            record.save(0, snap.total_rows)
            try:
                snapshot.prepare_target(target, snap)
                copied = snapshot.copy_rows(source, target, snap, record)
                source.rollback()  # end the snapshot: the owner's tables are free for DDL
                snapshot.finish_target(target, snap)
                _install_capture(target, rng, snap)
                _set_position(target, rng.name, snap)
            except pymysql.err.MySQLError as exc:
                record.clear()
                if errno(exc) == snapshot.ER_TABLE_DEF_CHANGED:
                    raise
                raise ResyncError(
                    f"full resync of range {rng.name!r} at site {site!r} failed: {exc}; the "
                    "site stays marked needs-resync: run the resync again"
                ) from exc
            break
        except pymysql.err.MySQLError as exc:
            if errno(exc) != snapshot.ER_TABLE_DEF_CHANGED or attempt == SNAPSHOT_ATTEMPTS:
                raise
            log.info("range %s: a table changed under the snapshot; taking it again", rng.name)
        finally:
            source.close()
            target.close()
    replayer = connect_site(cfg, site, autocommit=False)
    try:
        apply.begin_replay(replayer)
        done = replay.catch_up(store, replayer, site, rng.name, report=False)
    finally:
        replayer.close()
    store.reset_applied(site, rng.name, done.position)
    return ResyncResult(
        range_name=rng.name,
        site=site,
        full=True,
        snapshot_seq=snap.seq,
        rows_copied=copied,
        applied_after=done.applied,
        position=done.position,
        seconds=time.monotonic() - started,
    )


def _mark(conn: Connection, range_name: str, why: str) -> None:
    """Flag the site as needing a resync of the range (creating ``mdbc`` if missing)."""
    with conn.cursor(Cursor) as cur:
        positions.create_schema(cur)
        positions.set_state(cur, _flag_name(range_name), why)
    conn.commit()


class _ProgressRecord:
    """Passes ``(done, total)`` on, and records it in the site's state once a second.

    The record (``resync-progress:<range>``) lets the site's agent export how
    far the copy is; it is removed with the needs-resync flag, in the same
    transaction, or when the copy fails. Writing it is best effort: a
    progress figure must never fail a resync.
    """

    def __init__(self, target: Connection, range_name: str, progress: Progress | None) -> None:
        self.target = target
        self.name = PROGRESS_PREFIX + range_name
        self.progress = progress
        self.written_at: float | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)
        self.save(done, total)

    def save(self, done: int, total: int) -> None:
        """Record ``done`` of ``total`` unless one was recorded less than a second ago."""
        now = time.monotonic()
        if self.written_at is not None and now - self.written_at < PROGRESS_EVERY:
            return
        self.written_at = now
        try:
            with self.target.cursor(Cursor) as cur:
                positions.set_state(cur, self.name, f"{done} {total}")
        except pymysql.err.MySQLError as exc:
            log.debug("resync progress not recorded: %s", exc)

    def clear(self) -> None:
        try:
            with self.target.cursor(Cursor) as cur:
                cur.execute(
                    f"DELETE FROM {qualified(META_DB, 'site_state')} WHERE name = %s",
                    (self.name,),
                )
        except pymysql.err.MySQLError as exc:
            log.debug("resync progress not cleared: %s", exc)


def _install_capture(conn: Connection, rng: RangeConfig, snap: snapshot.Snapshot) -> None:
    if rng.tables is None:
        capture.install_database(conn, rng.database)
    else:
        for table in snap.tables:
            capture.install_table(conn, rng.database, table.name)


def _set_position(conn: Connection, range_name: str, snap: snapshot.Snapshot) -> None:
    """Position := the snapshot's (contiguous seq plus the entries above it); clear the flag.

    One local transaction, so the flag goes only together with a position
    that matches the data.
    """
    conn.begin()
    try:
        with conn.cursor(Cursor) as cur:
            positions.reset(cur, range_name, snap.seq)
            for seq, txid in sorted(snap.above.items()):
                positions.record(cur, range_name, seq, txid)
            cur.execute(
                f"DELETE FROM {qualified(META_DB, 'site_state')} WHERE name IN (%s, %s)",
                (_flag_name(range_name), PROGRESS_PREFIX + range_name),
            )
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
