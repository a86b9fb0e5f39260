"""What both engines of ``mdbc demo`` share: the sandbox, the agents, the failover, the verdict.

The Python engine (``cli.demo_cmd``) and the Camunda engine
(``cli.demo_camunda``) run the same scenario on the same kind of sandbox:
three MariaDB sites and a Cassandra node in a folder of the demo's own, an
agent per site in this process, dc1 the owner until it is killed with
SIGKILL, and the same verdict lines at the end.
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

from cli.common import remember_secrets, safe
from cli.output import format_table
from mdbc_py.admin.status import collect_status
from mdbc_py.config import Config
from mdbc_py.core.runtime import Runtime
from mdbc_py.music import MusicStore, RangeState
from mdbc_py.replication.agent import Agent, AgentSettings
from mdbc_py.sandbox import Sandbox, SandboxError

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
def echo_logs(say: Say) -> Iterator[None]:
    """While inside: warnings of mdbc_py's loggers become progress lines."""
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


def fresh_folder(directory: Path, say: Say) -> None:
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


def start_sandbox(
    directory: Path, base_port: int, ip: str, say: Say, secure: bool = False
) -> Sandbox:
    """A fresh sandbox of 3 sites and a Cassandra node in ``directory``, all up."""
    fresh_folder(directory, say)
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
    return box


def tear_down(
    agents: Agents | None,
    cfg: Config | None,
    store: MusicStore | None,
    box: Sandbox,
    keep: bool,
    directory: Path,
    say: Say,
) -> None:
    """The end of a demo, whatever happened: agents, store sessions, then the sandbox."""
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


def show_status(cfg: Config, store: MusicStore, say: Say, title: str) -> None:
    """``mdbc status`` of every range, as an indented table."""
    rows = [r.as_dict() for r in collect_status(cfg, store)]
    say(title)
    for line in format_table(rows, STATUS_COLUMNS).splitlines():
        click.echo(f"    {line}")


@dataclasses.dataclass
class Agents:
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


def failover_done(cfg: Config, store: MusicStore) -> dict[str, str] | None:
    """Range -> new owner once every range is open at a site other than the victim."""
    owners = {}
    for name in cfg.ranges:
        info = store.describe_range(name)
        if info.owner == VICTIM or info.state is not RangeState.OPEN:
            return None
        owners[name] = f"{info.owner} (epoch {info.epoch})"
    return owners


@dataclasses.dataclass
class Timeline:
    """The moments the verdict reports, in ``time.monotonic`` seconds."""

    killed: float | None = None
    failed_over: float | None = None
    first_commit: tuple[float, str] | None = None

    def watch_failover(self, cfg: Config, store: MusicStore, say: Say) -> None:
        """After the kill: note (once) when every range is open at another site."""
        if self.killed is None or self.failed_over is not None:
            return
        owners = failover_done(cfg, store)
        if owners:
            self.failed_over = time.monotonic()
            moved = ", ".join(f"{r} -> {o}" for r, o in sorted(owners.items()))
            say(f"failover done {self.failed_over - self.killed:.1f} s after the kill: {moved}")

    def note_first_commit(self, found: tuple[float, str] | None, say: Say) -> None:
        """Note (once) the first commit at the new owner after the kill."""
        if self.killed is None or self.first_commit is not None or found is None:
            return
        self.first_commit = found
        say(f"first commit at the new owner {found[1]}: "
            f"{found[0] - self.killed:.1f} s after the kill")  # fmt: skip


def verdict(lines: list[str], summary: list[str], ok: bool, t: Timeline, say: Say) -> bool:
    """Print the check, then the verdict with ``summary`` and the timeline; True for PASS."""
    say("check:")
    for line in lines:
        click.echo(f"    {line}")
    click.echo("")
    if t.killed is None or t.first_commit is None:
        ok = False
    click.echo(f"verdict: {'PASS' if ok else 'FAIL'}")
    for line in summary:
        click.echo(f"  {line}")
    if t.killed is not None and t.failed_over is not None:
        click.echo(f"  failover: {t.failed_over - t.killed:.1f} s from the kill of {VICTIM} "
                   "to every range open at a new owner")  # fmt: skip
    if t.killed is not None and t.first_commit is not None:
        click.echo(f"  RTO: {t.first_commit[0] - t.killed:.1f} s from the kill of {VICTIM} "
                   f"to the first commit at {t.first_commit[1]}")  # fmt: skip
    else:
        click.echo("  RTO: no commit after the kill")
    return ok
