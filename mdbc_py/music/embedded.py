"""The embedded MUSIC store: the whole contract on one SQLite file, for one host.

It exists so that ``mdbc demo``, development and the fast unit tests get the
very semantics of the Cassandra store without a Cassandra node. Several
processes (the driver in each SO service, the site agents, the CLI) and
several threads in each may use one file at once.

How the guarantees are kept:

- Every read-modify-write (append, change of owner, state, lease, trim, ...)
  runs in one ``BEGIN IMMEDIATE`` transaction. SQLite lets one writer in at a
  time, so reading the range row, checking the epoch, assigning ``tail + 1``
  and writing the entries are one atomic step: no gap, no duplicate, and no
  append with an old epoch after a change of owner has committed.
- WAL mode lets readers run beside the writer and see a consistent snapshot;
  ``synchronous=FULL`` makes every acknowledged commit survive power loss.
- A writer that cannot get the lock within ``busy_timeout`` seconds, a full
  disk or an I/O error raises ``StoreUnavailableError``; SQLite's atomic
  commit guarantees that nothing of the refused call was written.

Each call borrows a connection from a small pool (one per concurrent
caller) and gives it back afterwards, so threads that come and go leave no
connections behind. The clock of this host (``time.time()``) is the store
clock for leases, heartbeats and timestamps: there is only one host.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress

from mdbc_py.config import check_name
from mdbc_py.errors import (
    FencedError,
    InterfaceError,
    StoreUnavailableError,
    TrimmedError,
    UnknownRangeError,
)
from mdbc_py.log.chunks import check_size
from mdbc_py.music import embedded_schema
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

__all__ = ["EmbeddedStore"]

SEGMENT = 1
"""The embedded log is one SQLite table, never cut: always segment 1, as Cassandra starts."""

_RANGE_COLUMNS = "name, owner, epoch, state, tail, trim_point"
_LOG_COLUMNS = "range_name, seq, epoch, txid, payload, appended_at"
_HISTORY_COLUMNS = "range_name, from_site, to_site, from_epoch, to_epoch, tail, at, reason"


class EmbeddedStore(MusicStore):
    """A MUSIC store on one SQLite file, shared by the processes and threads of one host.

    Opening the store creates the file and its tables if they are missing, so
    ``create_schema`` is only needed for symmetry with the Cassandra backend.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        file = os.fspath(path)
        if not isinstance(file, str) or file in ("", ":memory:") or file.startswith("file:"):
            raise ValueError(
                f"the embedded store needs the path of a file, not {file!r}: every "
                "process and thread must open the same file"
            )
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float):
            raise TypeError(f"busy_timeout must be a number of seconds, not {busy_timeout!r}")
        if busy_timeout < 0:
            raise ValueError(f"busy_timeout must be >= 0 seconds, got {busy_timeout!r}")
        self._path = file
        self._busy_timeout = float(busy_timeout)
        self._lock = threading.Lock()  # guards the pool
        self._write_lock = threading.Lock()  # one writer per process at a time
        self._idle: list[sqlite3.Connection] = []
        self._inherited: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False
        self.create_schema()

    @property
    def path(self) -> str:
        """The SQLite file this store lives in."""
        return self._path

    def __repr__(self) -> str:
        return f"EmbeddedStore({self._path!r})"

    # -- connections and transactions -----------------------------------------

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit BEGIN, every transaction is ours.
        # check_same_thread=False: a pooled connection serves one thread at a
        # time, but not always the same one.
        conn = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            embedded_schema.configure(conn, self._busy_timeout)
        except BaseException:
            conn.close()
            raise
        return conn

    def _checkout(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise InterfaceError(f"the embedded store {self._path} is closed")
            if os.getpid() != self._pid:
                # A forked child must not use (nor close: closing would drop
                # the process's POSIX locks on the file) its parent's connections.
                self._inherited.extend(self._idle)
                self._idle = []
                self._pid = os.getpid()
                # a thread of the parent may have held it at the fork
                self._write_lock = threading.Lock()
            if self._idle:
                return self._idle.pop()
        return self._open()

    def _checkin(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if not self._closed and not conn.in_transaction and os.getpid() == self._pid:
                self._idle.append(conn)
                return
        if os.getpid() == self._pid:
            conn.close()

    @contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """Turn SQLite's failures into ``StoreUnavailableError``, saying what failed and why."""
        try:
            yield
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # a bug in this module, not an unavailable store
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                why = (
                    f"the file stayed locked by other writers for more than "
                    f"{self._busy_timeout:g} s ({text})"
                )
            else:
                why = text
            raise StoreUnavailableError(
                f"embedded store {self._path}: {what} failed: {why}; nothing was changed, "
                "retry once the file is reachable"
            ) from exc

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """Hold this process's write lock, waiting at most ``busy_timeout`` like SQLite would."""
        lock = self._write_lock
        if not lock.acquire(timeout=self._busy_timeout):
            raise sqlite3.OperationalError("database is locked (by another thread of this process)")
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def _transaction(self, what: str, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction on a pooled connection, committed on success, else rolled back.

        ``write`` takes SQLite's write lock up front (BEGIN IMMEDIATE), so the
        reads made inside cannot be invalidated by another writer before the
        commit. Read transactions (BEGIN) see one snapshot across statements.

        Writers of this process first queue on a thread lock: SQLite's busy
        handler polls with sleeps of up to 100 ms, so threads contending for
        the file lock sleep while it is free and an unlucky one can wait for
        seconds while others get in. Only writers of other processes are left
        to the busy handler.
        """
        with self._translate(what):
            conn = self._checkout()
            try:
                with self._writer_turn() if write else nullcontext():
                    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                    try:
                        yield conn
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            with suppress(sqlite3.Error):
                                conn.execute("ROLLBACK")
                        raise
            finally:
                self._checkin(conn)

    # -- validation -------------------------------------------------------------

    @staticmethod
    def _range_name(name: object) -> str:
        return valid_range_name(name)

    @staticmethod
    def _site_name(name: object) -> str:
        return check_name("site", name)

    @staticmethod
    def _fetch_range(conn: sqlite3.Connection, name: str) -> RangeInfo:
        row = conn.execute(
            f"SELECT {_RANGE_COLUMNS} FROM ranges WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            known = [r[0] for r in conn.execute("SELECT name FROM ranges ORDER BY name LIMIT 20")]
            raise UnknownRangeError(
                f"unknown range {name!r}: the store has "
                + (f"the ranges {', '.join(known)}" if known else "no ranges yet")
                + "; create it first (mdbc init) or check the name"
            )
        return _range_info(row)

    # -- schema and ranges --------------------------------------------------

    def create_schema(self) -> None:
        """Create the store's tables if missing (idempotent, safe from several processes)."""
        with self._translate("creating the schema"):
            conn = self._checkout()
            try:
                embedded_schema.create(conn)
            finally:
                self._checkin(conn)

    def create_range(self, name: str, owner: str) -> RangeInfo:
        """Create a range owned by ``owner`` at epoch 1, state open; an existing one is returned."""
        name = self._range_name(name)
        owner = self._site_name(owner)
        with self._transaction(f"creating range {name!r}", write=True) as conn:
            row = conn.execute(
                f"SELECT {_RANGE_COLUMNS} FROM ranges WHERE name = ?", (name,)
            ).fetchone()
            if row is not None:
                return _range_info(row)
            conn.execute(
                "INSERT INTO ranges (name, owner, epoch, state, tail, trim_point, created_at) "
                "VALUES (?, ?, 1, ?, 0, 0, ?)",
                (name, owner, RangeState.OPEN.value, time.time()),
            )
        return RangeInfo(name, owner, 1, RangeState.OPEN, 0, SEGMENT, 0)

    def describe_range(self, name: str) -> RangeInfo:
        """The range's owner, epoch, state and tail; ``UnknownRangeError`` if absent."""
        name = self._range_name(name)
        with self._transaction(f"describing range {name!r}", write=False) as conn:
            return self._fetch_range(conn, name)

    def list_ranges(self) -> list[RangeInfo]:
        """Every range, by name."""
        with self._transaction("listing ranges", write=False) as conn:
            rows = conn.execute(f"SELECT {_RANGE_COLUMNS} FROM ranges ORDER BY name").fetchall()
        return [_range_info(row) for row in rows]

    # -- the log ----------------------------------------------------------------

    def append(self, range_name: str, epoch: int, entries: Sequence[NewEntry]) -> list[int]:
        """Append ``entries`` in order, atomically, if ``epoch`` is current and the range is open.

        Sizes are checked before the transaction starts, so an oversized entry
        leaves the log untouched; an empty ``entries`` returns ``[]`` without
        touching the store at all.
        """
        range_name = self._range_name(range_name)
        _check_int("epoch", epoch)
        for entry in entries:
            if not isinstance(entry, NewEntry):
                raise TypeError(f"append takes NewEntry values, not {type(entry).__name__}")
            if not isinstance(entry.txid, str):
                raise TypeError(f"NewEntry.txid must be a str, not {type(entry.txid).__name__}")
            if not isinstance(entry.payload, bytes | bytearray | memoryview):
                raise TypeError(
                    f"NewEntry.payload must be bytes, not {type(entry.payload).__name__}"
                )
            check_size(entry.payload)
        if not entries:
            return []
        with self._transaction(f"appending to range {range_name!r}", write=True) as conn:
            info = self._fetch_range(conn, range_name)
            if epoch != info.epoch or not info.state.accepts_appends:
                raise append_refused(
                    range_name,
                    epoch,
                    info.epoch,
                    info.owner,
                    info.state,
                    self._epoch_owner(conn, info, epoch),
                )
            now = time.time()
            first = info.tail + 1
            rows: list[tuple[str, int, int, str, bytes, float]] = [
                (range_name, first + i, epoch, e.txid, bytes(e.payload), now)
                for i, e in enumerate(entries)
            ]
            conn.executemany(f"INSERT INTO log ({_LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", rows)
            conn.execute(
                "UPDATE ranges SET tail = ? WHERE name = ?", (info.tail + len(rows), range_name)
            )
        return [first + i for i in range(len(rows))]

    @staticmethod
    def _epoch_owner(conn: sqlite3.Connection, info: RangeInfo, epoch: int) -> str | None:
        """Who owned ``epoch`` of the range, from its history (for a refusal's message)."""
        rows = conn.execute(
            f"SELECT {_HISTORY_COLUMNS} FROM history WHERE range_name = ? "
            "AND (to_epoch = ? OR from_epoch = ?) ORDER BY id DESC",
            (info.name, epoch, epoch),
        ).fetchall()
        return owner_of_epoch([OwnerChange(*row) for row in rows], epoch, info.owner, info.epoch)

    def read(self, range_name: str, from_seq: int, limit: int = DEFAULT_PAGE) -> list[LogRecord]:
        """Up to ``limit`` entries from ``from_seq`` on, in order; ``TrimmedError`` if trimmed.

        The trim point and the entries are read in one snapshot, so a
        concurrent trim cannot make the result start after ``from_seq``.
        """
        range_name = self._range_name(range_name)
        _check_int("from_seq", from_seq, minimum=1)
        _check_int("limit", limit, minimum=0)
        with self._transaction(f"reading range {range_name!r}", write=False) as conn:
            info = self._fetch_range(conn, range_name)
            if from_seq <= info.trim_point:
                raise TrimmedError(
                    f"range {range_name!r}: entries up to {info.trim_point} were trimmed, "
                    f"so reading from {from_seq} is impossible; rebuild this site from a "
                    "snapshot of the owner (mdbc resync --full)"
                )
            if limit == 0:
                return []
            rows = conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM log WHERE range_name = ? AND seq >= ? "
                "ORDER BY seq LIMIT ?",
                (range_name, from_seq, limit),
            ).fetchall()
        return [_log_record(row) for row in rows]

    def find_txid(self, range_name: str, txid: str) -> LogRecord | None:
        """The entry of transaction ``txid`` (the first, should it be there twice), if untrimmed."""
        range_name = self._range_name(range_name)
        if not isinstance(txid, str):
            raise TypeError(f"txid must be a str, not {type(txid).__name__}")
        with self._transaction(f"looking up txid in range {range_name!r}", write=False) as conn:
            self._fetch_range(conn, range_name)
            row = conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM log WHERE range_name = ? AND txid = ? "
                "ORDER BY seq LIMIT 1",
                (range_name, txid),
            ).fetchone()
        return None if row is None else _log_record(row)

    # -- ownership ------------------------------------------------------------

    def change_owner(
        self,
        range_name: str,
        from_epoch: int,
        to_site: str,
        reason: str,
        state: RangeState = RangeState.FENCED,
    ) -> OwnerChange:
        """Move the range to ``to_site`` at ``from_epoch + 1`` if ``from_epoch`` is current.

        The check, the epoch bump and the history row are one transaction, so
        of several concurrent callers with the same ``from_epoch`` exactly one
        wins, and the ``tail`` it returns is final for the old epoch.
        """
        range_name = self._range_name(range_name)
        to_site = self._site_name(to_site)
        _check_int("from_epoch", from_epoch)
        if not isinstance(reason, str):
            raise TypeError(f"reason must be a str, not {type(reason).__name__}")
        new_state = RangeState(state)
        with self._transaction(f"changing the owner of range {range_name!r}", write=True) as conn:
            info = self._fetch_range(conn, range_name)
            if info.epoch != from_epoch:
                raise owner_change_refused(
                    range_name, from_epoch, info.epoch, info.owner, info.state
                )
            change = OwnerChange(
                range_name=range_name,
                from_site=info.owner,
                to_site=to_site,
                from_epoch=info.epoch,
                to_epoch=info.epoch + 1,
                tail=info.tail,
                at=time.time(),
                reason=reason,
            )
            conn.execute(
                "UPDATE ranges SET owner = ?, epoch = ?, state = ? WHERE name = ?",
                (to_site, change.to_epoch, new_state.value, range_name),
            )
            conn.execute(
                f"INSERT INTO history ({_HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    change.range_name,
                    change.from_site,
                    change.to_site,
                    change.from_epoch,
                    change.to_epoch,
                    change.tail,
                    change.at,
                    change.reason,
                ),
            )
        return change

    def set_state(self, range_name: str, epoch: int, state: RangeState) -> RangeInfo:
        """Set the state (open, draining, fenced) if ``epoch`` is current; else ``FencedError``."""
        range_name = self._range_name(range_name)
        _check_int("epoch", epoch)
        new_state = RangeState(state)
        with self._transaction(f"setting the state of range {range_name!r}", write=True) as conn:
            info = self._fetch_range(conn, range_name)
            if info.epoch != epoch:
                raise with_facts(
                    FencedError(
                        f"setting range {range_name!r} {new_state} refused: epoch {epoch} is "
                        f"not current, the current epoch is {info.epoch} (owner "
                        f"{info.owner!r}, {info.state}); read the range again and decide anew"
                    ),
                    range_name=range_name,
                    epoch=epoch,
                    epoch_owner=self._epoch_owner(conn, info, epoch),
                    current_epoch=info.epoch,
                    owner=info.owner,
                    state=info.state.value,
                )
            conn.execute(
                "UPDATE ranges SET state = ? WHERE name = ?", (new_state.value, range_name)
            )
        return RangeInfo(
            info.name, info.owner, info.epoch, new_state, info.tail, SEGMENT, info.trim_point
        )

    def history(self, range_name: str | None = None, limit: int = 100) -> list[OwnerChange]:
        """Owner changes, newest first, of one range (which must exist) or of all."""
        _check_int("limit", limit, minimum=0)
        name = None if range_name is None else self._range_name(range_name)
        with self._transaction("reading the owner history", write=False) as conn:
            if name is None:
                rows = conn.execute(
                    f"SELECT {_HISTORY_COLUMNS} FROM history ORDER BY id DESC LIMIT ?", (limit,)
                ).fetchall()
            else:
                self._fetch_range(conn, name)
                rows = conn.execute(
                    f"SELECT {_HISTORY_COLUMNS} FROM history WHERE range_name = ? "
                    "ORDER BY id DESC LIMIT ?",
                    (name, limit),
                ).fetchall()
        return [OwnerChange(*row) for row in rows]

    # -- settings ---------------------------------------------------------

    def put_setting(self, name: str, value: str | None) -> None:
        """Store (or, with None, remove) a cluster-wide setting."""
        with self._transaction(f"writing setting {name!r}", write=True) as conn:
            if value is None:
                conn.execute("DELETE FROM settings WHERE name = ?", (name,))
            else:
                conn.execute(
                    "INSERT INTO settings (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (name, value),
                )

    def get_setting(self, name: str) -> str | None:
        """A cluster-wide setting, or None."""
        with self._transaction(f"reading setting {name!r}", write=False) as conn:
            row = conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    # -- sites, leases, positions -----------------------------------------

    def register_site(self, name: str, info: dict[str, str] | None = None) -> None:
        """Add a site, or refresh its heartbeat (and info, if given) keeping ``registered_at``."""
        name = self._site_name(name)
        text = None if info is None else _info_json(info)
        now = time.time()
        with self._transaction(f"registering site {name!r}", write=True) as conn:
            conn.execute(
                "INSERT INTO sites (name, registered_at, heartbeat_at, info) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, "
                "info = coalesce(?, sites.info)",
                (name, now, now, text or "{}", text),
            )

    def heartbeat(self, name: str, info: dict[str, str] | None = None) -> None:
        """Record that ``name`` is alive now, with its ``info`` if given (unknown: registered)."""
        name = self._site_name(name)
        text = None if info is None else _info_json(info)
        now = time.time()
        with self._transaction(f"heartbeat of site {name!r}", write=True) as conn:
            conn.execute(
                "INSERT INTO sites (name, registered_at, heartbeat_at, info) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, "
                "info = coalesce(?, sites.info)",
                (name, now, now, text or "{}", text),
            )

    def list_sites(self) -> list[SiteInfo]:
        """Registered sites, by name, with their last heartbeat."""
        with self._transaction("listing sites", write=False) as conn:
            rows = conn.execute(
                "SELECT name, registered_at, heartbeat_at, info FROM sites ORDER BY name"
            ).fetchall()
        return [SiteInfo(name, reg, beat, json.loads(info)) for name, reg, beat, info in rows]

    def acquire_lease(
        self, range_name: str, site: str, ttl: float, epoch: int | None = None
    ) -> Lease | None:
        """Take the lease if free, expired or of an older epoch, renew it if ``site`` holds it."""
        range_name = self._range_name(range_name)
        site = self._site_name(site)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        if epoch is not None:
            _check_int("epoch", epoch, minimum=0)
        with self._transaction(f"taking the lease of range {range_name!r}", write=True) as conn:
            self._fetch_range(conn, range_name)
            now = time.time()
            row = conn.execute(
                "SELECT holder, expires_at, epoch FROM leases WHERE range_name = ?", (range_name,)
            ).fetchone()
            live = row is not None and row[1] > now
            if live and row[0] != site and (epoch is None or row[2] >= epoch):
                return None  # another site's live lease, of an epoch not older than ours
            if live and row[0] == site and epoch is not None and epoch < row[2]:
                return None  # a stale view of this very site must not move the epoch back
            held_epoch = epoch if epoch is not None else (row[2] if row and row[0] == site else 0)
            lease = Lease(range_name, site, now + ttl, held_epoch, uuid.uuid4().hex, float(ttl))
            conn.execute(
                "INSERT INTO leases (range_name, holder, expires_at, epoch, version, ttl) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (range_name) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at, epoch = excluded.epoch, "
                "version = excluded.version, ttl = excluded.ttl",
                (range_name, site, lease.expires_at, lease.epoch, lease.version, lease.ttl),
            )
        return lease

    def get_lease(self, range_name: str) -> Lease | None:
        """The live lease of the range; None when there is none or it has expired."""
        range_name = self._range_name(range_name)
        with self._transaction(f"reading the lease of range {range_name!r}", write=False) as conn:
            self._fetch_range(conn, range_name)
            row = conn.execute(
                "SELECT holder, expires_at, epoch, version, ttl FROM leases WHERE range_name = ?",
                (range_name,),
            ).fetchone()
        if row is None or row[1] <= time.time():
            return None
        return Lease(range_name, row[0], row[1], row[2], row[3], row[4])

    def release_lease(self, range_name: str, site: str) -> None:
        """Give the lease up if ``site`` holds it; a lease held by another site is left alone."""
        range_name = self._range_name(range_name)
        site = self._site_name(site)
        with self._transaction(f"releasing the lease of range {range_name!r}", write=True) as conn:
            self._fetch_range(conn, range_name)
            conn.execute(
                "DELETE FROM leases WHERE range_name = ? AND holder = ?", (range_name, site)
            )

    # -- proxies --------------------------------------------------------------

    def proxy_heartbeat(self, site: str, instance: str, info: dict[str, str], ttl: float) -> None:
        """Record proxy ``instance`` of ``site`` alive now; drop every record past its ttl."""
        site = self._site_name(site)
        if not isinstance(instance, str) or not instance:
            raise TypeError(f"instance must be a non-empty str, not {instance!r}")
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        text = _info_json(info)
        with self._transaction(f"heartbeat of a proxy of site {site!r}", write=True) as conn:
            now = time.time()
            conn.execute("DELETE FROM proxies WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO proxies (site, instance, heartbeat_at, expires_at, info) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, instance) DO UPDATE SET "
                "heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at, "
                "info = excluded.info",
                (site, instance, now, now + ttl, text),
            )

    def list_proxies(self) -> list[ProxyInfo]:
        """Proxies whose record has not expired, by site and instance."""
        with self._transaction("listing proxies", write=False) as conn:
            rows = conn.execute(
                "SELECT site, instance, heartbeat_at, info FROM proxies WHERE expires_at > ? "
                "ORDER BY site, instance",
                (time.time(),),
            ).fetchall()
        return [ProxyInfo(site, inst, beat, json.loads(info)) for site, inst, beat, info in rows]

    # -- one agent per site ------------------------------------------------

    def claim_agent(self, site: str, instance: str, ttl: float) -> AgentClaim:
        """Claim ``site`` for agent ``instance`` unless another live instance holds it."""
        site = self._site_name(site)
        if not isinstance(instance, str) or not instance:
            raise TypeError(f"instance must be a non-empty str, not {instance!r}")
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        with self._transaction(f"claiming site {site!r} for an agent", write=True) as conn:
            now = time.time()
            row = conn.execute(
                "SELECT instance, expires_at FROM agents WHERE site = ?", (site,)
            ).fetchone()
            if row is not None and row[0] != instance and row[1] > now:
                return AgentClaim(site, row[0], row[1])
            conn.execute(
                "INSERT INTO agents (site, instance, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (site) DO UPDATE SET instance = excluded.instance, "
                "expires_at = excluded.expires_at",
                (site, instance, now + ttl),
            )
        return AgentClaim(site, instance, now + ttl)

    def agent_claim(self, site: str) -> AgentClaim | None:
        """The live claim on ``site``, if any."""
        site = self._site_name(site)
        with self._transaction(f"reading the agent claim of site {site!r}", write=False) as conn:
            row = conn.execute(
                "SELECT instance, expires_at FROM agents WHERE site = ?", (site,)
            ).fetchone()
        if row is None or row[1] <= time.time():
            return None
        return AgentClaim(site, row[0], row[1])

    def release_agent(self, site: str, instance: str) -> None:
        """Drop the claim on ``site`` if ``instance`` holds it."""
        site = self._site_name(site)
        with self._transaction(f"releasing the agent claim of site {site!r}", write=True) as conn:
            conn.execute("DELETE FROM agents WHERE site = ? AND instance = ?", (site, instance))

    def set_applied(self, site: str, range_name: str, seq: int) -> None:
        """Report ``site``'s applied position; a lower ``seq`` than the stored one is ignored.

        Reports can arrive out of order (two threads of one agent), so the
        position only ever moves forward here; ``reset_applied`` moves it back.
        """
        self._store_applied(site, range_name, seq, forward_only=True)

    def reset_applied(self, site: str, range_name: str, seq: int) -> None:
        """Set a site's position to ``seq`` even if lower (after a resync from a snapshot)."""
        self._store_applied(site, range_name, seq, forward_only=False)

    def _store_applied(self, site: str, range_name: str, seq: int, *, forward_only: bool) -> None:
        site = self._site_name(site)
        range_name = self._range_name(range_name)
        _check_int("seq", seq, minimum=0)
        guard = " WHERE excluded.seq >= applied.seq" if forward_only else ""
        with self._transaction(
            f"recording the position of site {site!r} in range {range_name!r}", write=True
        ) as conn:
            self._fetch_range(conn, range_name)
            conn.execute(
                "INSERT INTO applied (site, range_name, seq, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (site, range_name) DO UPDATE SET seq = excluded.seq, "
                "updated_at = excluded.updated_at" + guard,
                (site, range_name, seq, time.time()),
            )

    def applied_positions(self, range_name: str) -> dict[str, AppliedPosition]:
        """Applied position of every site that reported one for the range."""
        range_name = self._range_name(range_name)
        with self._transaction(f"reading positions in range {range_name!r}", write=False) as conn:
            self._fetch_range(conn, range_name)
            rows = conn.execute(
                "SELECT site, seq, updated_at FROM applied WHERE range_name = ? ORDER BY site",
                (range_name,),
            ).fetchall()
        return {site: AppliedPosition(site, range_name, seq, at) for site, seq, at in rows}

    # -- trimming -----------------------------------------------------------

    def trim(self, range_name: str, margin: int = 0, stale_after: float | None = None) -> int:
        """Remove entries every counted site has applied, keeping ``margin`` more.

        Counted are the registered sites, the owner included, except those
        whose heartbeat is older than ``stale_after`` seconds; a counted site
        that never reported a position holds the log at 0. With no counted
        site nothing is trimmed: nobody vouches that the entries are applied.
        The trim point never passes the tail and never moves back.
        """
        range_name = self._range_name(range_name)
        _check_int("margin", margin, minimum=0)
        if stale_after is not None and (
            isinstance(stale_after, bool)
            or not isinstance(stale_after, int | float)
            or stale_after < 0
        ):
            raise ValueError(f"stale_after must be None or seconds >= 0, not {stale_after!r}")
        with self._transaction(f"trimming range {range_name!r}", write=True) as conn:
            info = self._fetch_range(conn, range_name)
            now = time.time()
            positions = dict(
                conn.execute(
                    "SELECT site, seq FROM applied WHERE range_name = ?", (range_name,)
                ).fetchall()
            )
            counted = [
                positions.get(name, 0)
                for name, beat in conn.execute("SELECT name, heartbeat_at FROM sites")
                if stale_after is None or now - beat <= stale_after
            ]
            if not counted:
                return info.trim_point
            target = min(min(counted) - margin, info.tail)
            if target <= info.trim_point:
                return info.trim_point
            conn.execute("DELETE FROM log WHERE range_name = ? AND seq <= ?", (range_name, target))
            conn.execute("UPDATE ranges SET trim_point = ? WHERE name = ?", (target, range_name))
        return target

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        """Close the idle connections; calls still running close theirs when they finish."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            forked = os.getpid() != self._pid
        if not forked:
            for conn in idle:
                with suppress(sqlite3.Error):
                    conn.close()


def _check_int(what: str, value: object, *, minimum: int | None = None) -> None:
    """Refuse a non-int (a bool or float epoch is a caller's bug) or one below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")


def _info_json(info: object) -> str:
    if not isinstance(info, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in info.items()
    ):
        raise TypeError(f"site info must be a dict of str to str, not {info!r}")
    return json.dumps(info, sort_keys=True)


def _range_info(row: tuple[str, str | None, int, str, int, int]) -> RangeInfo:
    name, owner, epoch, state, tail, trim_point = row
    return RangeInfo(name, owner, epoch, RangeState(state), tail, SEGMENT, trim_point)


def _log_record(row: tuple[str, int, int, str, bytes, float]) -> LogRecord:
    range_name, seq, epoch, txid, payload, appended_at = row
    return LogRecord(range_name, seq, epoch, txid, payload, appended_at)
