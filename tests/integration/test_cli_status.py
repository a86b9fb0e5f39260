"""``mdbc status`` exits 1 when a site is unreachable or unhealthy, and prints the table anyway.

The agents are stood in for by a thread that heartbeats every site as an
agent does (with its own view of its database), so the test controls what
the registry says without waiting for real agents or for staleness.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig, save
from mdbc_py.music import MusicStore, open_store
from tests.conftest import with_password

KEYSPACE = "mdbc_cli"
WRONG = "Wr0ng-Passw0rd"


class FakeAgents:
    """Heartbeats every site every 0.2 s, reporting ``db`` as each site's view of its database."""

    def __init__(self, store: MusicStore, sites: list[str]) -> None:
        self.store = store
        self.db = dict.fromkeys(sites, "up")
        self._stop = threading.Event()
        self._beat()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        for site, db in dict(self.db).items():
            self.store.register_site(site, {"db": db})
            self.store.heartbeat(site)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._beat()

    def set_db(self, site: str, db: str) -> None:
        self.db[site] = db
        self._beat()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture()
def cluster(sandbox_config: Config, running, tmp_path: Path) -> Iterator[tuple[Config, FakeAgents]]:  # type: ignore[no-untyped-def]
    name = f"cli_{uuid.uuid4().hex[:6]}"
    cfg = dataclasses.replace(
        sandbox_config,
        ranges={name: RangeConfig(name, name, initial_owner="dc1")},
        store=dataclasses.replace(sandbox_config.store, keyspace=KEYSPACE),
        local_site=None,
        source=None,
    )
    store = open_store(cfg.store, create=True)
    initialize(cfg, store=store)
    agents = FakeAgents(store, list(cfg.sites))
    try:
        yield cfg, agents
    finally:
        agents.stop()
        store.close()


def status(cfg: Config, tmp_path: Path, *args: str) -> Result:
    path = save(cfg, tmp_path / f"mdbc-{uuid.uuid4().hex[:6]}.toml")
    return CliRunner().invoke(cli, ["status", "-c", str(path), *args])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_all_sites_reachable_and_streaming_exits_0(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg, _ = cluster
    result = status(cfg, tmp_path)
    assert result.exit_code == 0, result.output
    assert "owner" in result.stdout and "streaming" in result.stdout
    assert "unhealthy" not in result.stderr


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"password": WRONG}, "Access denied"),
        ({"port": None}, "Can't connect"),
    ],
    ids=["wrong-password", "nothing-listening"],
)
def test_a_site_that_cannot_be_reached_makes_status_exit_1(
    cluster, tmp_path: Path, change: dict[str, object], reason: str
) -> None:  # type: ignore[no-untyped-def]
    cfg, _ = cluster
    change = {k: (_closed_port() if v is None else v) for k, v in change.items()}
    sites = dict(cfg.sites)
    dc2 = sites["dc2"]
    if "password" in change:  # drops the secure sandbox's password_file too
        dc2 = with_password(dc2, str(change.pop("password")))
    sites["dc2"] = dataclasses.replace(dc2, **change)  # type: ignore[arg-type]
    broken = dataclasses.replace(cfg, sites=sites)

    result = status(broken, tmp_path)
    assert result.exit_code == 1, result.output
    assert "owner" in result.stdout and "dc3" in result.stdout  # the table is still printed
    problems = [line for line in result.stderr.splitlines() if line.startswith("unhealthy:")]
    assert len(problems) == 1, result.stderr
    assert (
        problems[0].startswith("unhealthy: dc2: cannot connect to MariaDB")
        and reason in problems[0]
    )
    for site in broken.sites.values():
        assert site.password not in result.output

    as_json = status(broken, tmp_path, "-o", "json")
    assert as_json.exit_code == 1
    assert {r["site"] for r in json.loads(as_json.stdout)} == set(cfg.sites)


def test_a_replica_whose_agent_reports_its_database_down_makes_status_exit_1(
    cluster, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cfg, agents = cluster
    agents.set_db("dc3", "down")
    result = status(cfg, tmp_path)
    assert result.exit_code == 1, result.output
    (rng,) = cfg.ranges
    assert f"unhealthy: dc3: range {rng} is db-down" in result.stderr
    assert "db-down" in result.stdout
