"""Mode ``route``: a session's backend is the MariaDB of its database's owner.

The proxy runs at dc1; one range is owned by dc1, one by dc2. A login to
dc2's database is moved there with an auth-switch request (the greeting
came from dc1); a change of owner cuts a session at its next transaction
with a retryable error, and the next session lands at the new owner.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pymysql
import pytest

from mdbc_py.admin.init import initialize
from mdbc_py.config import Config
from mdbc_py.log import Op, decode
from mdbc_py.metrics import server_tls
from mdbc_py.music import MusicStore, RangeState
from mdbc_py.proxy import ProxyServer, ProxySettings
from mdbc_py.sandbox.certs import ensure_certificates
from tests.conftest import unavailable
from tests.proxy.conftest import (
    make_config,
    proxy_connections,
    rows,
    ssl_version,
    staged,
    via_proxy,
)


@pytest.fixture(scope="module")
def route_cfg(sandbox_config: Config) -> Config:
    suffix = uuid.uuid4().hex[:6]
    cfg = replace(
        make_config(sandbox_config, {f"pra_{suffix}": "dc1", f"prb_{suffix}": "dc2"}),
        mode="route",
    )
    initialize(cfg)
    return cfg


@pytest.fixture(scope="module")
def route_proxy(route_cfg: Config) -> Iterator[ProxyServer]:
    server = ProxyServer(route_cfg, "dc1", ProxySettings(port=0, drain_seconds=2))
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def via(route_cfg: Config, route_proxy: ProxyServer) -> Iterator[Callable[..., Any]]:
    """``via(database)``: an autocommit session through the route proxy, closed after the test."""
    connections = proxy_connections(route_cfg.site("dc1"), route_proxy.address)
    connect = next(connections)
    yield lambda database: connect(database=database, autocommit=True)
    next(connections, None)  # closes them


def port_of(conn: pymysql.Connection) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT @@port")
        return int(cur.fetchone()[0])


def test_a_login_lands_at_the_owner_of_its_database(
    via: Callable[..., pymysql.Connection],
    route_cfg: Config,
    store: MusicStore,
) -> None:
    ra, rb = sorted(route_cfg.ranges)
    at_dc1 = via(ra)
    assert port_of(at_dc1) == route_cfg.site("dc1").port
    at_dc2 = via(rb)  # greeting from dc1 (the ranges have two owners), login moved to dc2
    assert port_of(at_dc2) == route_cfg.site("dc2").port
    tls = route_cfg.site("dc2").tls is not None  # a secure sandbox's sites require TLS
    assert (bool(ssl_version(at_dc1)), bool(ssl_version(at_dc2))) == (tls, tls)
    tail = store.describe_range(rb).tail
    with at_dc2.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute("INSERT INTO t VALUES (1, 'routed')")
    entries = [decode(r.payload) for r in store.iter_entries(rb, tail + 1)]
    assert entries[0].ddl is not None and entries[0].origin_site == "dc2"
    assert [(c.op, c.row) for c in entries[1].changes] == [
        (Op.INSERT, (("id", 1), ("v", "routed")))
    ]
    assert entries[1].origin_site == "dc2"

    def raw(site: str = "dc2") -> pymysql.Connection:
        return pymysql.connect(**route_cfg.site(site).connect_kwargs(), autocommit=True)

    assert rows(raw, f"SELECT id, v FROM {rb}.t") == ((1, "routed"),)
    assert staged(raw, rb, "t") == 0


def test_a_change_of_owner_cuts_the_session_and_the_next_one_follows(
    via: Callable[..., pymysql.Connection],
    route_cfg: Config,
    route_proxy: ProxyServer,
    store: MusicStore,
) -> None:
    ra, _ = sorted(route_cfg.ranges)
    conn = via(ra)
    idle = via(ra)
    assert port_of(idle) == route_cfg.site("dc1").port
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE m (id INT PRIMARY KEY)")
        cur.execute("BEGIN")
        cur.execute("INSERT INTO m VALUES (1)")
    info = store.describe_range(ra)
    store.change_owner(ra, info.epoch, "dc2", reason="test route", state=RangeState.OPEN)
    route_proxy.runtime.forget_owner(ra)
    with pytest.raises(pymysql.err.OperationalError) as err, conn.cursor() as cur:
        cur.execute("INSERT INTO m VALUES (2)")  # mid-transaction: cut, retryable
    assert (err.value.args[0], err.value.sqlstate) == (1184, "08S01"), err.value.args
    assert "now owned by site 'dc2'" in err.value.args[1]
    assert store.describe_range(ra).tail == info.tail, "the cut transaction reached the log"

    with pytest.raises(pymysql.err.OperationalError) as err, idle.cursor() as cur:
        cur.execute("SELECT 1")  # between transactions: cut before anything ran
    assert (err.value.args[0], err.value.sqlstate) == (1184, "08S01"), err.value.args

    assert port_of(via(ra)) == route_cfg.site("dc2").port, "a new session lands at dc2"


def test_the_mysql_client_logs_in_at_the_owner_through_an_auth_switch(
    route_cfg: Config, route_proxy: ProxyServer
) -> None:
    """Debian's ``mysql`` answers the proxy's auth-switch request like a server's."""
    if shutil.which("mysql") is None:  # a failure in CI, a skip elsewhere
        unavailable("the mysql client is not installed (Debian's mariadb-client)")
    _, rb = sorted(route_cfg.ranges)
    site = route_cfg.site("dc1")
    host, port = route_proxy.address

    def mysql(password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["mysql", "--protocol=TCP", "-h", host, "-P", str(port), "-u", site.user,
             "--batch", "--skip-column-names", rb],
            input="SELECT @@port;\n",
            env={**os.environ, "MYSQL_PWD": password},
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip

    done = mysql(site.password)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(route_cfg.site("dc2").port)]
    wrong = mysql(site.password + "x")  # dc2 itself refuses it, through the switch
    assert wrong.returncode == 1
    assert "ERROR 1045 (28000)" in wrong.stderr, wrong.stderr


def test_a_tls_client_is_moved_to_the_owner_too(route_cfg: Config, tmp_path: Path) -> None:
    """Client TLS, the auth switch and the owner's backend TLS: each shifts sequence ids."""
    pki = ensure_certificates(tmp_path / "pki", ["127.0.0.1"])
    context = server_tls(str(pki.server_cert), str(pki.server_key))
    server = ProxyServer(route_cfg, "dc1", ProxySettings(port=0, drain_seconds=0, tls=context))
    server.start()
    try:
        _, rb = sorted(route_cfg.ranges)
        conn = pymysql.connect(
            **via_proxy(route_cfg.site("dc1"), server.address),
            ssl_ca=str(pki.ca),
            ssl_verify_identity=True,
            database=rb,
        )
        assert conn._sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[union-attr]
        assert port_of(conn) == route_cfg.site("dc2").port
        assert bool(ssl_version(conn)) == (route_cfg.site("dc2").tls is not None)
        conn.close()
    finally:
        server.stop(drain_seconds=0)
