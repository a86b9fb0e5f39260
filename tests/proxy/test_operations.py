"""Operating ``mdbc proxy``: its metrics and ``/health``, and its line in ``mdbc status``.

Each test runs the real thing: ``mdbc proxy`` as a process (or a
``ProxyServer`` with the endpoint code ``mdbc proxy`` serves it with),
clients over TCP, the endpoint scraped over HTTP, ``mdbc status`` as a
process reading the store.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pymysql
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mdbc_py.config import Config, save
from mdbc_py.metrics import serve
from mdbc_py.proxy import ProxyServer, ProxySettings
from tests.proxy.conftest import table_name, via_proxy, wait_until


class ProxyProcess:
    """``mdbc proxy`` in a child process; its stderr goes to a file read for addresses."""

    def __init__(self, cfg: Config, tmp_path: Path, *args: str) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.config = save(cfg, tmp_path / "mdbc.toml")
        self.log = tmp_path / "proxy.log"
        self.cfg = cfg
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "proxy", "--site", "dc1",
                 "--listen", "127.0.0.1:0", "--metrics-listen", "0", *args,
                 "-c", str(self.config)],
                stderr=err,
                text=True,
            )  # fmt: skip
        self.port = int(self._find("mdbc proxy for site dc1 on 127.0.0.1:"))
        self.metrics_port = int(self._find("metrics on http://127.0.0.1:").split("/")[0])

    def _find(self, prefix: str) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.log.read_text().splitlines():
                if line.startswith(prefix):
                    return line[len(prefix) :]
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.05)
        raise AssertionError(f"no line {prefix!r} in:\n{self.log.read_text()}")

    def connect(self, **kwargs: Any) -> pymysql.Connection:
        args = via_proxy(self.cfg.site("dc1"), ("127.0.0.1", self.port))
        return pymysql.connect(**{**args, **kwargs})

    def get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def samples(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        status, body = self.get("/metrics")
        assert status == 200
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
        }

    def status_rows(self) -> list[dict[str, Any]]:
        """This proxy's rows of ``mdbc status -o json`` (other proxies share the keyspace)."""
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "status", "-o", "json", "-c", str(self.config)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode in (0, 1), done.stderr  # 1: no agents run in these tests
        rows = json.loads(done.stdout)
        return [r for r in rows if r["role"] == "proxy" and r["listen"] == f"127.0.0.1:{self.port}"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture()
def process(proxy_cfg: Config, tmp_path: Path) -> Iterator[Callable[..., ProxyProcess]]:
    started: list[ProxyProcess] = []

    def start(*args: str) -> ProxyProcess:
        started.append(ProxyProcess(proxy_cfg, tmp_path / str(len(started)), *args))
        return started[-1]

    yield start
    for p in started:
        p.stop()


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset({"site": "dc1", **labels}.items())), 0.0)


def test_metrics_health_and_status_line_through_a_drain(
    process: Callable[..., ProxyProcess], range_a: str, range_b: str
) -> None:
    proxy = process("--drain-seconds", "60")
    wait_until(lambda: proxy.get("/health")[0] == 200, "the proxy never became healthy")
    health = json.loads(proxy.get("/health")[1])
    assert (health["database"], health["store"], health["draining"]) == ("up", "up", False)
    assert proxy.get("/health/live")[0] == 200
    before = proxy.samples()

    conn = proxy.connect(database=range_a, autocommit=True)
    t = table_name()
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY)")
        cur.execute("SELECT 1")
        cur.execute(f"INSERT INTO {t} VALUES (1)")  # autocommit: one logged commit
        cur.execute("BEGIN")
        cur.execute(f"INSERT INTO {t} VALUES (2)")
        cur.execute("COMMIT")  # a second one
    other = proxy.connect(database=range_b)
    with pytest.raises(pymysql.err.OperationalError) as refused, other.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS w (id INT PRIMARY KEY)")
    assert refused.value.args[0] == 1290

    after = proxy.samples()
    assert value(after, "mdbc_proxy_sessions_open") == 2
    assert (
        value(after, "mdbc_proxy_sessions_total") - value(before, "mdbc_proxy_sessions_total") == 2
    )
    for kind, n in (("ddl", 1), ("read", 1), ("write", 2), ("tcl", 2)):
        name = "mdbc_proxy_statements_total"
        assert value(after, name, kind=kind) - value(before, name, kind=kind) >= n, kind
    ok = value(after, "mdbc_proxy_commits_total", range=range_a, result="ok")
    assert ok - value(before, "mdbc_proxy_commits_total", range=range_a, result="ok") == 2
    count = value(after, "mdbc_proxy_commit_seconds_count", range=range_a)
    assert count - value(before, "mdbc_proxy_commit_seconds_count", range=range_a) == 2
    assert (
        value(after, "mdbc_proxy_errors_total", **{"class": "NotOwnerError", "code": "1290"}) == 1
    )
    assert value(after, "mdbc_proxy_database_up") == 1
    assert value(after, "mdbc_proxy_store_up") == 1
    wait_until(
        lambda: [(r["state"], r["sessions"]) for r in proxy.status_rows()] == [("up", 2)],
        "mdbc status does not show the proxy up with its 2 sessions",
        30,
    )

    other.close()
    with conn.cursor() as cur:  # a transaction stays open through the drain
        cur.execute("BEGIN")
        cur.execute(f"INSERT INTO {t} VALUES (3)")
    proxy.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: proxy.get("/health")[0] == 503, "a draining proxy still reports healthy")
    health = json.loads(proxy.get("/health")[1])
    assert health["draining"] is True and "draining" in health["problems"][0]
    assert proxy.get("/health/live")[0] == 200  # draining is not dead
    assert value(proxy.samples(), "mdbc_proxy_draining") == 1
    wait_until(
        lambda: [r["state"] for r in proxy.status_rows()] == ["draining"],
        "mdbc status does not show the proxy draining",
        30,
    )
    with conn.cursor() as cur:
        cur.execute("COMMIT")
    conn.close()
    assert proxy.proc.wait(timeout=60) == 0
    (row,) = proxy.status_rows()
    assert (row["state"], row["sessions"], row["site"]) == ("stopped", 0, "dc1")


def test_a_killed_proxy_shows_as_gone(process: Callable[..., ProxyProcess]) -> None:
    proxy = process("--heartbeat-seconds", "0.2")
    wait_until(lambda: [r["state"] for r in proxy.status_rows()] == ["up"], "never shown up", 30)
    proxy.proc.kill()
    proxy.proc.wait(timeout=30)
    wait_until(lambda: [r["state"] for r in proxy.status_rows()] == ["gone"], "never gone", 30)
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "status", "-c", str(proxy.config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    line = f"127.0.0.1:{proxy.port}"
    assert any(line in out and "gone" in out for out in done.stdout.splitlines()), done.stdout
    assert "unhealthy: dc1: proxy " in done.stderr and f"({line}) is gone" in done.stderr


def test_health_is_503_while_database_and_store_are_unreachable(
    proxy_cfg: Config, unused_port: int
) -> None:
    site = replace(proxy_cfg.site("dc1"), port=unused_port, unix_socket=None)
    store = replace(proxy_cfg.store, contact_points=("127.0.0.1",), port=unused_port)
    cfg = replace(proxy_cfg, sites={**proxy_cfg.sites, "dc1": site}, store=store)
    server = ProxyServer(cfg, "dc1", ProxySettings(port=0, heartbeat_seconds=0.2))
    server.start()
    endpoint = serve(server.metrics, "127.0.0.1", 0, server.monitor.health, server.monitor.liveness)
    url = f"http://127.0.0.1:{endpoint.server_port}/health"
    try:
        wait_until(lambda: server.monitor.checked_at is not None, "no health check ran", 60)
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(url, timeout=10)
        assert answer.value.code == 503
        health = json.loads(answer.value.read())
        assert (health["healthy"], health["database"], health["store"]) == (False, "down", "down")
        assert any(p.startswith("database down: ") for p in health["problems"])
        assert any(p.startswith("store down: ") for p in health["problems"])
        assert site.password not in json.dumps(health)
        body = urllib.request.urlopen(url.replace("/health", "/metrics"), timeout=10).read()
        assert b'mdbc_proxy_database_up{site="dc1"} 0.0' in body
        assert b'mdbc_proxy_store_up{site="dc1"} 0.0' in body
    finally:
        endpoint.shutdown()
        endpoint.server_close()
        server.stop(drain_seconds=0)


@pytest.fixture()
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_store_never_initialised_is_store_down_not_a_crash(proxy_cfg: Config) -> None:
    """A keyspace that does not exist: the check says so each time, it does not die."""
    cfg = replace(proxy_cfg, store=replace(proxy_cfg.store, keyspace="mdbc_never_initialised"))
    server = ProxyServer(cfg, "dc1", ProxySettings(port=0, heartbeat_seconds=0.2))
    server.start()
    try:
        wait_until(lambda: server.monitor.checked_at is not None, "no health check ran", 60)
        first = server.monitor.checked_at
        wait_until(lambda: server.monitor.checked_at != first, "the check timer died", 30)
        health = server.monitor.health()
        assert (health["healthy"], health["database"], health["store"]) == (False, "up", "down")
        assert "mdbc_never_initialised" in health["problems"][0], health
        assert server.monitor.liveness()["live"] is True
    finally:
        server.stop(drain_seconds=0)
