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

With ``--engine camunda`` SO's BPMN side is the real Camunda 7 engine at two
sites, each through its site's ``mdbc proxy`` (see ``cli.demo_camunda``);
the sandbox, the kill and the verdict lines are the same
(``cli.demo_common``).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import click
import pymysql

from cli import demo_camunda
from cli.common import safe
from cli.demo_common import (
    VICTIM,
    Agents,
    Say,
    Timeline,
    echo_logs,
    show_status,
    start_sandbox,
    tear_down,
    verdict,
)
from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, load, save
from mdbc_py.errors import Error
from mdbc_py.music import MusicStore, open_store
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
from mdbc_py.workload.camunda import EngineError


def _load_with_kill(
    cfg: Config, store: MusicStore, box: Sandbox, work: Workload, seconds: float, say: Say
) -> Timeline:
    """Run the load; kill the victim half-way; watch the failover and the first commit."""
    t = Timeline()
    work.start()
    begin = time.monotonic()
    next_line = begin + 2.0
    while time.monotonic() - begin < seconds:
        time.sleep(0.1)
        now = time.monotonic()
        if t.killed is None and now - begin >= seconds / 2:
            show_status(cfg, store, say, f"status before the kill of {VICTIM}:")
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


def _watch(cfg: Config, store: MusicStore, work: Workload, t: Timeline, say: Say) -> None:
    """After the kill: note when every range is open elsewhere, and the first commit there."""
    if t.killed is None:
        return
    t.watch_failover(cfg, store, say)
    t.note_first_commit(work.stats.first_commit_after(t.killed, not_at=VICTIM), say)


def _run(directory: Path, seconds: float, keep: bool, base_port: int, ip: str,
         say: Say, secure: bool = False) -> bool:  # fmt: skip
    box = start_sandbox(directory, base_port, ip, say, secure)
    agents: Agents | None = None
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
        agents = Agents(cfg)
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
        show_status(cfg, store, say, "status after:")
        report = check(cfg, dbs, list(work.acked))
        if timeline.killed is not None and timeline.first_commit is None:
            timeline.first_commit = work.stats.first_commit_after(timeline.killed, not_at=VICTIM)
        counts = work.stats.snapshot()
        lines = [
            *report.lines(),
            f"flows resumed by another worker after their worker died: {counts['jobs_resumed']}",
            f"transactions retried by the API handler and the workers: {counts['retries']}",
        ]
        return verdict(lines, lines[-5:], report.ok and drained, timeline, say)
    finally:
        if work is not None:
            work.stop()
        tear_down(agents, cfg, store, box, keep, directory, say)


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


@click.command("demo")
@click.option("--engine", type=click.Choice(["python", "camunda"]), default="python",
              show_default=True,
              help="SO's BPMN side: the Python job executors, or a real Camunda 7 engine at "
              "dc1 and dc2, each through its site's mdbc proxy (needs "
              "scripts/install-deps).")  # fmt: skip
@click.option("--dir", "directory", default=".sandbox-demo", show_default=True,
              help="Folder of the demo's sandbox (recreated at each run).")  # fmt: skip
@click.option("--seconds", type=click.FloatRange(4, 600), default=20.0, show_default=True,
              help="How long the SO workload runs; dc1 is killed half-way.")  # fmt: skip
@click.option("--keep", is_flag=True, help="Leave the sandbox's services running at the end.")
@click.option("--base-port", type=click.IntRange(1024, 65000), default=3380, show_default=True,
              help="Site dcN listens on base-port + N (with --engine camunda, its proxy on "
              "base-port + 3 + N).")  # fmt: skip
@click.option("--cassandra-ip", default="127.0.0.71", show_default=True,
              help="Loopback address of the demo's Cassandra node.")  # fmt: skip
@click.option("--secure", is_flag=True,
              help="TLS and logins everywhere (as mdbc sandbox up --secure); with --engine "
              "camunda the proxies reach MariaDB over TLS.")  # fmt: skip
def demo(
    engine: str,
    directory: str,
    seconds: float,
    keep: bool,
    base_port: int,
    cassandra_ip: str,
    secure: bool,
) -> None:
    """The SO workload survives the loss of a site: kill -9, failover, catch-up, check."""
    began = time.monotonic()

    def say(message: str) -> None:
        click.echo(f"[{time.monotonic() - began:5.1f}s] {safe(message)}")

    folder = Path(directory).resolve()
    try:
        with echo_logs(say):
            if engine == "camunda":
                ok = demo_camunda.run(folder, seconds, keep, base_port, cassandra_ip, say, secure)
            else:
                ok = _run(folder, seconds, keep, base_port, cassandra_ip, say, secure)
    except (Error, TimeoutError, ValueError, EngineError, SandboxError) as exc:
        raise click.ClickException(f"{type(exc).__name__}: {safe(str(exc))}") from None
    say(f"demo finished in {time.monotonic() - began:.0f} s")
    if not ok:
        raise SystemExit(1)
