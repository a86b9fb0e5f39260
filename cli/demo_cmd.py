"""``mdbc demo``: ONAP SO's databases survive the loss of a site, end to end.

One command, real services: a sandbox of three MariaDB sites and a
Cassandra node, the three SO schemas loaded through the driver at dc1, one
agent per site, and the SO workload (API handler + BPMN job executors) in
mode ``route``. Half-way through, dc1's MariaDB is killed with SIGKILL and
SO's containers at dc1 die with it. The agents fail over by themselves; the
requests in flight are retried at the new owner; the flows the dead workers
held resume elsewhere when their locks expire. Then dc1 comes back as a
replica and catches up, and the check proves that no acknowledged request
was lost and that every site holds the same bytes.

The demo sandbox has its own folder and ports (3381-3383, Cassandra on
127.0.0.71), so it runs beside a developer's sandbox and the tests. It starts
from a clean folder each time (a previous demo's folder is stopped and
removed, never another one). With ``--secure`` the sandbox is a secure one
(``mdbc sandbox up --secure``): every link of the driver, the agents and
the check goes over TLS, MariaDB with the least-privilege account and
Cassandra with the role that may use the store's keyspace only; the steps
and the verdict are the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pymysql

from cli.common import remember_secrets, safe
from cli.output import format_table
from mdbc_py.admin.init import initialize
from mdbc_py.admin.status import collect_status
from mdbc_py.config import Config, load, save
from mdbc_py.core.runtime import Runtime
from mdbc_py.errors import Error
from mdbc_py.music import MusicStore, RangeState, open_store
from mdbc_py.replication.agent import Agent, AgentSettings
from mdbc_py.sandbox import Sandbox, SandboxError
from mdbc_py.workload import (
    SoDatabases,
    Workload,
    WorkloadSettings,
    check,
    load_so_schemas,
    seed_so_data,
    wait_caught_up,
)

MARKER = ".mdbc-demo"
"""A file that marks a folder as a demo sandbox: only such a folder is ever removed."""

VICTIM = "dc1"
STATUS_COLUMNS = ["range", "site", "role", "state", "epoch", "applied", "lag_entries", "lease"]

Say = Callable[[str], None]


class _Echo(logging.Handler):
    """Agent decisions and workload warnings as progress lines of the demo."""

    def __init__(self, say: Say) -> None:
        super().__init__(logging.WARNING)
        self.say = say

    def emit(self, record: logging.LogRecord) -> None:
        self.say(f"log: {record.getMessage()}")


@contextlib.contextmanager
def _echo_logs(say: Say) -> Iterator[None]:
    handler = _Echo(say)
    loggers = [logging.getLogger(n) for n in ("mdbc", "mdbc_py")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.WARNING)
        lg.propagate = False
    try:
        yield
    finally:
        for lg, (level, propagate) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate


def _fresh_folder(directory: Path, say: Say) -> None:
    """Start from an empty folder; stop and remove only a previous demo's."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).is_file():
            raise click.ClickException(
                f"{directory} exists and is not a demo sandbox; pick another --dir"
            )
        stopped = Sandbox(directory).down()
        if stopped:
            say(f"stopped the previous demo's services: {', '.join(stopped)}")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("mdbc demo sandbox: 'mdbc demo' may delete this folder\n")


def _status(cfg: Config, store: MusicStore, say: Say, title: str) -> None:
    rows = [r.as_dict() for r in collect_status(cfg, store)]
    say(title)
    for line in format_table(rows, STATUS_COLUMNS).splitlines():
        click.echo(f"    {line}")


@dataclasses.dataclass
class _Agents:
    """One in-process agent per site, each in its own thread."""

    cfg: Config
    agents: list[Agent] = dataclasses.field(default_factory=list)
    threads: list[threading.Thread] = dataclasses.field(default_factory=list)

    def start(self) -> None:
        settings = AgentSettings(lease_ttl=2.0, renew_every=0.5, interval=0.2)
        for site in self.cfg.sites:
            agent = Agent(self.cfg, site, settings)
            thread = threading.Thread(target=agent.run, name=f"agent-{site}", daemon=True)
            self.agents.append(agent)
            self.threads.append(thread)
            thread.start()

    def stop(self) -> None:
        for agent in self.agents:
            agent.stop()
        for thread in self.threads:
            thread.join(timeout=15)
        for agent in self.agents:
            with contextlib.suppress(Exception):
                agent.store.close()


def _failover_done(cfg: Config, store: MusicStore) -> dict[str, str] | None:
    """Range -> new owner once every range is open at a site other than the victim."""
    owners = {}
    for name in cfg.ranges:
        info = store.describe_range(name)
        if info.owner == VICTIM or info.state is not RangeState.OPEN:
            return None
        owners[name] = f"{info.owner} (epoch {info.epoch})"
    return owners


@dataclasses.dataclass
class _Timeline:
    """The moments the verdict reports, in ``time.monotonic`` seconds."""

    killed: float | None = None
    failed_over: float | None = None
    first_commit: tuple[float, str] | None = None


def _load_with_kill(
    cfg: Config, store: MusicStore, box: Sandbox, work: Workload, seconds: float, say: Say
) -> _Timeline:
    """Run the load; kill the victim half-way; watch the failover and the first commit."""
    t = _Timeline()
    work.start()
    begin = time.monotonic()
    next_line = begin + 2.0
    while time.monotonic() - begin < seconds:
        time.sleep(0.1)
        now = time.monotonic()
        if t.killed is None and now - begin >= seconds / 2:
            _status(cfg, store, say, f"status before the kill of {VICTIM}:")
            say(f"{VICTIM}: killing its MariaDB (SIGKILL); the SO threads at {VICTIM} die "
                "with their site, leaving their jobs locked")  # fmt: skip
            box.kill(VICTIM)
            t.killed = time.monotonic()
            work.crash_site(VICTIM)
        _watch(cfg, store, work, t, say)
        if now >= next_line:
            say(work.progress_line())
            next_line += 2.0
    work.stop_load()
    say(f"load stopped; {work.progress_line()}")
    deadline = time.monotonic() + 60
    while t.killed is not None and t.failed_over is None and time.monotonic() < deadline:
        time.sleep(0.1)
        _watch(cfg, store, work, t, say)
    return t


def _watch(cfg: Config, store: MusicStore, work: Workload, t: _Timeline, say: Say) -> None:
    """After the kill: note when every range is open elsewhere, and the first commit there."""
    if t.killed is None:
        return
    if t.failed_over is None:
        owners = _failover_done(cfg, store)
        if owners:
            t.failed_over = time.monotonic()
            moved = ", ".join(f"{r} -> {o}" for r, o in sorted(owners.items()))
            say(f"failover done {t.failed_over - t.killed:.1f} s after the kill: {moved}")
    if t.first_commit is None:
        t.first_commit = work.stats.first_commit_after(t.killed, not_at=VICTIM)
        if t.first_commit:
            say(f"first commit at the new owner {t.first_commit[1]}: "
                f"{t.first_commit[0] - t.killed:.1f} s after the kill")  # fmt: skip


def _run(directory: Path, seconds: float, keep: bool, base_port: int, ip: str,
         say: Say, secure: bool = False) -> bool:  # fmt: skip
    _fresh_folder(directory, say)
    box = Sandbox(directory, say=lambda m: say(f"sandbox: {m}"))
    remember_secrets(*box.secrets())  # made with the state: withheld from the first line on
    kind = "secure sandbox (TLS and authentication everywhere): " if secure else ""
    say(f"starting {kind}3 MariaDB sites (ports {base_port + 1}-{base_port + 3}) and a "
        f"Cassandra node ({ip}) in {directory}")  # fmt: skip
    try:
        box.up(sites=3, cassandra_nodes=1, base_port=base_port, first_ip=ip, secure=secure)
    except SandboxError as exc:
        remember_secrets(*box.secrets())
        raise click.ClickException(safe(str(exc))) from None
    remember_secrets(*box.secrets())
    agents: _Agents | None = None
    store: MusicStore | None = None
    cfg: Config | None = None
    work: Workload | None = None
    try:
        cfg = dataclasses.replace(load(box.config_path), mode="route")
        cfg = load(save(cfg, directory / "demo.toml"))
        say(f"config: {cfg.source} (mode route: writes go to each range's owner)")
        store = open_store(cfg.store, create=True)
        if secure:
            _say_secure(cfg, say)
        initialize(cfg, store=store, say=say)
        agents = _Agents(cfg)
        agents.start()
        say("agents started at dc1, dc2, dc3 (lease 2 s); dc2 and dc3 replay what dc1 logs")
        dbs = SoDatabases()
        load_so_schemas(cfg, dbs, say=say)
        seed_so_data(cfg, dbs, say=say)
        settings = WorkloadSettings(
            api_threads=3, bpmn_workers=3, request_interval=0.4, lock_seconds=4.0
        )
        work = Workload(cfg, dbs, settings)
        say(f"SO workload: {settings.api_threads} API handler threads, "
            f"{settings.bpmn_workers} BPMN job executors, {seconds:.0f} s")  # fmt: skip
        timeline = _load_with_kill(cfg, store, box, work, seconds, say)
        say(f"{VICTIM}: starting MariaDB again ...")
        box.start(VICTIM)
        say(f"{VICTIM}: SO threads there restarted: {work.restart_site(VICTIM)}")
        drained = work.drain(timeout=90, say=say)
        back = time.monotonic()
        tails = wait_caught_up(cfg, store, timeout=90)
        say(f"all sites caught up (log tails {tails}) {time.monotonic() - back:.1f} s "
            "after the drain")  # fmt: skip
        work.stop()
        _status(cfg, store, say, "status after:")
        report = check(cfg, dbs, list(work.acked))
        if timeline.killed is not None and timeline.first_commit is None:
            timeline.first_commit = work.stats.first_commit_after(timeline.killed, not_at=VICTIM)
        counts = work.stats.snapshot()
        lines = [
            *report.lines(),
            f"flows resumed by another worker after their worker died: {counts['jobs_resumed']}",
            f"transactions retried by the API handler and the workers: {counts['retries']}",
        ]
        return _verdict(lines, report.ok and drained, timeline, say)
    finally:
        if work is not None:
            work.stop()
        if agents is not None:
            agents.stop()
        if cfg is not None:
            Runtime.for_config(cfg).close()
        if store is not None:
            store.close()
        if keep:
            say(f"services left running (--keep): mdbc sandbox status --dir {directory}")
        else:
            box.down()


def _say_secure(cfg: Config, say: Say) -> None:
    """What the links of a secure demo really are: the TLS version each site negotiated."""
    versions = []
    for name, site in cfg.sites.items():
        conn = pymysql.connect(**site.connect_kwargs(), connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
                row = cur.fetchone()
        finally:
            conn.close()
        if not row or not row[1]:
            raise click.ClickException(f"{name}: the MariaDB session is not encrypted")
        versions.append(f"{name} {row[1]}")
    store = cfg.store
    say(f"secure links: MariaDB as {cfg.site(VICTIM).user!r} over {', '.join(versions)}; "
        f"Cassandra as role {store.username!r} over TLS (keyspace {store.keyspace!r})")  # fmt: skip


def _verdict(lines: list[str], ok: bool, t: _Timeline, say: Say) -> bool:
    say("check:")
    for line in lines:
        click.echo(f"    {line}")
    click.echo("")
    click.echo(f"verdict: {'PASS' if ok else 'FAIL'}")
    for line in lines[-5:]:
        click.echo(f"  {line}")
    if t.killed is not None and t.failed_over is not None:
        click.echo(f"  failover: {t.failed_over - t.killed:.1f} s from the kill of {VICTIM} "
                   "to every range open at a new owner")  # fmt: skip
    if t.killed is not None and t.first_commit is not None:
        click.echo(f"  RTO: {t.first_commit[0] - t.killed:.1f} s from the kill of {VICTIM} "
                   f"to the first commit at {t.first_commit[1]}")  # fmt: skip
    else:
        click.echo("  RTO: no commit after the kill")
        ok = False
    return ok


@click.command("demo")
@click.option("--dir", "directory", default=".sandbox-demo", show_default=True,
              help="Folder of the demo's sandbox (recreated at each run).")  # fmt: skip
@click.option("--seconds", type=click.FloatRange(4, 600), default=20.0, show_default=True,
              help="How long the SO workload runs; dc1 is killed half-way.")  # fmt: skip
@click.option("--keep", is_flag=True, help="Leave the sandbox's services running at the end.")
@click.option("--base-port", type=click.IntRange(1024, 65000), default=3380, show_default=True,
              help="Site dcN listens on base-port + N.")  # fmt: skip
@click.option("--cassandra-ip", default="127.0.0.71", show_default=True,
              help="Loopback address of the demo's Cassandra node.")  # fmt: skip
@click.option("--secure", is_flag=True,
              help="TLS and logins everywhere (as mdbc sandbox up --secure).")  # fmt: skip
def demo(
    directory: str, seconds: float, keep: bool, base_port: int, cassandra_ip: str, secure: bool
) -> None:
    """The SO workload survives the loss of a site: kill -9, failover, catch-up, check."""
    began = time.monotonic()

    def say(message: str) -> None:
        click.echo(f"[{time.monotonic() - began:5.1f}s] {safe(message)}")

    try:
        with _echo_logs(say):
            ok = _run(
                Path(directory).resolve(), seconds, keep, base_port, cassandra_ip, say, secure
            )
    except (Error, TimeoutError, ValueError) as exc:
        raise click.ClickException(f"{type(exc).__name__}: {safe(str(exc))}") from None
    say(f"demo finished in {time.monotonic() - began:.0f} s")
    if not ok:
        raise SystemExit(1)
