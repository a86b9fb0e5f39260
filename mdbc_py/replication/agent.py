"""The site agent: replay, leases, health and automatic failover, in one loop.

One agent runs at every site (``mdbc agent --site S``), and only one: at
start it claims the site in the store (one conditional write naming this
process, renewed with every heartbeat, lapsing ``claim_ttl`` after the
last); a second agent for the same site waits up to ``claim_wait`` for the
claim to lapse and then refuses with ``SiteClaimedError``, having done
nothing. An agent that finds its claim taken by another process stops.

Each tick it:

- checks its MariaDB (``SELECT 1``). The database is "up" after one success,
  "down" after ``db_failures_before_down`` failed connections in a row, and
  "unknown" until then; a refused login (wrong password) is "login-refused",
  never "down": the database may be fine, this agent just cannot see it;
- heartbeats the store with its whole current state (database state, the
  claim's instance, every range whose entries it cannot apply), so no state
  outlives the condition it reports;
- for each range it owns: keeps the lease (a separate thread renews it with
  the range's epoch, so a long replay never lets it lapse), opens the range
  if a promotion left it fenced, fills holes (entries appended whose local
  COMMIT was lost). Only once it *knows* its database is down does it
  release the lease, so a replica can take over at once; with an unknown
  database it neither renews nor releases anything;
- for each range it does not own: applies new log entries (a bounded
  number per tick), reports its position, and, unless failover is paused,
  takes over when the owner's lease has lapsed (judged by this process's
  clock: ``mdbc_py.music.lease_watch``) or the owner reports its database
  down: the most caught-up eligible site (then priority, then name) wins one
  conditional write, takes the lease at the new epoch at once (and renews it
  while it catches up), applies up to the fenced tail and opens the range.
  If the catch-up fails, the range goes back to the previous owner when it
  can take it (``promote.finish_or_hand_back``).

A replica whose database refuses an entry reports it everywhere: the log
(``ApplyFailedError`` names range, entry and MySQL error), its heartbeat
(``mdbc status`` shows ``apply-error``), ``/health`` (unhealthy) and the
metrics ``mdbc_apply_error_code`` / ``mdbc_apply_error_seq`` /
``mdbc_apply_errors``. Such a site is no failover candidate for the range.

Every decision is logged with its reason, once per change (not per tick).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py.config import Config
from mdbc_py.core import positions
from mdbc_py.errors import (
    FencedError,
    MdbcError,
    OperationalError,
    StoreUnavailableError,
    TrimmedError,
)
from mdbc_py.metrics import AgentMetrics
from mdbc_py.music import (
    AgentClaim,
    Lease,
    MusicStore,
    OwnerChange,
    RangeInfo,
    RangeState,
    SiteInfo,
    open_store,
)
from mdbc_py.music.lease_watch import LeaseWatch
from mdbc_py.mysql_errors import errno
from mdbc_py.replication import replay
from mdbc_py.replication.agent_metrics import (
    LagClock,
    database_error_kind,
    owner_change_reason,
    store_error_kind,
)
from mdbc_py.replication.promote import PromotionError, finish_or_hand_back
from mdbc_py.replication.replay import ApplyFailedError
from mdbc_py.replication.sites import SiteUnreachableError, connect_site, set_read_only

log = logging.getLogger("mdbc.agent")

PAUSED_SETTING = "failover.paused"

LOGIN_REFUSED = {1044, 1045, 1698}
"""Access denied: the server answered, this agent's account cannot log in."""

APPLY_ERROR_KEY = "apply_error."
"""Heartbeat info key prefix: ``apply_error.<range>`` -> ``"<code> at <seq>"``."""

NEEDS_RESYNC_STATE = "needs-resync:"
"""``mdbc.site_state`` name prefix (then the range): this site must be rebuilt for it."""

RESYNC_PROGRESS_STATE = "resync-progress:"
"""``mdbc.site_state`` name prefix (then the range): ``"<rows copied> <rows>"`` of a full
resync under way (written by ``resync``)."""


class SiteClaimedError(MdbcError, OperationalError):
    """Another agent process acts for this site; this one did nothing (or stopped).

    Facts as attributes: ``site``, ``holder`` (the other process's instance
    id: host, pid, random part), ``instance`` (this process's).
    """

    def __init__(self, site: str, holder: str, instance: str, lost: bool = False) -> None:
        self.site = site
        self.holder = holder
        self.instance = instance
        what = (
            "took the site over while this agent could not renew its claim; this agent stopped"
            if lost
            else "runs for it; this agent did nothing and exits"
        )
        super().__init__(
            f"another agent ({holder}) {what}. One agent per site: stop the other one first "
            f"(or wait for its claim to lapse if it died). This agent: {instance}"
        )


def new_instance_id() -> str:
    """host:pid:random, so an operator can find the other process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class AgentSettings:
    """Timing of the agent. The defaults give a failover in about 1-3 s."""

    interval: float = 0.2
    lease_ttl: float = 2.0
    renew_every: float = 0.5
    heartbeat_every: float = 1.0
    db_failures_before_down: int = 2
    stale_site_after: float = 5.0
    hole_grace: float = 3.0
    max_entries_per_tick: int = 2000
    trim_every: float = 30.0
    trim_margin: int = 1000
    trim_stale_after: float = 600.0
    """A site silent this long is not waited for by trimming (it will need a resync)."""
    claim_ttl: float = 5.0
    """The site claim lapses this long after the agent's last renewal (e.g. after kill -9)."""
    claim_wait: float = 7.0
    """How long a starting agent waits for another instance's claim to lapse before refusing."""
    stuck_after: float = 120.0
    """``/health/live`` fails once the loop has not finished a tick for this long."""


@dataclass
class RangeView:
    """What the agent last saw of one range."""

    info: RangeInfo
    position: int = 0
    tails: list[tuple[float, int]] = field(default_factory=list)
    reported: int = -1
    reported_at: float = 0.0
    trimmed_at: float = 0.0
    apply_error: ApplyFailedError | None = None
    lag: LagClock = field(default_factory=LagClock)
    seen_epoch: int | None = None
    lease_remaining: float | None = None
    trimmed: bool = False


class Agent:
    """The agent of one site (see the module docstring)."""

    def __init__(
        self,
        cfg: Config,
        site: str,
        settings: AgentSettings | None = None,
        store: MusicStore | None = None,
        metrics: AgentMetrics | None = None,
    ) -> None:
        self.cfg = cfg
        self.site = cfg.site(site).name
        self.settings = settings or AgentSettings()
        self.store = store or open_store(cfg.store, create=False)
        self.metrics = metrics or AgentMetrics(self.site)
        self.metrics.prepare(cfg.ranges)
        self.stop_event = threading.Event()
        self.views: dict[str, RangeView] = {}
        self.db_state = "unknown"
        self.store_ok = False
        self.instance = new_instance_id()
        self.lost_claim: AgentClaim | None = None
        self._claimed = False
        self._db_failures = 0
        self._conn: Connection | None = None
        self._last_heartbeat = 0.0
        self._reported: dict[str, str] | None = None
        self._said: dict[str, str] = {}
        self._watch = LeaseWatch(self.settings.lease_ttl)
        self._beats: dict[str, tuple[float, float]] = {}  # site -> (heartbeat_at, seen at)
        self._sites_read_at = 0.0
        self._owned: dict[str, int] = {}  # range -> epoch at which this site owns it
        self._promoting: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._renewed: dict[str, tuple[float, float]] = {}  # range -> (renewed at, ttl)
        self._states: dict[str, str] = {}  # this site's mdbc.site_state, read once per tick
        self._loop = "starting"  # starting (claiming), running, stopped
        self._ticked_at = time.monotonic()

    @property
    def db_ok(self) -> bool:
        """True when this agent knows its database answers."""
        return self.db_state == "up"

    # -- logging of decisions ------------------------------------------------

    def decide(self, key: str, message: str, level: int = logging.INFO) -> None:
        """Log a decision once, and again only when it changes."""
        if self._said.get(key) != message:
            self._said[key] = message
            log.log(level, "%s: %s", self.site, message)

    # -- lifecycle -------------------------------------------------------------

    def run(self) -> None:
        """Claim the site, then loop until ``stop()``; the lease keeper runs beside it.

        Raises ``SiteClaimedError`` when another agent holds the site (before
        anything was done), or took it over while this one could not renew.
        """
        try:
            self.claim()
        except BaseException:
            self._loop = "stopped"
            raise
        keeper = threading.Thread(target=self._keep_leases, name="mdbc-lease", daemon=True)
        keeper.start()
        log.info("%s: agent %s started (%d ranges)", self.site, self.instance, len(self.cfg.ranges))
        self._loop, self._ticked_at = "running", time.monotonic()
        while not self.stop_event.is_set():
            began = time.monotonic()
            try:
                self.tick()
            except Exception:
                log.exception("%s: agent tick failed; retrying", self.site)
            self._ticked_at = time.monotonic()
            self.stop_event.wait(max(0.0, self.settings.interval - (time.monotonic() - began)))
        self._loop = "stopped"
        keeper.join(timeout=5)
        with self._lock:
            promotions = list(self._promoting.values())
        for thread in promotions:  # a half-done promotion is finished by the next start
            thread.join(timeout=10)
        if self._conn is not None:
            self._conn.close()
        if self.lost_claim is not None:
            raise SiteClaimedError(self.site, self.lost_claim.instance, self.instance, lost=True)
        with contextlib.suppress(StoreUnavailableError):  # else it lapses after claim_ttl
            self.store.release_agent(self.site, self.instance)
        log.info("%s: agent stopped", self.site)

    def claim(self) -> None:
        """Become the one agent of this site, or raise ``SiteClaimedError`` having done nothing."""
        deadline = time.monotonic() + self.settings.claim_wait
        while True:
            try:
                held = self.store.claim_agent(self.site, self.instance, self.settings.claim_ttl)
            except StoreUnavailableError as exc:
                self.decide("claim", f"cannot claim the site yet ({exc}); retrying")
                held = None
            if held is not None and held.instance == self.instance:
                self._claimed = True
                return
            if held is not None:
                self.decide(
                    "claim",
                    f"another agent ({held.instance}) runs for this site; waiting up to "
                    f"{self.settings.claim_wait:g} s for its claim to lapse",
                    logging.WARNING,
                )
            if time.monotonic() >= deadline or self.stop_event.wait(0.5):
                if held is None:
                    raise StoreUnavailableError(
                        f"agent of site {self.site!r}: could not claim the site: the MUSIC "
                        "store stayed unreachable; nothing was done"
                    )
                raise SiteClaimedError(self.site, held.instance, self.instance)

    def stop(self) -> None:
        """Ask the loop to finish its tick and return (SIGTERM)."""
        self.stop_event.set()

    # -- one tick ----------------------------------------------------------------

    def tick(self) -> None:
        """One pass over health, heartbeat and every range."""
        self.metrics.ticks.labels(self.site).inc()
        self._check_db()
        try:
            self._heartbeat()
            self._watch_sites()
            paused = self.store.get_setting(PAUSED_SETTING) == "1"
            infos = {name: self.store.describe_range(name) for name in self.cfg.ranges}
            self.store_ok = True
        except StoreUnavailableError as exc:
            self.store_ok = False
            self._store_failed(exc)
            self.metrics.store_up.labels(self.site).set(0)
            self.decide("store", f"MUSIC store unavailable ({exc}); waiting", logging.WARNING)
            return
        self.metrics.store_up.labels(self.site).set(1)
        self.decide("store", "MUSIC store reachable")
        if self.lost_claim is not None:
            return
        with self._lock:
            self._owned = {n: i.epoch for n, i in infos.items() if i.owner == self.site}
        self._read_states()
        for name, info in infos.items():
            with self._lock:
                promoting = name in self._promoting
            if promoting:  # its promotion thread owns it until the range is open
                continue
            view = self.views.setdefault(name, RangeView(info))
            view.info = info
            view.tails.append((time.monotonic(), info.tail))
            view.tails = [(t, s) for t, s in view.tails if time.monotonic() - t < 60]
            view.lag.saw(time.monotonic(), info.tail)
            view.lease_remaining = None  # read again this tick
            try:
                self._count_owner_changes(view)
                if info.owner == self.site:
                    self._as_owner(view)
                else:
                    self._as_replica(view, paused)
            except ApplyFailedError as exc:
                self._apply_failed(view, exc)
            except (StoreUnavailableError, pymysql.err.Error, SiteUnreachableError) as exc:
                if isinstance(exc, StoreUnavailableError):
                    self._store_failed(exc)
                else:
                    self._database_failed(exc)
                self.decide(f"{name}.error", f"range {name}: {exc}; will retry", logging.WARNING)
            self._export(view)
        self._enforce_read_only()

    # -- health ------------------------------------------------------------------

    def _db(self) -> Connection:
        if self._conn is None or not self._conn.open:
            self._conn = connect_site(self.cfg, self.site, replay=True, autocommit=False)
        return self._conn

    def _check_db(self) -> None:
        """Set ``db_state``: up, down (known), unknown (not yet known) or login-refused."""
        try:
            conn = self._db()
            conn.ping(reconnect=False)
            with conn.cursor(Cursor) as cur:
                cur.execute("SELECT 1")
            conn.rollback()
            self._db_failures = 0
            self.db_state = "up"
        except (pymysql.err.Error, SiteUnreachableError, OSError) as exc:
            self._conn = None
            code = _error_code(exc)
            self._database_failed(exc)
            if code in LOGIN_REFUSED:
                self._db_failures = 0
                self.db_state = "login-refused"
                self.decide(
                    "db",
                    f"the database refuses this agent's login ({exc}); the site's database "
                    "may be fine: this agent neither releases nor promotes anything until "
                    "it can log in (check user and password in the configuration)",
                    logging.ERROR,
                )
            else:
                self._db_failures += 1
                if self._db_failures >= self.settings.db_failures_before_down:
                    self.db_state = "down"
                    self.decide("db", f"database down ({exc})", logging.WARNING)
                elif self.db_state != "down":
                    self.db_state = "unknown"
        if self.db_ok:
            self.decide("db", "database up")
        self.metrics.db_up.labels(self.site).set(1 if self.db_ok else 0)

    def site_info(self) -> dict[str, str]:
        """What every heartbeat says of this site: its whole current state."""
        info = {"db": self.db_state, "agent": self.instance}
        conf = self.cfg.sites[self.site]
        info["host"], info["port"] = conf.host, str(conf.port)
        for name, view in sorted(self.views.items()):
            if view.apply_error is not None:
                err = view.apply_error
                info[APPLY_ERROR_KEY + name] = f"{err.code} at {err.seq}"
        return info

    def _heartbeat(self) -> None:
        """Renew the site claim and heartbeat with the full state (at once when it changed)."""
        now = time.monotonic()
        info = self.site_info()
        if info == self._reported and now - self._last_heartbeat < self.settings.heartbeat_every:
            return
        held = self.store.claim_agent(self.site, self.instance, self.settings.claim_ttl)
        if held.instance != self.instance:
            self.lost_claim = held
            log.error(
                "%s: %s", self.site, SiteClaimedError(self.site, held.instance, self.instance, True)
            )
            self.stop_event.set()
            return
        if self._reported is None:
            self.store.register_site(self.site, info)
        else:
            self.store.heartbeat(self.site, info)
        self._reported = info
        self._last_heartbeat = now

    # -- owner duties --------------------------------------------------------------

    def _keep_leases(self) -> None:
        """Renew the lease of every owned range while the database is up (own thread).

        Owned includes a range this site is promoting (from the moment it
        won the epoch), but not a fenced range it cannot finish opening
        (its database refuses an entry): that lease lapses, so another
        site can take the range.
        """
        while not self.stop_event.wait(self.settings.renew_every):
            if self.lost_claim is not None:
                return
            with self._lock:
                owned = dict(self._owned)
            for name, epoch in owned.items():
                try:
                    self._keep_lease(name, epoch)
                except StoreUnavailableError as exc:  # the main loop reports it
                    self._store_failed(exc)

    def _keep_lease(self, name: str, epoch: int) -> None:
        if self.db_state == "down":
            self._renewed.pop(name, None)
            self.store.release_lease(name, self.site)
            return
        if not self.db_ok:
            return  # not known to be up: renew nothing, release nothing
        view = self.views.get(name)
        stuck = (
            view is not None
            and view.apply_error is not None
            and view.info.state is RangeState.FENCED
            and name not in self._promoting
        )
        if stuck:
            return
        asked = time.monotonic()
        lease = self.store.acquire_lease(name, self.site, self.settings.lease_ttl, epoch=epoch)
        if lease is None:
            self.metrics.fenced.labels(self.site, name, "lease").inc()
            holder = self.store.get_lease(name)
            self.decide(
                f"{name}.lease",
                f"range {name}: lease held by "
                f"{holder.holder if holder else '?'} (epoch {holder.epoch if holder else '?'})",
                logging.WARNING,
            )
        else:
            self._renewed[name] = (asked, self.settings.lease_ttl)
            self.decide(f"{name}.lease", f"range {name}: holding the lease at epoch {epoch}")

    def _as_owner(self, view: RangeView) -> None:
        info = view.info
        name = info.name
        if self.db_state == "down":
            self._renewed.pop(name, None)
            self.store.release_lease(name, self.site)
            self.decide(
                f"{name}.role",
                f"range {name}: owner with database down: lease released "
                "so a replica can take over",
                logging.WARNING,
            )
            return
        if not self.db_ok:
            self.decide(
                f"{name}.role",
                f"range {name}: owner, database {self.db_state}: doing nothing until it is known",
                logging.WARNING,
            )
            return
        if info.state is RangeState.FENCED:
            change = OwnerChange(
                name,
                self._previous_owner(name, info.epoch),
                self.site,
                info.epoch - 1,
                info.epoch,
                info.tail,
                time.time(),
                "finish promotion",
            )
            self.decide(
                f"{name}.role",
                f"range {name}: owner at epoch {info.epoch} but fenced: "
                f"catching up to {info.tail}, then opening",
            )
            self._open(view, change)
            return
        self.decide(
            f"{name}.role", f"range {name}: owner at epoch {info.epoch} ({info.state.value})"
        )
        self._fill_holes(view)
        view.apply_error = None
        self._report_position(view)
        self._trim(view)

    def _live(self, site: SiteInfo) -> bool:
        """Whether ``site`` heartbeated within ``stale_site_after``, by this process's clock.

        A heartbeat time is written with the store's clock; comparing it
        with this host's wall clock made an agent whose clock runs 5 s
        ahead see every site as dead (itself included) and never promote.
        So a site is live while its heartbeat time keeps *changing*, timed
        on the monotonic clock. Only the very first sight of a site uses
        the wall clock, as a guess that the next change corrects.
        """
        stale = self.settings.stale_site_after
        now = time.monotonic()
        seen = self._beats.get(site.name)
        if seen is None or seen[0] != site.heartbeat_at:
            first_and_old = seen is None and time.time() - site.heartbeat_at > stale
            self._beats[site.name] = (site.heartbeat_at, now - stale if first_and_old else now)
        return now - self._beats[site.name][1] <= stale

    def _watch_sites(self) -> None:
        """Read the registry once per heartbeat period, so ``_live`` sees heartbeats change."""
        now = time.monotonic()
        if now - self._sites_read_at < self.settings.heartbeat_every:
            return
        self._sites_read_at = now
        for site in self.store.list_sites():
            self._live(site)

    def _previous_owner(self, name: str, epoch: int) -> str | None:
        """Who owned the range before ``epoch`` (from the history), to hand it back to."""
        for change in self.store.history(name, limit=10):
            if change.to_epoch == epoch:
                return change.from_site
        return None

    def _report_position(self, view: RangeView) -> None:
        """Tell the store how far the owner's database is (for status and trimming).

        First fold the rows the owner's commits added to ``mdbc.applied``
        (one per commit) into the watermark: nothing else does at the owner,
        and the table, and each read of the position, would grow forever.
        """
        now = time.monotonic()
        if now - view.reported_at < self.settings.heartbeat_every:
            return
        conn = self._db()
        try:
            with conn.cursor(Cursor) as cur:
                position = positions.compact(cur, view.info.name)
            conn.commit()
        except BaseException:
            with contextlib.suppress(pymysql.err.Error):
                conn.rollback()
            raise
        view.position = position
        if position != view.reported:
            self.store.set_applied(self.site, view.info.name, position)
            view.reported = position
        view.reported_at = now

    def _trim(self, view: RangeView) -> None:
        """Remove log entries every live site has applied (the owner's duty)."""
        now = time.monotonic()
        if now - view.trimmed_at < self.settings.trim_every:
            return
        view.trimmed_at = now
        before = view.info.trim_point
        point = self.store.trim(
            view.info.name, self.settings.trim_margin, self.settings.trim_stale_after
        )
        if point > before:
            behind = self.store.needs_resync(view.info.name)
            self.decide(
                f"{view.info.name}.trim",
                f"range {view.info.name}: log trimmed up to {point}"
                + (f"; behind the trim point: {', '.join(sorted(behind))}" if behind else ""),
            )

    def _fill_holes(self, view: RangeView) -> None:
        """Apply entries of our own range whose local COMMIT never happened."""
        old = [s for t, s in view.tails if time.monotonic() - t >= self.settings.hole_grace]
        if not old:
            return
        upto = max(old)
        conn = self._db()
        with conn.cursor(Cursor) as cur:
            pos = positions.read(cur, view.info.name)
        conn.rollback()
        view.position = pos.contiguous
        if not pos.missing(upto):
            return
        result = replay.catch_up(self.store, conn, self.site, view.info.name, upto=upto)
        if result.applied:
            self.decide(
                f"{view.info.name}.holes",
                f"range {view.info.name}: applied "
                f"{result.applied} entries whose local commit was lost",
            )
        view.position = result.position

    # -- replica duties ------------------------------------------------------------

    def _as_replica(self, view: RangeView, paused: bool) -> None:
        info = view.info
        name = info.name
        if self.db_ok and self._marked_needs_resync(name):
            self.decide(
                f"{name}.role",
                f"range {name}: marked needs-resync at this site: not "
                f"replaying; run 'mdbc resync --site {self.site} --full'",
                logging.ERROR,
            )
            return
        if self.db_ok:
            began = time.monotonic()
            try:
                result = replay.catch_up(
                    self.store,
                    self._db(),
                    self.site,
                    name,
                    max_entries=self.settings.max_entries_per_tick,
                )
            except TrimmedError as exc:
                view.trimmed = True
                self.decide(f"{name}.role", f"range {name}: needs resync ({exc})", logging.ERROR)
                return
            view.trimmed = False
            if result.applied:
                labels = (self.site, name)
                self.metrics.apply_seconds.labels(*labels).observe(time.monotonic() - began)
                self.metrics.apply_batch.labels(*labels).observe(result.applied)
            if view.apply_error is not None:
                log.warning("%s: range %s: replay moves again", self.site, name)
                view.apply_error = None
            view.position = result.position
            if result.applied:
                self.metrics.applied_total.labels(self.site, name).inc(result.applied)
            self.decide(
                f"{name}.role", f"range {name}: replica of {info.owner} (epoch {info.epoch})"
            )
        self._consider_failover(view, paused)

    def _marked_needs_resync(self, name: str) -> bool:
        """True while a resync (or a failed DDL) has marked this site for the range."""
        return NEEDS_RESYNC_STATE + name in self._states

    def _read_states(self) -> None:
        """Read this site's ``mdbc.site_state`` once per tick (needs-resync, resync progress).

        When it cannot be read the last answer stands: a database that is
        down says nothing new about marks set before.
        """
        if not self.db_ok:
            return
        try:
            conn = self._db()
            with conn.cursor(Cursor) as cur:
                self._states = positions.get_states(cur)
            conn.rollback()
        except pymysql.err.Error as exc:
            if _error_code(exc) != 1146:  # no mdbc schema yet: nothing is marked
                self._database_failed(exc)
                self.decide("states", f"cannot read this site's state ({exc})", logging.WARNING)
                return
            self._states = {}
        self.decide("states", "site state readable")

    def _consider_failover(self, view: RangeView, paused: bool) -> None:
        info = view.info
        name = info.name
        if paused:
            self.decide(f"{name}.failover", f"range {name}: automatic failover paused")
            return
        if not self.db_ok or self.cfg.sites[self.site].nofailover:
            return
        lease = self.store.get_lease(name)
        view.lease_remaining = self._lease_remaining(info, lease)
        lapsed = self._watch.lapsed(info, lease)
        if not lapsed and LeaseWatch.speaks_for_owner(info, lease):
            self.decide(f"{name}.failover", f"range {name}: owner {info.owner} holds the lease")
            return
        sites = {s.name: s for s in self.store.list_sites()}
        owner = sites.get(info.owner or "")
        owner_db_down = owner is not None and owner.info.get("db") == "down" and self._live(owner)
        if not lapsed and not owner_db_down:
            return  # give the owner the time a lease lasts to show (or renew) its lease
        best = self._best_candidate(name, sites, info.owner)
        if best != self.site:
            self.decide(
                f"{name}.failover",
                f"range {name}: owner {info.owner} lost its lease; "
                f"{best or 'no site'} is the best candidate",
            )
            return
        if view.apply_error is not None:
            return  # never the best candidate: _best_candidate skips it
        reason = (
            f"database of {info.owner} down" if owner_db_down else f"lease of {info.owner} expired"
        )
        log.warning(
            "%s: range %s: %s; promoting %s (applied %d, tail %d)",
            self.site,
            name,
            reason,
            self.site,
            view.position,
            info.tail,
        )
        with self._lock:
            thread = threading.Thread(
                target=self._promote,
                args=(view, reason),
                name=f"mdbc-promote-{name}",
                daemon=True,
            )
            self._promoting[name] = thread
        thread.start()

    def _promote(self, view: RangeView, reason: str) -> None:
        """Win the range and open it, in a thread of its own.

        A site that fails takes all its ranges down at once (SO has three);
        promoting them side by side means the last one opens as soon as the
        first, instead of one promotion time after another.
        """
        name = view.info.name
        try:
            self._win_and_open(view, reason)
        except Exception:
            log.exception("%s: range %s: promotion failed; the next tick decides again",
                          self.site, name)  # fmt: skip
        finally:
            with self._lock:
                self._promoting.pop(name, None)

    def _win_and_open(self, view: RangeView, reason: str) -> None:
        info = view.info
        name = info.name
        try:
            change = self.store.change_owner(name, info.epoch, self.site, reason)
        except FencedError as exc:
            self.metrics.fenced.labels(self.site, name, "promote").inc()
            log.info("%s: range %s: another site won the promotion (%s)", self.site, name, exc)
            return
        # Hold the lease from this instant (the keeper renews it during the
        # catch-up): a slow catch-up must not look like a dead new owner.
        with self._lock:
            self._owned[name] = change.to_epoch
        with contextlib.suppress(StoreUnavailableError):  # the keeper tries again soon
            self.store.acquire_lease(
                name, self.site, self.settings.lease_ttl, epoch=change.to_epoch
            )
        if self._open(view, change):
            self.metrics.failovers.labels(self.site, name).inc()
            why = owner_change_reason(reason)
            self.metrics.failovers_by_reason.labels(self.site, name, why).inc()

    def _open(self, view: RangeView, change: OwnerChange) -> bool:
        """Finish a promotion (``finish_or_hand_back``); True once the range is open here."""
        name = change.range_name
        try:
            promotion = finish_or_hand_back(self.cfg, self.store, change)
        except PromotionError as exc:
            log.error("%s: range %s: promotion not finished: %s", self.site, name, exc)
            if exc.handed_back_to is not None:
                with self._lock:
                    self._owned.pop(name, None)
            cause = exc.__cause__
            if isinstance(cause, ApplyFailedError):
                self._apply_failed(view, cause)
            return False
        view.apply_error = None
        self._watch.forget(name)
        log.warning(
            "%s: range %s: now owner at epoch %d (applied %d entries in %.2f s)",
            self.site,
            name,
            change.to_epoch,
            promotion.applied,
            promotion.seconds,
        )
        return True

    def _apply_failed(self, view: RangeView, exc: ApplyFailedError) -> None:
        """Record that this site's database refuses an entry: log, heartbeat, health, metrics."""
        name = view.info.name
        if view.apply_error is None or (view.apply_error.seq, view.apply_error.code) != (
            exc.seq,
            exc.code,
        ):
            self.metrics.apply_errors.labels(self.site, name, str(exc.code)).inc()
        view.apply_error = exc
        self.decide(f"{name}.role", f"range {name}: {exc}", logging.ERROR)
        try:
            conn = self._db()
            with conn.cursor(Cursor) as cur:
                view.position = positions.read(cur, name).contiguous
            conn.rollback()
            if view.position > 0:
                self.store.set_applied(self.site, name, view.position)
        except (pymysql.err.Error, SiteUnreachableError, StoreUnavailableError):
            pass  # the position is reported again by the next tick

    def _best_candidate(
        self, name: str, sites: dict[str, SiteInfo], owner: str | None
    ) -> str | None:
        """The live, eligible site with the highest applied position (then priority, name).

        Eligible: a fresh heartbeat saying its database is up, and no entry
        of this range that its database refuses.
        """
        applied = self.store.applied_positions(name)
        ranked = []
        for site_name, conf in self.cfg.sites.items():
            if site_name == owner or conf.nofailover:
                continue
            info = sites.get(site_name)
            if info is None or not self._live(info):
                continue
            if not _eligible(info, name):
                continue
            pos = applied[site_name].seq if site_name in applied else 0
            ranked.append((pos, conf.priority, [-ord(c) for c in site_name], site_name))
        return max(ranked)[-1] if ranked else None

    # -- read-only and metrics -------------------------------------------------------

    def _enforce_read_only(self) -> None:
        if not self.db_ok:
            return
        with self._lock:  # a range being promoted is as good as owned: it opens any moment
            want = not (self._owned or self._promoting)
        try:
            conn = self._db()
            if set_read_only(conn, want):
                self.decide(
                    "read_only",
                    f"read_only={'ON' if want else 'OFF'} "
                    f"({'owns no range' if want else 'owns a range'})",
                )
        except pymysql.err.Error as exc:
            self.decide("read_only", f"could not set read_only: {exc}", logging.WARNING)

    def _export(self, view: RangeView) -> None:
        info = view.info
        labels = (self.site, info.name)
        m = self.metrics
        m.is_owner.labels(*labels).set(1 if info.owner == self.site else 0)
        m.owner_info.labels(*labels).info({"owner": info.owner or "", "state": info.state.value})
        m.epoch.labels(*labels).set(info.epoch)
        m.log_tail.labels(*labels).set(info.tail)
        m.trim_seq.labels(*labels).set(info.trim_point)
        m.applied.labels(*labels).set(view.position)
        m.lag_entries.labels(*labels).set(max(0, info.tail - view.position))
        m.lag_seconds.labels(*labels).set(view.lag.seconds(time.monotonic(), view.position))
        err = view.apply_error
        m.apply_error_code.labels(*labels).set(err.code if err else 0)
        m.apply_error_seq.labels(*labels).set(err.seq if err else 0)
        marked = self._marked_needs_resync(info.name) or view.trimmed
        m.needs_resync.labels(*labels).set(1 if marked and info.owner != self.site else 0)
        copied, rows = _resync_progress(self._states.get(RESYNC_PROGRESS_STATE + info.name))
        m.resync_copied.labels(*labels).set(copied)
        m.resync_rows.labels(*labels).set(rows)
        remaining = self._own_lease_remaining(info) if info.owner == self.site else None
        if remaining is None:
            remaining = view.lease_remaining
        if remaining is None:
            try:
                remaining = self._lease_remaining(info, self.store.get_lease(info.name))
            except StoreUnavailableError as exc:
                self._store_failed(exc)
        if remaining is not None:
            m.lease_remaining.labels(*labels).set(remaining)

    def _own_lease_remaining(self, info: RangeInfo) -> float:
        """Seconds left of the lease this site last renewed for ``info`` (0: none held)."""
        renewed = self._renewed.get(info.name)
        if renewed is None:
            return 0.0
        at, ttl = renewed
        return max(0.0, ttl - (time.monotonic() - at))

    def _lease_remaining(self, info: RangeInfo, lease: Lease | None) -> float:
        """Seconds before this agent judges the owner's lease lapsed (``LeaseWatch``)."""
        silent = self._watch.observe(info, lease)
        speaks = lease is not None and LeaseWatch.speaks_for_owner(info, lease)
        ttl = lease.ttl if speaks and lease is not None and lease.ttl > 0 else None
        return max(0.0, (ttl or self.settings.lease_ttl) - silent)

    def _count_owner_changes(self, view: RangeView) -> None:
        """Count every change of owner since the epoch last seen, by its recorded reason.

        Each agent counts every change of every range (whoever made it), so
        one site's Prometheus sees them all. The first epoch an agent sees is
        its starting point, not a change.
        """
        info = view.info
        seen = view.seen_epoch
        if seen is not None and info.epoch > seen:
            missed = min(info.epoch - seen, 50)
            for change in self.store.history(info.name, limit=missed):
                if change.to_epoch > seen:
                    why = owner_change_reason(change.reason)
                    self.metrics.owner_changes.labels(self.site, info.name, why).inc()
        view.seen_epoch = info.epoch

    def _store_failed(self, exc: BaseException) -> None:
        self.metrics.store_errors.labels(self.site, store_error_kind(exc)).inc()

    def _database_failed(self, exc: BaseException) -> None:
        kind = database_error_kind(_error_code(exc), exc)
        self.metrics.database_errors.labels(self.site, kind).inc()

    def liveness(self) -> dict[str, Any]:
        """What ``/health/live`` answers: live while the loop runs (or is starting).

        Not live once the loop stopped, or when no tick has finished for
        ``stuck_after`` seconds (a tick that hangs: restarting is the cure).
        The database's state plays no part: see ``health`` for that.
        """
        since = time.monotonic() - self._ticked_at
        live = self._loop == "starting" or (
            self._loop == "running" and since <= self.settings.stuck_after
        )
        return {
            "site": self.site,
            "live": live,
            "loop": self._loop,
            "seconds_since_tick": round(since, 3),
            "agent": self.instance,
        }

    def health(self) -> dict[str, Any]:
        """What ``/health`` answers: unhealthy also when any range cannot be applied here."""
        ranges: dict[str, Any] = {}
        for n, v in list(self.views.items()):
            entry: dict[str, Any] = {
                "role": "owner" if v.info.owner == self.site else "replica",
                "epoch": v.info.epoch,
                "state": "apply-error" if v.apply_error else v.info.state.value,
                "applied": v.position,
                "tail": v.info.tail,
            }
            if v.apply_error is not None:
                entry["apply_error"] = {
                    "code": v.apply_error.code,
                    "seq": v.apply_error.seq,
                    "message": str(v.apply_error),
                }
            ranges[n] = entry
        stuck = sorted(n for n, r in ranges.items() if "apply_error" in r)
        return {
            "site": self.site,
            "healthy": self.db_ok and self.store_ok and not stuck,
            "database": self.db_state,
            "store": "up" if self.store_ok else "down",
            "agent": self.instance,
            "problems": [f"range {n}: {ranges[n]['apply_error']['message']}" for n in stuck],
            "ranges": ranges,
        }


def _resync_progress(value: str | None) -> tuple[int, int]:
    """(rows copied, rows) of a ``resync-progress:<range>`` state; (0, 0) if none or unreadable."""
    try:
        copied, rows = (int(v) for v in (value or "").split())
    except ValueError:
        return 0, 0
    return copied, rows


def _eligible(site: SiteInfo, range_name: str) -> bool:
    """A failover candidate: database known up, and able to apply the range's entries."""
    if site.info.get("db", "up") != "up":
        return False
    return APPLY_ERROR_KEY + range_name not in site.info


def _error_code(exc: BaseException) -> int | None:
    """The MySQL error number of a PyMySQL error (also inside ``SiteUnreachableError``)."""
    if isinstance(exc, pymysql.err.Error) and errno(exc) is not None:
        return errno(exc)
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        return _error_code(cause)
    return None
