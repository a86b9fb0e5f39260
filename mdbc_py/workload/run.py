"""Drive the SO workload: API handler threads and BPMN job executors, for a while.

Every thread has a *home* site (spread round-robin over the sites), as SO's
containers run at one site each; with mode ``route`` their connections
still write at each range's owner. ``crash_site`` plays the loss of a whole
site for SO too: the threads at that site die where they stand, leaving
their jobs locked, and ``restart_site`` brings fresh ones up there.

A request counts as *acknowledged* once the API handler returned its id;
those are the requests ``check`` must find everywhere, finished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mdbc_py.config import Config
from mdbc_py.workload.api import Acknowledged, ApiHandler
from mdbc_py.workload.bpmn import JobExecutor
from mdbc_py.workload.model import SoDatabases, q
from mdbc_py.workload.session import Crashed, DbSession
from mdbc_py.workload.stats import Stats

log = logging.getLogger(__name__)

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class WorkloadSettings:
    """Shape and pace of a run.

    ``request_interval`` paces each API thread so the job executors keep up
    (a backlog would only lengthen the drain); ``lock_seconds`` is how long
    a dead worker's job stays locked before another worker resumes it.
    """

    api_threads: int = 2
    bpmn_workers: int = 2
    request_interval: float = 0.2
    lock_seconds: float = 5.0
    step_seconds: float = 0.05
    fail_rate: float = 0.02


@dataclass
class _Member:
    kind: str
    site: str
    thread: threading.Thread


@dataclass
class Workload:
    """A run of the SO workload against one configuration (mode ``route``)."""

    cfg: Config
    dbs: SoDatabases = field(default_factory=SoDatabases)
    settings: WorkloadSettings = field(default_factory=WorkloadSettings)
    stats: Stats = field(default_factory=Stats)
    acked: dict[str, Acknowledged] = field(default_factory=dict)
    started_at: float | None = None

    def __post_init__(self) -> None:
        self.sites = list(self.cfg.sites)
        self._crashed = {site: threading.Event() for site in self.sites}
        self._stop_api = threading.Event()
        self._stop_all = threading.Event()
        self._members: list[_Member] = []
        self._lock = threading.Lock()
        self._serial = 0
        self._probe: DbSession | None = None

    # -- threads -----------------------------------------------------------------

    def _committed(self, site: str) -> None:
        self.stats.committed(site)

    def _retried(self, _: BaseException) -> None:
        self.stats.add("retries")

    def _spawn(self, kind: str, site: str) -> None:
        self._serial += 1
        name = f"{kind}-{site}-{self._serial}"
        target: Callable[[], None]
        if kind == "api":
            handler = ApiHandler(self.cfg, self.dbs, site, self._crashed[site], self._committed,
                                 self._retried)  # fmt: skip
            target = lambda: self._api_loop(handler)  # noqa: E731
        else:
            s = self.settings
            worker = JobExecutor(
                self.cfg, self.dbs.camunda, self.dbs.request, site, name, self.stats,
                self._crashed[site], self._stop_all, self._committed, s.lock_seconds,
                s.step_seconds, s.fail_rate, on_retry=self._retried,
            )  # fmt: skip
            target = worker.run
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._members.append(_Member(kind, site, thread))
        thread.start()

    def _api_loop(self, handler: ApiHandler) -> None:
        try:
            while not self._stop_api.is_set():
                try:
                    ack = handler.create_service_instance()
                except Crashed:
                    self.stats.add("crashed")
                    return
                except Exception as exc:
                    log.warning("%s: request failed after its retries: %s", handler.home, exc)
                    self.stats.add("api_failed")
                else:
                    with self._lock:
                        self.acked[ack.request_id] = ack
                    self.stats.add("acked")
                self._stop_api.wait(self.settings.request_interval)
        finally:
            if not self._crashed[handler.home].is_set():
                handler.close()

    def start(self) -> Workload:
        """Start the API threads and the job executors (home sites round-robin)."""
        self.started_at = time.monotonic()
        for i in range(self.settings.api_threads):
            self._spawn("api", self.sites[i % len(self.sites)])
        for i in range(self.settings.bpmn_workers):
            self._spawn("bpmn", self.sites[(i + 1) % len(self.sites)])
        return self

    def crash_site(self, site: str) -> int:
        """The SO containers at ``site`` die now; return how many threads were there.

        Each thread stops at its next statement or commit, without a rollback.
        """
        self._crashed[site].set()
        return sum(1 for m in self._members if m.site == site and m.thread.is_alive())

    def restart_site(self, site: str) -> int:
        """Fresh threads at ``site`` in place of those that died there; return how many."""
        dead = [m for m in self._members if m.site == site and not m.thread.is_alive()]
        self._members = [m for m in self._members if m not in dead]
        self._crashed[site] = threading.Event()
        for member in dead:
            if member.kind == "bpmn" or not self._stop_api.is_set():
                self._spawn(member.kind, site)
        return len(dead)

    def stop_load(self) -> None:
        """No new requests: the API threads finish their current one and stop."""
        self._stop_api.set()
        for m in self._members:
            if m.kind == "api":
                m.thread.join(timeout=60)

    def stop(self) -> None:
        """Stop every thread (a job in the middle of a flow keeps its lock until it expires)."""
        self._stop_api.set()
        self._stop_all.set()
        for m in self._members:
            m.thread.join(timeout=60)
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    # -- observation ----------------------------------------------------------------

    def pending_jobs(self) -> int:
        """Jobs that still have to run (retries left), counted at the Camunda range's owner."""
        db = self.dbs.camunda
        home = next((s for s in self.sites if not self._crashed[s].is_set()), self.sites[0])
        if self._probe is None or self._probe.home != home:
            if self._probe is not None:
                self._probe.close()
            self._probe = DbSession(self.cfg, home, db)

        def work(cur: Any) -> int:
            cur.execute(f"SELECT COUNT(*) FROM {q(db, 'ACT_RU_JOB')} WHERE `RETRIES_` > 0")
            return int(cur.fetchone()[0])

        return self._probe.read(work)

    def drain(self, timeout: float = 60.0, say: Say = _quiet, every: float = 2.0) -> bool:
        """Wait until every started flow has ended (no job left to run); False on timeout."""
        deadline = time.monotonic() + timeout
        last_said = 0.0
        while True:
            left = self.pending_jobs()
            if left == 0:
                return True
            if time.monotonic() > deadline:
                return False
            if time.monotonic() - last_said >= every:
                say(f"draining: {left} jobs left; {self.progress_line()}")
                last_said = time.monotonic()
            time.sleep(0.25)

    def progress_line(self) -> str:
        """One line of counters: elapsed, acknowledged, completed, resumed, retries."""
        c = self.stats.snapshot()
        elapsed = time.monotonic() - (self.started_at or time.monotonic())
        rate = c["acked"] / elapsed if elapsed > 0 else 0.0
        line = (
            f"t={elapsed:5.1f}s acked {c['acked']} ({rate:.1f}/s), flows completed "
            f"{c['completed']}, save points {c['save_points']}, resumed jobs "
            f"{c['jobs_resumed']}, retried tx {c['retries']}"
        )
        extra = [f"{k} {c[k]}" for k in ("api_failed", "incidents", "crashed", "errors") if c[k]]
        return line + ("; " + ", ".join(extra) if extra else "")

    def run(
        self, seconds: float, say: Say = _quiet, every: float = 2.0, drain: float = 60.0
    ) -> bool:
        """Start, load for ``seconds`` (a progress line every ``every``), drain, stop."""
        self.start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(min(every, max(0.0, end - time.monotonic())))
            say(self.progress_line())
        self.stop_load()
        drained = self.drain(drain, say)
        self.stop()
        say(self.progress_line())
        return drained
