"""The site agent: replay, leases, health and automatic failover, in one loop.

One agent runs at every site (``mdbc agent --site S``). Each tick it:

- checks its MariaDB (``SELECT 1``) and heartbeats the store, saying whether
  its database is up;
- for each range it owns: keeps the lease (a separate thread renews it, so a
  long replay never lets it lapse), opens the range if a promotion left it
  fenced, fills holes (entries appended whose local COMMIT was lost);
  if its database is down it releases the lease at once, so a replica can
  take over without waiting for the lease to expire;
- for each range it does not own: applies new log entries (a bounded
  number per tick), reports its position, and, unless failover is paused,
  takes over when the owner's lease is gone: the most caught-up eligible
  site (then priority, then name) wins one conditional write, applies up to
  the fenced tail and opens the range.

Every decision is logged with its reason, once per change (not per tick).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py.config import Config
from mdbc_py.errors import FencedError, StoreUnavailableError, TrimmedError
from mdbc_py.metrics import AgentMetrics
from mdbc_py.music import MusicStore, OwnerChange, RangeInfo, RangeState, open_store
from mdbc_py.replication import positions, replay
from mdbc_py.replication.promote import PromotionError, open_as_owner
from mdbc_py.replication.sites import SiteUnreachableError, connect_site, set_read_only

log = logging.getLogger("mdbc.agent")

PAUSED_SETTING = "failover.paused"


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


@dataclass
class RangeView:
    """What the agent last saw of one range."""

    info: RangeInfo
    position: int = 0
    tails: list[tuple[float, int]] = field(default_factory=list)
    reported: int = -1
    reported_at: float = 0.0
    trimmed_at: float = 0.0


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
        self.stop_event = threading.Event()
        self.views: dict[str, RangeView] = {}
        self.db_ok = False
        self.store_ok = False
        self._db_failures = 0
        self._conn: Connection | None = None
        self._last_heartbeat = 0.0
        self._reported_db: bool | None = None
        self._said: dict[str, str] = {}
        self._lease_missing_since: dict[str, float] = {}
        self._owned: set[str] = set()
        self._promoting: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    # -- logging of decisions ------------------------------------------------

    def decide(self, key: str, message: str, level: int = logging.INFO) -> None:
        """Log a decision once, and again only when it changes."""
        if self._said.get(key) != message:
            self._said[key] = message
            log.log(level, "%s: %s", self.site, message)

    # -- lifecycle -------------------------------------------------------------

    def run(self) -> None:
        """Loop until ``stop()``; the lease keeper runs beside it."""
        keeper = threading.Thread(target=self._keep_leases, name="mdbc-lease", daemon=True)
        keeper.start()
        log.info("%s: agent started (%d ranges)", self.site, len(self.cfg.ranges))
        while not self.stop_event.is_set():
            began = time.monotonic()
            try:
                self.tick()
            except Exception:
                log.exception("%s: agent tick failed; retrying", self.site)
            self.stop_event.wait(max(0.0, self.settings.interval - (time.monotonic() - began)))
        keeper.join(timeout=5)
        with self._lock:
            promotions = list(self._promoting.values())
        for thread in promotions:  # a half-done promotion is finished by the next start
            thread.join(timeout=10)
        if self._conn is not None:
            self._conn.close()
        log.info("%s: agent stopped", self.site)

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
            paused = self.store.get_setting(PAUSED_SETTING) == "1"
            infos = {name: self.store.describe_range(name) for name in self.cfg.ranges}
            self.store_ok = True
        except StoreUnavailableError as exc:
            self.store_ok = False
            self.metrics.store_up.labels(self.site).set(0)
            self.decide("store", f"MUSIC store unavailable ({exc}); waiting", logging.WARNING)
            return
        self.metrics.store_up.labels(self.site).set(1)
        self.decide("store", "MUSIC store reachable")
        with self._lock:
            self._owned = {n for n, i in infos.items() if i.owner == self.site}
        for name, info in infos.items():
            with self._lock:
                promoting = name in self._promoting
            if promoting:  # its promotion thread owns it until the range is open
                continue
            view = self.views.setdefault(name, RangeView(info))
            view.info = info
            view.tails.append((time.monotonic(), info.tail))
            view.tails = [(t, s) for t, s in view.tails if time.monotonic() - t < 60]
            try:
                if info.owner == self.site:
                    self._as_owner(view)
                else:
                    self._as_replica(view, paused)
            except (StoreUnavailableError, pymysql.err.Error, SiteUnreachableError) as exc:
                self.decide(f"{name}.error", f"range {name}: {exc}; will retry", logging.WARNING)
            self._export(view)
        self._enforce_read_only()

    # -- health ------------------------------------------------------------------

    def _db(self) -> Connection:
        if self._conn is None or not self._conn.open:
            self._conn = connect_site(self.cfg, self.site, replay=True, autocommit=False)
        return self._conn

    def _check_db(self) -> None:
        try:
            conn = self._db()
            conn.ping(reconnect=False)
            with conn.cursor(Cursor) as cur:
                cur.execute("SELECT 1")
            conn.rollback()
            self._db_failures = 0
            self.db_ok = True
        except (pymysql.err.Error, SiteUnreachableError, OSError) as exc:
            self._conn = None
            self._db_failures += 1
            if self._db_failures >= self.settings.db_failures_before_down:
                self.db_ok = False
                self.decide("db", f"database down ({exc})", logging.WARNING)
        if self.db_ok:
            self.decide("db", "database up")
        self.metrics.db_up.labels(self.site).set(1 if self.db_ok else 0)

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if self._reported_db != self.db_ok:
            self.store.register_site(self.site, {"db": "up" if self.db_ok else "down"})
            self._reported_db = self.db_ok
            self._last_heartbeat = now
        elif now - self._last_heartbeat >= self.settings.heartbeat_every:
            self.store.heartbeat(self.site)
            self._last_heartbeat = now

    # -- owner duties --------------------------------------------------------------

    def _keep_leases(self) -> None:
        """Renew the lease of every owned range while the database is up (own thread)."""
        while not self.stop_event.wait(self.settings.renew_every):
            with self._lock:
                owned = set(self._owned)
            for name in owned:
                try:
                    if not self.db_ok:
                        self.store.release_lease(name, self.site)
                        continue
                    if self.store.acquire_lease(name, self.site, self.settings.lease_ttl) is None:
                        holder = self.store.get_lease(name)
                        self.decide(
                            f"{name}.lease",
                            f"range {name}: lease held by {holder.holder if holder else '?'}",
                            logging.WARNING,
                        )
                except StoreUnavailableError:
                    pass  # the main loop reports the store's state

    def _as_owner(self, view: RangeView) -> None:
        info = view.info
        name = info.name
        if not self.db_ok:
            self.store.release_lease(name, self.site)
            self.decide(
                f"{name}.role",
                f"range {name}: owner with database down: lease released "
                "so a replica can take over",
                logging.WARNING,
            )
            return
        if info.state is RangeState.FENCED:
            change = OwnerChange(
                name,
                None,
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
            open_as_owner(self.cfg, self.store, change)
            return
        self.decide(
            f"{name}.role", f"range {name}: owner at epoch {info.epoch} ({info.state.value})"
        )
        self._fill_holes(view)
        self._report_position(view)
        self._trim(view)

    def _report_position(self, view: RangeView) -> None:
        """Tell the store how far the owner's database is (for status and trimming)."""
        now = time.monotonic()
        if now - view.reported_at < self.settings.heartbeat_every:
            return
        conn = self._db()
        with conn.cursor(Cursor) as cur:
            position = positions.read(cur, view.info.name).contiguous
        conn.rollback()
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
            try:
                result = replay.catch_up(
                    self.store,
                    self._db(),
                    self.site,
                    name,
                    max_entries=self.settings.max_entries_per_tick,
                )
            except TrimmedError as exc:
                self.decide(f"{name}.role", f"range {name}: needs resync ({exc})", logging.ERROR)
                return
            view.position = result.position
            if result.applied:
                self.metrics.applied_total.labels(self.site, name).inc(result.applied)
            self.decide(
                f"{name}.role", f"range {name}: replica of {info.owner} (epoch {info.epoch})"
            )
        self._consider_failover(view, paused)

    def _marked_needs_resync(self, name: str) -> bool:
        """True while a resync (or a failed DDL) has marked this site for the range."""
        conn = self._db()
        with conn.cursor(Cursor) as cur:
            marked = positions.get_states(cur, [f"needs-resync:{name}"])
        conn.rollback()
        return bool(marked)

    def _consider_failover(self, view: RangeView, paused: bool) -> None:
        info = view.info
        name = info.name
        if paused:
            self.decide(f"{name}.failover", f"range {name}: automatic failover paused")
            return
        if not self.db_ok or self.cfg.sites[self.site].nofailover:
            return
        if self.store.get_lease(name) is not None:
            self._lease_missing_since.pop(name, None)
            self.decide(f"{name}.failover", f"range {name}: owner {info.owner} holds the lease")
            return
        sites = {s.name: s for s in self.store.list_sites()}
        owner = sites.get(info.owner or "")
        owner_db_down = (
            owner is not None
            and owner.info.get("db") == "down"
            and time.time() - owner.heartbeat_at < self.settings.stale_site_after
        )
        missing_since = self._lease_missing_since.setdefault(name, time.monotonic())
        if not owner_db_down and time.monotonic() - missing_since < self.settings.lease_ttl:
            return  # give a slow owner the time a lease lasts before taking over
        best = self._best_candidate(name, sites, info.owner)
        if best != self.site:
            self.decide(
                f"{name}.failover",
                f"range {name}: owner {info.owner} lost its lease; "
                f"{best or 'no site'} is the best candidate",
            )
            return
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
            log.info("%s: range %s: another site won the promotion (%s)", self.site, name, exc)
            return
        try:
            promotion = open_as_owner(self.cfg, self.store, change)
        except PromotionError as exc:
            log.error("%s: range %s: promotion not finished: %s", self.site, name, exc)
            return
        self.metrics.failovers.labels(self.site, name).inc()
        self._lease_missing_since.pop(name, None)
        with self._lock:
            self._owned.add(name)
        self.store.acquire_lease(name, self.site, self.settings.lease_ttl)
        log.warning(
            "%s: range %s: now owner at epoch %d (applied %d entries in %.2f s)",
            self.site,
            name,
            change.to_epoch,
            promotion.applied,
            promotion.seconds,
        )

    def _best_candidate(self, name: str, sites: dict[str, Any], owner: str | None) -> str | None:
        """The live, eligible site with the highest applied position (then priority, name)."""
        now = time.time()
        applied = self.store.applied_positions(name)
        ranked = []
        for site_name, conf in self.cfg.sites.items():
            if site_name == owner or conf.nofailover:
                continue
            info = sites.get(site_name)
            if info is None or now - info.heartbeat_at > self.settings.stale_site_after:
                continue
            if info.info.get("db") == "down":
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
        self.metrics.is_owner.labels(*labels).set(1 if info.owner == self.site else 0)
        self.metrics.epoch.labels(*labels).set(info.epoch)
        self.metrics.log_tail.labels(*labels).set(info.tail)
        self.metrics.applied.labels(*labels).set(view.position)
        self.metrics.lag_entries.labels(*labels).set(max(0, info.tail - view.position))

    def health(self) -> dict[str, Any]:
        """What ``/health`` answers."""
        return {
            "site": self.site,
            "healthy": self.db_ok and self.store_ok,
            "database": "up" if self.db_ok else "down",
            "store": "up" if self.store_ok else "down",
            "ranges": {
                n: {
                    "role": "owner" if v.info.owner == self.site else "replica",
                    "epoch": v.info.epoch,
                    "state": v.info.state.value,
                    "applied": v.position,
                    "tail": v.info.tail,
                }
                for n, v in self.views.items()
            },
        }
