"""``mdbc demo --engine camunda``: the SO scenario with the real Camunda 7 engine at two sites.

ONAP SO's BPMN infrastructure is a Camunda engine on MariaDB through
Connector/J and a HikariCP pool. Here it is the real one: a Camunda 7.24
engine per site at dc1 and dc2 (Java processes, ``SoBpmnEngine`` of the
Maven module ``tests/java``), each with its job executor on, each through
its own site's ``mdbc proxy`` (mode route), the JDBC URL being the only
thing changed. They share SO's Camunda database ``camundabpmn``, one range
owned by dc1: the engine at dc1 creates Camunda's tables through its
proxy and deploys SO's "create service instance" flow, whose building
blocks each sit behind an ``asyncBefore`` save point; then both engines
start instances at a steady rate and run their jobs.

Half-way, site dc1 is lost: its MariaDB is killed with SIGKILL, and its
engine and proxy with it. The agents fail the range over; dc2's proxy
sends the engine's new sessions to the new owner; once the locks dc1's
dead engine held expire, the engine at dc2 takes those jobs and resumes
the flows from their last save point. Then dc1's MariaDB comes back as a
replica, and the check proves that every acknowledged instance completed,
every step committed exactly once (a row in ``so_marks`` written in the
engine's own transaction), and ``mdbc verify`` finds the sites identical.

Ports: site dcN on ``--base-port`` + N as in the Python demo, the proxy
of dcN on ``--base-port`` + 3 + N (dc1's on + 4, dc2's on + 5). Java and the module come from
``scripts/install-deps``; without them the demo says so and exits 1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pymysql

from cli.demo_common import (
    VICTIM,
    Agents,
    Say,
    Timeline,
    show_status,
    start_sandbox,
    tear_down,
    verdict,
)
from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig, load, save
from mdbc_py.music import MusicStore, open_store
from mdbc_py.replication.verify import verify_range
from mdbc_py.sandbox import Sandbox
from mdbc_py.sandbox.processes import port_bindable, port_open, spawn, wait_until
from mdbc_py.workload import wait_caught_up
from mdbc_py.workload.camunda import (
    EngineEvents,
    EngineProcess,
    JavaCompileError,
    JavaUnavailableError,
    check,
    compile_checks,
)
from mdbc_py.workload.camunda.engine import jdbc_url
from mdbc_py.workload.camunda.java import classpath
from mdbc_py.workload.model import BUILDING_BLOCKS, PROCESS_KEY

DATABASE = "camundabpmn"
ENGINE_SITES = ("dc1", "dc2")
SURVIVOR = "dc2"
PROXY_PORT_OFFSET = 3
"""The proxy of dcN listens on base-port + 3 + N, next to the sites (base-port + N)."""
START_INTERVAL_MS = 700
"""Each engine starts an instance this often (SO's API handler, a request each)."""
WORK_MS = 200
"""What a building block spends calling other systems before its save point."""
LOCK_MS = 6000
"""How long a job stays locked by its engine: a dead engine's jobs wait this long."""
ENGINE_START_SECONDS = 240
DRAIN_SECONDS = 120


def _proxy_port(base_port: int, n: int) -> int:
    return base_port + PROXY_PORT_OFFSET + n


@dataclasses.dataclass
class _Proxy:
    """``mdbc proxy --site S --mode route`` as a child process, as a site would run it."""

    site: str
    port: int
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "cli.main", "proxy", "--site", self.site,
                "--listen", f"127.0.0.1:{self.port}", "--mode", "route",
                "--drain-seconds", "2", "-c", str(self.config)]  # fmt: skip
        self.proc = spawn(argv, self.log)
        wait_until(lambda: port_open("127.0.0.1", self.port), 30,
                   f"the proxy of {self.site}", alive=self.alive)  # fmt: skip

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """SIGTERM (it drains), SIGKILL if it has not stopped after 15 s."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclasses.dataclass
class _Site:
    """What runs at one site besides its MariaDB: its proxy and its engine."""

    proxy: _Proxy
    engine: EngineProcess


def _query(
    cfg: Config, site: str, sql: str, args: tuple[object, ...] = ()
) -> tuple[tuple[Any, ...], ...]:
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), connect_timeout=3, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return tuple(cur.fetchall())
    finally:
        conn.close()


def _progress(events: EngineEvents, began: float) -> str:
    p = events.progress()
    started = ", ".join(f"{s} {p.get(f'started_{s}', 0)}" for s in ENGINE_SITES)
    steps = ", ".join(f"{s} {p.get(f'steps_{s}', 0)}" for s in ENGINE_SITES)
    rate = p["started"] / max(0.1, time.monotonic() - began)
    return (f"t={time.monotonic() - began:5.1f}s started {p['started']} ({started}; {rate:.1f}/s), "
            f"completed {p['completed']}, steps committed {sum(events.steps.values())} ({steps}), "
            f"start retries {p['retries']}")  # fmt: skip


def _held_by(cfg: Config, site: str, engine_site: str) -> set[str]:
    """Process instances whose jobs the engine at ``engine_site`` holds locked, read at ``site``."""
    rows = _query(cfg, site, f"SELECT DISTINCT `PROCESS_INSTANCE_ID_` FROM `{DATABASE}`."
                  "`ACT_RU_JOB` WHERE `LOCK_OWNER_` = %s", (f"so-bpmn-{engine_site}",))  # fmt: skip
    return {r[0] for r in rows}


@dataclasses.dataclass
class _Run:
    """One run of the scenario; ``sites`` are the two engine sites."""

    cfg: Config
    store: MusicStore
    box: Sandbox
    sites: dict[str, _Site]
    events: EngineEvents
    say: Say
    timeline: Timeline = dataclasses.field(default_factory=Timeline)
    interrupted: set[str] = dataclasses.field(default_factory=set)

    def watch(self) -> None:
        """After the kill: failover, the first commit, the flows the dead engine held."""
        t = self.timeline
        if t.killed is None:
            return
        before = t.failed_over
        t.watch_failover(self.cfg, self.store, self.say)
        if before is None and t.failed_over is not None:
            owner = self.store.describe_range(DATABASE).owner or SURVIVOR
            try:
                self.interrupted = _held_by(self.cfg, owner, VICTIM)
            except pymysql.err.MySQLError as exc:
                self.say(f"could not read the jobs left locked at {owner}: {exc}")
            held = len(self.interrupted)
            self.say(f"{held} flows were held by the engine at {VICTIM} when it died: their "
                     f"jobs wait at their save points until the locks expire "
                     f"({LOCK_MS // 1000} s), then the engine at {SURVIVOR} takes "
                     "them")  # fmt: skip
        if t.failed_over is None:
            return
        # Commits acknowledged between the kill and the failover were durable in the log
        # before the kill; the recovery is the first commit once a new owner is open.
        first = self.events.first_commit_after(t.failed_over, not_at=VICTIM)
        if first is not None:
            owner = self.store.describe_range(DATABASE).owner or "?"
            t.note_first_commit((first[0], owner), self.say)

    def load_with_kill(self, seconds: float) -> None:
        """Start instances at both engines; kill dc1 half-way; stop starting at the end."""
        for site, running in self.sites.items():
            running.engine.send(f"start {PROCESS_KEY} {START_INTERVAL_MS} {site}")
        begin = time.monotonic()
        next_line = begin + 2.0
        while time.monotonic() - begin < seconds:
            time.sleep(0.1)
            now = time.monotonic()
            if self.timeline.killed is None and now - begin >= seconds / 2:
                self.kill_victim()
            self.watch()
            if now >= next_line:
                self.say(_progress(self.events, begin))
                next_line += 2.0
        for site, running in self.sites.items():
            if running.engine.alive():
                running.engine.send("stop")
                running.engine.expect("stopped", 60)
                self.say(f"{site}: the engine stopped starting instances")
        self.say(f"load stopped; {_progress(self.events, begin)}")
        deadline = time.monotonic() + 60
        while self.timeline.failed_over is None and time.monotonic() < deadline:
            time.sleep(0.1)
            self.watch()

    def kill_victim(self) -> None:
        """Lose dc1 while its engine holds jobs (waiting up to 5 s for such a moment)."""
        show_status(self.cfg, self.store, self.say, f"status before the loss of {VICTIM}:")
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            with contextlib.suppress(pymysql.err.MySQLError):
                if _held_by(self.cfg, VICTIM, VICTIM):
                    break
            time.sleep(0.05)
        in_flight, _ = self.events.in_flight_at(time.monotonic())
        self.say(f"{VICTIM}: the site is lost: its MariaDB is killed (SIGKILL), its Camunda "
                 f"engine and its proxy with it; {in_flight} instances are in flight")  # fmt: skip
        self.box.kill(VICTIM)
        self.timeline.killed = time.monotonic()
        victim = self.sites[VICTIM]
        victim.engine.kill()
        victim.proxy.kill()
        self.say(f"{VICTIM}: engine (pid {victim.engine.pid}) and proxy killed")

    def drain(self, timeout: float) -> bool:
        """Wait until no instance is left running at the owner; progress every 2 s."""
        deadline = time.monotonic() + timeout
        next_line = 0.0
        while time.monotonic() < deadline:
            self.watch()
            owner = self.store.describe_range(DATABASE).owner
            try:
                left = _query(self.cfg, owner or SURVIVOR,
                              f"SELECT (SELECT COUNT(*) FROM `{DATABASE}`.`ACT_RU_EXECUTION`), "
                              f"(SELECT COUNT(*) FROM `{DATABASE}`.`ACT_RU_JOB`)")[0]  # fmt: skip
            except pymysql.err.MySQLError:
                left = None
            if left == (0, 0):
                self.say(f"drained: no instance left running; completed "
                         f"{self.events.progress()['completed']}")  # fmt: skip
                return True
            if time.monotonic() >= next_line:
                self.say(f"draining: executions, jobs left at the owner {left}")
                next_line = time.monotonic() + 2.0
            time.sleep(0.3)
        self.say(f"not drained after {timeout:.0f} s")
        return False


def _schema_progress(cfg: Config, store: MusicStore, site: str) -> str:
    """How far the engine's schema is: Camunda's tables at ``site``, and the log's tail."""
    try:
        sql = ("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s "
               "AND table_name LIKE 'ACT\\_%%'")  # fmt: skip
        tables = _query(cfg, site, sql, (DATABASE,))
        made = f"{tables[0][0]} of 49 tables"
    except pymysql.err.MySQLError as exc:
        made = f"tables unknown ({exc})"
    return f"Camunda's schema: {made}, log tail {store.describe_range(DATABASE).tail}"


def _start_engines(
    checks_dir: Path,
    cfg: Config,
    store: MusicStore,
    directory: Path,
    base_port: int,
    events: EngineEvents,
    say: Say,
    sites: dict[str, _Site],
) -> None:
    """A proxy and an engine at each engine site, into ``sites`` as each starts (so that
    whatever started is stopped if a later one fails); dc1's creates the tables and deploys."""
    checks = compile_checks(checks_dir)
    logs = directory / "logs"
    logs.mkdir(exist_ok=True)
    for n, site in enumerate(ENGINE_SITES, start=1):
        port = _proxy_port(base_port, n)
        proxy = _Proxy(site, port, Path(cfg.source or ""), logs / f"proxy-{site}.log")
        account = (cfg.site(site).user, cfg.site(site).password or "")
        engine = EngineProcess(site, checks, jdbc_url("127.0.0.1", port, DATABASE), account,
                               logs / f"camunda-{site}.log", events, BUILDING_BLOCKS[-1],
                               LOCK_MS, WORK_MS)  # fmt: skip
        sites[site] = _Site(proxy, engine)
        proxy.start()
        say(f"{site}: mdbc proxy (mode route) on 127.0.0.1:{port}")
    for site, running in sites.items():
        began = time.monotonic()
        running.engine.start()
        if site == ENGINE_SITES[0]:
            say(f"{site}: Camunda engine starting; it creates Camunda's 49 tables through its "
                "proxy (about 300 DDL statements, each a log entry)")  # fmt: skip
        while running.engine.next_line("engine ok", 5.0) is None:
            if time.monotonic() - began > ENGINE_START_SECONDS:
                running.engine.expect("engine ok", 0)  # raises, naming the engine's log
            if site == ENGINE_SITES[0]:
                say(f"{site}: {_schema_progress(cfg, store, site)}")
        what = "created Camunda's tables through its proxy" if site == ENGINE_SITES[0] else "up"
        url = f"jdbc:mariadb://127.0.0.1:{running.proxy.port}/{DATABASE}"
        say(f"{site}: Camunda engine {what} in {time.monotonic() - began:.1f} s "
            f"({url}, job executor on)")  # fmt: skip
        if site == ENGINE_SITES[0]:
            running.engine.send(f"deploy {PROCESS_KEY} {' '.join(BUILDING_BLOCKS)}")
            running.engine.expect("deployed", 60)
            say(f"{site}: deployed {PROCESS_KEY}: {' -> '.join(BUILDING_BLOCKS)}, "
                "each behind an asyncBefore save point")  # fmt: skip


def run(
    directory: Path,
    seconds: float,
    keep: bool,
    base_port: int,
    ip: str,
    say: Say,
    secure: bool = False,
) -> bool:
    """The whole scenario of the module docstring; True for a PASS verdict."""
    try:
        classpath()  # before anything starts: Java and the module are there
    except JavaUnavailableError as exc:
        raise click.ClickException(f"--engine camunda needs Java and the Java module: "
                                   f"{exc.missing}; run {exc.fix}") from None  # fmt: skip
    for n, site in enumerate(ENGINE_SITES, start=1):
        port = _proxy_port(base_port, n)
        if not port_bindable("127.0.0.1", port):
            raise click.ClickException(f"port {port} (the proxy of {site}) is in use; "
                                       "pick another --base-port")  # fmt: skip
    box = start_sandbox(directory, base_port, ip, say, secure)
    agents: Agents | None = None
    store: MusicStore | None = None
    cfg: Config | None = None
    sites: dict[str, _Site] = {}
    try:
        cfg = dataclasses.replace(
            load(box.config_path),
            mode="route",
            ranges={DATABASE: RangeConfig(DATABASE, DATABASE, initial_owner=VICTIM)},
        )
        cfg = load(save(cfg, directory / "demo.toml"))
        say(f"config: {cfg.source} (mode route; range {DATABASE}, SO's Camunda database, "
            f"owned by {VICTIM})")  # fmt: skip
        store = open_store(cfg.store, create=True)
        initialize(cfg, store=store, say=say)
        agents = Agents(cfg)
        agents.start()
        say("agents started at dc1, dc2, dc3 (lease 2 s); dc2 and dc3 replay what dc1 logs")
        events = EngineEvents()
        try:
            _start_engines(directory / "java", cfg, store, directory, base_port, events, say,
                           sites)  # fmt: skip
        except JavaUnavailableError as exc:
            raise click.ClickException(f"{exc.missing}; run {exc.fix}") from None
        except JavaCompileError as exc:
            raise click.ClickException(str(exc)) from None
        say(f"SO load: each engine starts an instance every {START_INTERVAL_MS} ms, "
            f"3 job executor threads each, {seconds:.0f} s")  # fmt: skip
        scenario = _Run(cfg, store, box, sites, events, say)
        scenario.load_with_kill(seconds)
        say(f"{VICTIM}: starting MariaDB again (it rejoins as a replica) ...")
        box.start(VICTIM)
        drained = scenario.drain(DRAIN_SECONDS)
        for site, running in sites.items():
            if running.engine.alive():
                running.engine.quit()
                say(f"{site}: engine closed")
            running.proxy.stop()
        back = time.monotonic()
        tails = wait_caught_up(cfg, store, timeout=90)
        say(f"all sites caught up (log tail {tails[DATABASE]}) "
            f"{time.monotonic() - back:.1f} s after the drain")  # fmt: skip
        show_status(cfg, store, say, "status after:")
        verified = verify_range(cfg, store, DATABASE, timeout=60)
        say(f"mdbc verify {DATABASE}: {'identical' if verified.ok else 'DIFFERENCES'} at seq "
            f"{verified.seq}, {len(verified.sites)} sites")  # fmt: skip
        acked = events.acknowledged()
        report = check(cfg, DATABASE, acked, BUILDING_BLOCKS, verified)
        resumed = _resumed(cfg, verified.owner, scenario.interrupted)
        counts = events.progress()
        extra = [
            f"flows resumed by another engine after theirs died: {resumed}/"
            f"{len(scenario.interrupted)}",
            f"instance starts retried by the engines: {counts['retries']}",
        ]
        lines = [*report.lines(), *extra]
        ok = report.ok and drained and resumed == len(scenario.interrupted)
        return verdict(lines, [*report.summary(), *extra], ok, scenario.timeline, say)
    finally:
        for running in sites.values():
            running.engine.kill()
            running.proxy.kill()
        tear_down(agents, cfg, store, box, keep, directory, say)


def _resumed(cfg: Config, site: str, interrupted: set[str]) -> int:
    """How many of the flows the dead engine held completed, with a step by another engine."""
    if not interrupted:
        return 0
    marks = f"`{DATABASE}`.`so_marks`"
    procs = f"`{DATABASE}`.`ACT_HI_PROCINST`"
    holes = ", ".join(["%s"] * len(interrupted))
    rows = _query(cfg, site,
                  f"SELECT COUNT(DISTINCT m.`instance_id`) FROM {marks} m JOIN {procs} p "
                  "ON p.`PROC_INST_ID_` = m.`instance_id` WHERE p.`STATE_` = 'COMPLETED' "
                  f"AND m.`engine` <> %s AND m.`instance_id` IN ({holes})",
                  (f"so-bpmn-{VICTIM}", *sorted(interrupted)))  # fmt: skip
    with contextlib.suppress(IndexError, TypeError):
        return int(rows[0][0])
    return 0
