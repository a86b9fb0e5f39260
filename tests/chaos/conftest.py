"""Fixtures of the failure tests: agents as real processes over the session sandbox.

Each test gets fresh ranges (so epochs and logs start clean), a config file
naming them, and one ``mdbc agent`` process per site. Killing a MariaDB
server is done with the sandbox (kill -9); the ``running`` fixture of the
next test brings it back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pymysql
import pytest

import mdbc_py
from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig, save
from mdbc_py.core.runtime import Runtime
from mdbc_py.music import MusicStore, open_store
from mdbc_py.sandbox import Sandbox
from tests.chaos.faults import Faults, Link
from tests.chaos.history import HISTORY_TABLE_DDL, HistoryReport, load_attempts
from tests.chaos.history import check as check_history

LEASE_TTL = "2"


def wait_until(condition: Callable[[], object], what: str, seconds: float = 30) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` did not happen.

    Processes start slowly on a loaded machine: tests wait for what they
    need (a writer's first commits, traffic on a link) instead of sleeping.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {seconds:g} s: {what}")
        time.sleep(0.1)


@dataclass
class WriterProcess:
    """A running ``tests.chaos.writer`` and the file of its outcomes."""

    name: str
    proc: subprocess.Popen[bytes]
    out: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.out.exists() and self.out.stat().st_size:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        log = self.out.with_suffix(".log")
        raise AssertionError(f"writer {self.name} did not start: {log.read_text()[-2000:]}")

    def wait_acks(self, n: int = 5, seconds: float = 30) -> None:
        """Wait until ``n`` commits of this writer were acknowledged."""
        wait_until(lambda: self.outcomes()["ack"] >= n,
                   f"writer {self.name} has not had {n} commits acknowledged", seconds)  # fmt: skip

    def outcomes(self) -> Counter[str]:
        """Outcomes recorded so far (the process may still be running)."""
        return Counter(a.outcome for a in load_attempts([self.out]).values() if a.ended)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()

    def wait(self) -> None:
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:  # stuck: its attempt in flight stays unknown
            self.proc.kill()
            self.proc.wait()


@dataclass
class Cluster:
    """Sites, a config file, the store, and the agent processes of one test."""

    cfg: Config
    path: Path
    store: MusicStore
    sandbox: Sandbox
    logs: Path
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    writers: list[WriterProcess] = field(default_factory=list)

    @property
    def ranges(self) -> list[str]:
        return sorted(self.cfg.ranges)

    def wait_owner_leases(self, seconds: float = 30) -> None:
        """Wait until each range's initial owner holds its lease.

        Start the owner's agent, call this, then the replicas' agents: a
        replica started first would find the owner's lease missing while
        the owner's agent is still starting (it may wait out a site claim
        an agent of an earlier test could not release) and take over.
        """
        deadline = time.monotonic() + seconds
        for name, rng in self.cfg.ranges.items():
            while True:
                lease = self.store.get_lease(name)
                if lease is not None and lease.holder == rng.initial_owner:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{rng.initial_owner} never took the lease of {name}\n{self.agent_logs()}"
                    )
                time.sleep(0.1)

    def start_agent(
        self,
        site: str,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Start ``mdbc agent --site site``; ``config`` (e.g. one whose links go through
        fault proxies) and extra ``env`` (e.g. libfaketime's) are optional."""
        log = open(self.logs / f"agent-{site}.log", "ab")  # noqa: SIM115 - owned by the process
        self.agents[site] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "agent",
                "--site",
                site,
                "-c",
                str(config or self.path),
                "--lease-ttl",
                LEASE_TTL,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )

    def kill_agent(self, site: str) -> None:
        """kill -9 the agent of ``site`` (it gets no chance to release anything)."""
        proc = self.agents.pop(site)
        proc.kill()
        proc.wait()

    def variant(
        self, name: str, store: Link | None = None, sites: Mapping[str, Link] | None = None
    ) -> Path:
        """A config file like this cluster's, but reaching the store and/or some sites'
        MariaDB through fault-injecting links (for one process: an agent, a writer)."""
        cfg = self.cfg
        if store is not None:
            cfg = replace(cfg, store=replace(cfg.store, contact_points=("127.0.0.1",),
                                             port=store.port))  # fmt: skip
        if sites:
            cfg = replace(cfg, sites={
                n: replace(s, host="127.0.0.1", port=sites[n].port) if n in sites else s
                for n, s in cfg.sites.items()
            })  # fmt: skip
        return save(cfg, self.path.with_name(f"{self.path.stem}-{name}.toml"))

    def create_history_table(self, db: str, table: str = "hist") -> None:
        """The table the writer processes insert into (through the driver, at dc1)."""
        conn = mdbc_py.connect(site="dc1", config=self.cfg, database=db)
        try:
            conn.cursor().execute(HISTORY_TABLE_DDL.format(table=table))
        finally:
            conn.close()

    def start_writer(
        self,
        name: str,
        site: str,
        config: Path | None = None,
        threads: int = 2,
        extra: Sequence[str] = (),
    ) -> WriterProcess:
        """A writer process (``tests.chaos.writer``) committing at ``site`` into the
        history table of the first range; its outcomes go to ``logs/writer-NAME.jsonl``."""
        out = self.logs / f"writer-{name}.jsonl"
        log = open(self.logs / f"writer-{name}.log", "ab")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.writer", "--config", str(config or self.path),
             "--site", site, "--database", self.cfg.ranges[self.ranges[0]].database,
             "--out", str(out), "--name", name, "--threads", str(threads), *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        writer = WriterProcess(name, proc, out)
        self.writers.append(writer)
        writer.wait_ready()
        return writer

    def stop_writers(self) -> None:
        """SIGTERM every writer, let each finish its attempt in flight (kill -9 after 60 s)."""
        for w in self.writers:
            w.terminate()
        for w in self.writers:
            w.wait()

    def check_history(self, fenced: Mapping[str, float] | None = None) -> HistoryReport:
        """Stop the writers, then run the history checker on the first range; print it."""
        self.stop_writers()
        report = check_history(self.cfg, self.store, self.ranges[0],
                               [w.out for w in self.writers], fenced=fenced)  # fmt: skip
        print(report, flush=True)
        return report

    def signal_agent(self, site: str, sig: int) -> None:
        self.agents[site].send_signal(sig)

    def stop_agent(self, site: str) -> None:
        proc = self.agents.pop(site, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def owner(self, range_name: str) -> str | None:
        return self.store.describe_range(range_name).owner

    def wait_owner(self, range_name: str, not_site: str, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            info = self.store.describe_range(range_name)
            if info.owner != not_site and info.state.value == "open":
                return str(info.owner)
            time.sleep(0.1)
        raise AssertionError(
            f"{range_name}: no new open owner after {seconds} s;\\n{self.agent_logs()}"
        )

    def wait_caught_up(self, range_name: str, sites: list[str], seconds: float = 60) -> int:
        """Wait until every site has applied the whole log; return the tail."""
        deadline = time.monotonic() + seconds
        while True:
            tail = self.store.describe_range(range_name).tail
            positions = {s: site_position(self.cfg, s, range_name) for s in sites}
            if all(p >= tail for p in positions.values()):
                return tail
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not caught up: tail {tail}, positions {positions};\\n{self.agent_logs()}"
                )
            time.sleep(0.2)

    def agent_logs(self, lines: int = 15) -> str:
        out = []
        for path in sorted(self.logs.glob("agent-*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\\n" + "\\n".join(text))
        return "\\n".join(out)


def site_position(cfg: Config, site: str, range_name: str) -> int:
    """The contiguous applied position of ``site`` read from its own database."""
    from mdbc_py.core import positions

    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), connect_timeout=2)
    try:
        with conn.cursor() as cur:
            return positions.read(cur, range_name).contiguous
    finally:
        conn.close()


def table_digest(cfg: Config, site: str, db: str, table: str) -> tuple[int, int]:
    """(row count, CHECKSUM TABLE) of a table at a site."""
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), connect_timeout=2)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM `{db}`.`{table}`")
            rows = int(cur.fetchone()[0])
            cur.execute(f"CHECKSUM TABLE `{db}`.`{table}`")
            return rows, int(cur.fetchone()[1])
    finally:
        conn.close()


@pytest.fixture()
def make_cluster(sandbox_config: Config, running: Sandbox, tmp_path: Path):  # type: ignore[no-untyped-def]
    """``make_cluster(n_ranges=1, mode="route", agents=True)`` -> Cluster; torn down after."""
    made: list[Cluster] = []

    def _make(n_ranges: int = 1, mode: str = "route", agents: bool = True) -> Cluster:
        suffix = uuid.uuid4().hex[:6]
        ranges = {
            f"ha{i}_{suffix}": RangeConfig(
                f"ha{i}_{suffix}", f"ha{i}_{suffix}", initial_owner="dc1"
            )
            for i in range(n_ranges)
        }
        cfg = replace(
            sandbox_config,
            ranges=ranges,
            mode=mode,
            local_site=None,
            store=replace(sandbox_config.store, keyspace="mdbc_chaos"),
            source=None,
        )
        path = save(cfg, tmp_path / f"mdbc-{suffix}.toml")
        store = open_store(cfg.store, create=True)
        initialize(cfg, store=store)
        logs = tmp_path / f"logs-{suffix}"
        logs.mkdir()
        cluster = Cluster(cfg, path, store, running, logs)
        made.append(cluster)
        if agents:
            cluster.start_agent("dc1")  # the initial owner first (see wait_owner_leases)
            cluster.wait_owner_leases()
            for site in cfg.sites:
                if site != "dc1":
                    cluster.start_agent(site)
        return cluster

    yield _make
    for cluster in made:
        for w in cluster.writers:
            w.terminate()
        for w in cluster.writers:
            w.wait()
        for site in list(cluster.agents):
            cluster.stop_agent(site)
        cluster.store.close()
    Runtime.reset_all()


@pytest.fixture()
def faults() -> Iterator[Faults]:
    """Fault-injecting links (``faults.link(name, target)``), all closed after the test."""
    made = Faults()
    yield made
    made.close()


class Writer:
    """Threads committing one-row transactions through mdbc_py, remembering what was acknowledged.

    Each logical transaction is retried (``mdbc_py.retry``) on retryable
    errors; ``errors[i]`` counts the retryable errors transaction ``i`` saw.
    """

    def __init__(
        self, cfg: Config, db: str, table: str, threads: int = 4, home: str = "dc1"
    ) -> None:
        self.cfg = cfg
        self.db = db
        self.table = table
        self.threads = threads
        self.home = home
        self.stop = threading.Event()
        self.acked: list[int] = []
        self.errors: dict[int, int] = {}
        self.failed: list[str] = []
        self._lock = threading.Lock()
        self._next = 0
        self._pool: list[threading.Thread] = []

    def _id(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def _work(self, worker: int) -> None:
        conn: Any = None
        retry_on = (mdbc_py.RetryableError, pymysql.err.OperationalError)
        while not self.stop.is_set():
            ident = self._id()
            tries = 0
            try:
                for attempt in mdbc_py.retrying(attempts=10, backoff=0.1, retry_on=retry_on):
                    with attempt:
                        tries += 1
                        try:
                            if conn is None:
                                conn = mdbc_py.connect(
                                    site=self.home, config=self.cfg, database=self.db
                                )
                            cur = conn.cursor()
                            cur.execute(
                                f"INSERT INTO `{self.table}` (id, worker, v) VALUES (%s, %s, %s)",
                                (ident, worker, "x" * 100),
                            )
                            conn.commit()
                        except pymysql.err.OperationalError:
                            if conn is not None:  # the session is broken: open a new one
                                with contextlib.suppress(Exception):
                                    conn.close()
                            conn = None
                            raise
            except Exception as exc:
                with self._lock:
                    self.failed.append(f"{ident}: {type(exc).__name__}: {exc}")
                continue
            with self._lock:
                self.acked.append(ident)
                self.errors[ident] = tries - 1
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def start(self) -> Writer:
        self._pool = [threading.Thread(target=self._work, args=(i,)) for i in range(self.threads)]
        for t in self._pool:
            t.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        for t in self._pool:
            t.join(timeout=120)


@pytest.fixture()
def writer_factory() -> Iterator[Callable[..., Writer]]:
    made: list[Writer] = []

    def _make(*args: object, **kwargs: object) -> Writer:
        w = Writer(*args, **kwargs)  # type: ignore[arg-type]
        made.append(w)
        return w

    yield _make
    for w in made:
        w.finish()
