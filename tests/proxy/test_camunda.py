"""The Camunda 7 engine through ``mdbc proxy`` while the owner's MariaDB is killed.

SO's BPMN infrastructure, reduced to what matters here: a standalone
Camunda engine (CamundaKillCheck of the Maven module in tests/java) with
Connector/J and a HikariCP pool, whose JDBC URL names the proxy. The
engine creates its tables through the proxy (``databaseSchemaUpdate=true``;
each DDL is logged as the driver logs it), deploys a process with two
``asyncBefore`` save points and runs its instances on the job executor.

The range's owner is dc1; an agent runs at every site (as processes, as in
tests/chaos). Mid-run dc1's MariaDB is killed with SIGKILL. The proxy runs
in mode ``route``: sessions cut by the kill end with a retryable error,
new sessions wait at the proxy until an agent has promoted another site and
then log in there, so the engine's URL never changes. Camunda retries the
jobs whose transactions were lost (optimistic locking keeps a job that did
commit from running again). Afterwards every instance has completed
exactly once (one mark per instance and step, written in the engine's own
transactions), and once dc1 is back and caught up, ``mdbc verify`` finds
every site identical.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pymysql
import pytest

from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig, save
from mdbc_py.core.runtime import Runtime
from mdbc_py.log import decode
from mdbc_py.music import open_store
from mdbc_py.proxy import ProxyServer, ProxySettings
from mdbc_py.sandbox import Sandbox
from mdbc_py.workload.camunda.engine import jdbc_url
from tests.chaos.conftest import Cluster
from tests.proxy.java_support import JavaChecks

INSTANCES = 60
JAVA_WAIT_SECONDS = 100
"""How long the engine may take to complete every instance (the failover included)."""

SITES = ("dc1", "dc2", "dc3")
CREATE_TABLE = re.compile(r"^\s*create\s+table\s", re.IGNORECASE | re.MULTILINE)
"""A DDL entry that creates a table (Camunda's statements start with comment lines)."""


@pytest.fixture()
def cluster(sandbox_config: Config, running: Sandbox, tmp_path: Path) -> Iterator[Cluster]:
    """A fresh range owned by dc1, mode route, an ``mdbc agent`` process per site."""
    name = f"cam_{uuid.uuid4().hex[:6]}"
    cfg = replace(
        sandbox_config,
        ranges={name: RangeConfig(name, name, initial_owner="dc1")},
        mode="route",
        local_site=None,
        store=replace(sandbox_config.store, keyspace="mdbc_chaos"),
        source=None,
    )
    path = save(cfg, tmp_path / "mdbc.toml")
    store = open_store(cfg.store, create=True)
    initialize(cfg, store=store)
    logs = tmp_path / "logs"
    logs.mkdir()
    made = Cluster(cfg, path, store, running, logs)
    made.start_agent("dc1")
    made.wait_owner_leases()
    for site in SITES[1:]:
        made.start_agent(site)
    try:
        yield made
    finally:
        for site in list(made.agents):
            made.stop_agent(site)
        store.close()
        Runtime.reset_all()


class Lines:
    """A process's stdout, line by line, with a bounded wait for an expected line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, prefix: str, seconds: float, why: Callable[[], str]) -> str:
        deadline = time.monotonic() + seconds
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no {prefix!r} from the engine; saw {self.seen}\n{why()}")
            self.seen.append(line)
            print(f"[{time.strftime('%H:%M:%S')}] engine: {line}", flush=True)
            if line.startswith(prefix):
                return line


def query(cfg: Config, site: str, sql: str) -> tuple[tuple[Any, ...], ...]:
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), autocommit=True, connect_timeout=2)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return tuple(cur.fetchall())
    finally:
        conn.close()


def test_camunda_completes_every_instance_once_across_a_kill_of_the_owner(
    cluster: Cluster, java_checks: JavaChecks, tmp_path: Path
) -> None:
    cfg = cluster.cfg
    db = cluster.ranges[0]
    proxy = ProxyServer(cfg, "dc1", ProxySettings(port=0, drain_seconds=2))
    host, port = proxy.start()
    site = cfg.site("dc1")
    stderr = tmp_path / "camunda.log"
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            java_checks.command(
                "CamundaKillCheck",
                [jdbc_url(host, port, db), str(INSTANCES), str(JAVA_WAIT_SECONDS)],
            ),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "MDBC_JDBC_USER": site.user, "MDBC_JDBC_PASSWORD": site.password},
        )
    lines = Lines(proc)

    def why() -> str:
        return f"{stderr.read_text(errors='replace')[-3000:]}\n{cluster.agent_logs()}"

    try:
        lines.expect("engine ok", 120, why)
        lines.expect("started", 60, why)
        marks = f"SELECT COUNT(*) FROM `{db}`.so_marks"
        deadline = time.monotonic() + 60
        while query(cfg, "dc1", marks)[0][0] < INSTANCES // 2:
            assert time.monotonic() < deadline, f"the engine made no progress\n{why()}"
            time.sleep(0.05)
        cluster.sandbox.kill("dc1")
        new_owner = cluster.wait_owner(db, not_site="dc1")
        after_kill = query(cfg, new_owner, marks)[0][0]
        done = lines.expect("done", JAVA_WAIT_SECONDS + 30, why)
        assert done == f"done {INSTANCES}"
        assert proc.wait(timeout=60) == 0, why()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proxy.stop()

    def at_owner(sql: str) -> tuple[tuple[Any, ...], ...]:
        return query(cfg, new_owner, sql)

    steps = at_owner(
        f"SELECT step, COUNT(*), COUNT(DISTINCT business_key) FROM `{db}`.so_marks "
        "GROUP BY step ORDER BY step"
    )
    assert steps == (("finish", INSTANCES, INSTANCES), ("work", INSTANCES, INSTANCES)), (
        "each step of each instance ran and committed exactly once"
    )
    assert after_kill < 2 * INSTANCES, "the run had ended before the kill: nothing was tested"
    assert at_owner(
        f"SELECT COUNT(*), COUNT(DISTINCT BUSINESS_KEY_) FROM `{db}`.ACT_HI_PROCINST "
        "WHERE STATE_ = 'COMPLETED' AND END_TIME_ IS NOT NULL"
    ) == ((INSTANCES, INSTANCES),)
    for table in ("ACT_RU_EXECUTION", "ACT_RU_JOB", "ACT_RU_INCIDENT"):
        assert at_owner(f"SELECT COUNT(*) FROM `{db}`.{table}") == ((0,),), table

    # The engine's tables were created through the proxy and logged as DDL entries.
    created = [
        e.ddl.sql
        for e in (decode(r.payload) for r in cluster.store.iter_entries(db, 1))
        if e.ddl is not None and CREATE_TABLE.search(e.ddl.sql)
    ]
    act_tables = at_owner(
        "SELECT COUNT(*) FROM information_schema.tables "
        f"WHERE table_schema = '{db}' AND table_name LIKE 'ACT\\_%'"
    )[0][0]
    assert (act_tables, len(created)) == (49, 50), "Camunda's 49 tables and so_marks, logged"

    cluster.sandbox.start("dc1")  # the old owner rejoins as a replica and catches up
    cluster.wait_caught_up(db, list(SITES))
    verified = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", db, "-o", "json", "-c", str(cluster.path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report, "verify compared nothing"
