"""A real Prometheus (Debian's server, on loopback) scrapes live agents and a driver process.

Two agents run against the sandbox (their own range and keyspace) with
``--metrics-port``, and a driver process commits into the range at its owner
with ``MDBC_METRICS_PORT`` set; Prometheus scrapes all three every second
with ``deploy/prometheus/mdbc-rules.yml`` loaded. Its query API must return
the owner, lease and lag series of both sites, naming the owner the store
names, the driver's commit-latency series, and report every rule loaded and
healthy.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig, save
from mdbc_py.music import open_store
from mdbc_py.sandbox import Sandbox
from tests.deploy.conftest import REPO, RULES, tool

pytestmark = pytest.mark.services

SITES = ("dc1", "dc2")
DRIVER_CHILD = REPO / "tests" / "integration" / "driver" / "metrics_child.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], what: str, seconds: float = 90) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as exc:  # not listening yet
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.5)
    pytest.fail(f"gave up waiting for {what}; last answer: {last!r}", pytrace=False)


def query(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return body["data"]["result"]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture()
def agents(
    sandbox_config: Config, running: Sandbox, tmp_path: Path
) -> Iterator[tuple[Config, dict[str, int]]]:
    """Agents of dc1 and dc2 for a fresh range, each serving /metrics on its own port."""
    name = f"scrape_{uuid.uuid4().hex[:6]}"
    cfg = replace(
        sandbox_config,
        sites={s: sandbox_config.sites[s] for s in SITES},
        ranges={name: RangeConfig(name, name, initial_owner="dc1")},
        local_site=None,
        store=replace(sandbox_config.store, keyspace="mdbc_deploy"),
        source=None,
    )
    path = save(cfg, tmp_path / "mdbc.toml")
    store = open_store(cfg.store, create=True)
    initialize(cfg, store=store)
    store.close()
    ports = {site: free_port() for site in SITES}
    procs = []
    for site, port in ports.items():
        log = open(tmp_path / f"agent-{site}.log", "ab")  # noqa: SIM115 - owned by the process
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cli.main",
                    "agent",
                    "--site",
                    site,
                    "-c",
                    str(path),
                    "--metrics-port",
                    str(port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        yield cfg, ports
    finally:
        for proc in procs:
            _stop(proc)


@pytest.fixture()
def driver(agents: tuple[Config, dict[str, int]], tmp_path: Path) -> Iterator[int]:
    """A driver process committing a row a second at dc1 with MDBC_METRICS_PORT; its port."""
    cfg, _ = agents
    (range_name,) = cfg.ranges
    port = free_port()
    ready = tmp_path / "driver-ready"
    log = open(tmp_path / "driver.log", "ab")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER_CHILD), "--config", str(tmp_path / "mdbc.toml"),
         "--database", cfg.ranges[range_name].database, "--commits", "3",
         "--ready", str(ready), "--forever"],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "MDBC_METRICS_PORT": str(port)},
    )  # fmt: skip
    try:
        wait_for(lambda: ready.exists() or proc.poll() is not None, "the driver's first commits")
        assert proc.poll() is None, (tmp_path / "driver.log").read_text()[-2000:]
        assert int(ready.read_text()) == port
        yield port
    finally:
        _stop(proc)


@pytest.fixture()
def prometheus(agents: tuple[Config, dict[str, int]], driver: int, tmp_path: Path) -> Iterator[str]:
    """Debian's Prometheus server on loopback, scraping the agents and the driver."""
    binary = tool("prometheus")
    _, ports = agents
    port = free_port()
    (tmp_path / "mdbc-rules.yml").write_text(RULES.read_text())
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["mdbc-rules.yml"],
        "scrape_configs": [
            {
                "job_name": "mdbc-agents",
                "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in ports.values()]}],
            },
            {"job_name": "mdbc-driver", "static_configs": [{"targets": [f"127.0.0.1:{driver}"]}]},
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = open(tmp_path / "prometheus.log", "ab")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


def test_prometheus_scrapes_owner_and_lag_of_live_agents(
    agents: tuple[Config, dict[str, int]], prometheus: str
) -> None:
    cfg, _ = agents
    (range_name,) = cfg.ranges
    sel = f'{{range="{range_name}"}}'
    owners = wait_for(
        lambda: (
            len(query(prometheus, f"mdbc_is_owner{sel}")) == len(SITES)
            and query(prometheus, f"mdbc_is_owner{sel} == 1")
        ),
        "Prometheus to have scraped mdbc_is_owner from both agents",
    )
    assert [o["metric"]["site"] for o in owners] == ["dc1"]  # the range's initial owner
    lag = wait_for(lambda: query(prometheus, f"mdbc_lag_entries{sel}"), "mdbc_lag_entries")
    assert {r["metric"]["site"] for r in lag} == set(SITES)
    up = query(prometheus, 'up{job="mdbc-agents"}')
    assert [r["value"][1] for r in up] == ["1", "1"]
    for series in ("mdbc_store_up", "mdbc_database_up"):
        assert {r["value"][1] for r in query(prometheus, series)} == {"1"}
    owner_info = query(prometheus, f"mdbc_range_owner_info{sel}")
    assert {(r["metric"]["site"], r["metric"]["owner"]) for r in owner_info} == {
        (s, "dc1") for s in SITES
    }
    leases = wait_for(
        lambda: [r for r in query(prometheus, f"mdbc_lease_remaining_seconds{sel}")
                 if float(r["value"][1]) > 0],
        "the owner's lease seen live",
    )  # fmt: skip
    assert leases


def test_prometheus_reads_the_commit_latency_of_a_live_driver(
    agents: tuple[Config, dict[str, int]], prometheus: str
) -> None:
    cfg, _ = agents
    (range_name,) = cfg.ranges
    sel = f'range="{range_name}",site="dc1"'
    counted = wait_for(
        lambda: query(prometheus, f"mdbc_driver_commit_seconds_count{{{sel}}} > 0"),
        "the driver's commit latency in Prometheus",
    )
    assert float(counted[0]["value"][1]) >= 3
    phases = wait_for(
        lambda: (
            (found := query(prometheus, f"mdbc_driver_commit_phase_seconds_count{{{sel}}}"))
            and len(found) == 3
            and found
        ),
        "the three phases of a commit",
    )
    assert {r["metric"]["phase"] for r in phases} == {"capture", "append", "local_commit"}
    p99 = wait_for(
        lambda: query(
            prometheus,
            "histogram_quantile(0.99, sum by (le) "
            f"(rate(mdbc_driver_commit_seconds_bucket{{{sel}}}[1m]))) > 0",
        ),
        "a commit-latency quantile",
    )
    assert 0 < float(p99[0]["value"][1]) < float("inf")
    ok = query(prometheus, f'mdbc_driver_commits_total{{{sel},result="ok"}}')
    assert float(ok[0]["value"][1]) >= 3
    assert query(prometheus, 'up{job="mdbc-driver"}')[0]["value"][1] == "1"


def test_prometheus_loads_every_rule_healthy(prometheus: str) -> None:
    def rules() -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=5) as resp:
            groups = json.load(resp)["data"]["groups"]
        return [
            r for g in groups for r in g["rules"] if r.get("lastEvaluation", "").startswith("2")
        ]

    expected = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    evaluated = wait_for(
        lambda: (found := rules()) and {r["name"] for r in found} == expected and found,
        "every rule evaluated once",
    )
    assert {r["health"] for r in evaluated} == {"ok"}, [r.get("lastError") for r in evaluated]
