"""Fixtures of the proxy tests: fresh ranges, an in-process ``mdbc proxy`` per site.

The proxies run in the test process (threads, on free loopback ports) over
the session sandbox, with ranges of fresh names in keyspace
``mdbc_proxy``: ``pxa_*`` owned by dc1 (the proxy tests write there, and
the driver writes the same workload there for comparison), ``pxb_*``
owned by dc2 (writes through dc1's proxy must be refused), ``pxf_*``
owned by dc1 and fenced by a test.

On a secure sandbox (``MDBC_TEST_SECURE=1``) the proxies reach the sites
over TLS (their ``[sites.NAME.tls]``) while the tests' clients connect to
the proxies in plaintext (:func:`via_proxy`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pymysql
import pytest

from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig, SiteConfig
from mdbc_py.core.runtime import Runtime
from mdbc_py.music import MusicStore, open_store
from mdbc_py.proxy import ProxyServer, ProxySettings
from tests.proxy.java_support import JavaChecks, compile_checks

KEYSPACE = "mdbc_proxy"


def make_config(base: Config, owners: dict[str, str]) -> Config:
    """A Config over the sandbox's sites and store with ranges named and owned as given."""
    ranges = {n: RangeConfig(name=n, database=n, initial_owner=o) for n, o in owners.items()}
    return Config(
        sites=base.sites,
        store=replace(base.store, keyspace=KEYSPACE),
        ranges=ranges,
        local_site=None,
        mode="master-slave",
        source=None,
    )


def via_proxy(site: SiteConfig, address: tuple[str, int]) -> dict[str, Any]:
    """``pymysql.connect`` arguments for the site's account at a proxy: no TLS to the proxy.

    The site's own ``ssl`` settings are for MariaDB; these proxies listen
    without a certificate (a secure sandbox's sites are reached over TLS by
    the proxy itself). Listener TLS has its own tests.
    """
    args = {**site.connect_kwargs(), "host": address[0], "port": address[1]}
    args.pop("ssl", None)
    return args


def ssl_version(conn: pymysql.Connection) -> str:
    """The TLS version of a session's link to MariaDB, as the server sees it ('' for plaintext).

    Through the proxy: its backend session's link, not the client's.
    """
    with conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        row = cur.fetchone()
    return str(row[1]) if row else ""


def wait_until(condition: Callable[[], object], what: str, seconds: float = 20) -> None:
    """Poll ``condition`` (bounded); fail saying ``what`` did not happen."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {seconds:g} s: {what}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def proxy_cfg(sandbox_config: Config) -> Iterator[Config]:
    suffix = uuid.uuid4().hex[:6]
    owners = {f"pxa_{suffix}": "dc1", f"pxb_{suffix}": "dc2", f"pxf_{suffix}": "dc1"}
    cfg = make_config(sandbox_config, owners)
    initialize(cfg)
    yield cfg
    Runtime.reset_all()


@pytest.fixture(scope="session")
def range_a(proxy_cfg: Config) -> str:
    """The range dc1 owns."""
    return sorted(proxy_cfg.ranges)[0]


@pytest.fixture(scope="session")
def range_b(proxy_cfg: Config) -> str:
    """The range dc2 owns."""
    return sorted(proxy_cfg.ranges)[1]


@pytest.fixture(scope="session")
def range_fenced(proxy_cfg: Config) -> str:
    """A range dc1 owns until a test fences it."""
    return sorted(proxy_cfg.ranges)[2]


@pytest.fixture(scope="session")
def store(proxy_cfg: Config) -> Iterator[MusicStore]:
    s = open_store(proxy_cfg.store, create=False)
    yield s
    s.close()


@pytest.fixture(scope="session")
def proxy(proxy_cfg: Config) -> Iterator[ProxyServer]:
    """dc1's proxy, in this process, on a free port."""
    server = ProxyServer(proxy_cfg, "dc1", ProxySettings(port=0, drain_seconds=2))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def java_checks(tmp_path_factory: pytest.TempPathFactory) -> JavaChecks:
    """The Java clients of tests/java, compiled once per run."""
    return compile_checks(tmp_path_factory.mktemp("java-checks"))


@pytest.fixture()
def connect(proxy_cfg: Config, proxy: ProxyServer) -> Iterator[Callable[..., Any]]:
    """``connect(**kw)``: PyMySQL connections through dc1's proxy, closed after the test."""
    yield from proxy_connections(proxy_cfg.site("dc1"), proxy.address)


def proxy_connections(
    site: SiteConfig, address: tuple[str, int]
) -> Iterator[Callable[..., pymysql.Connection]]:
    """Yield ``connect(**kw)`` (``site``'s account at the proxy); close what it opened after.

    For fixtures: ``yield from proxy_connections(...)``.
    """
    opened: list[pymysql.Connection] = []

    def _connect(**kwargs: Any) -> pymysql.Connection:
        conn = pymysql.connect(**{**via_proxy(site, address), **kwargs})
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        if conn.open:
            conn.close()


@pytest.fixture()
def raw(proxy_cfg: Config) -> Iterator[Callable[..., pymysql.Connection]]:
    """Plain PyMySQL connections straight to a site, for checking what is really there."""
    opened: list[pymysql.Connection] = []

    def _raw(site: str = "dc1") -> pymysql.Connection:
        conn = pymysql.connect(**proxy_cfg.site(site).connect_kwargs(), autocommit=True)
        opened.append(conn)
        return conn

    yield _raw
    for conn in opened:
        conn.close()


def table_name() -> str:
    return f"t_{uuid.uuid4().hex[:8]}"


def rows(raw: Callable[..., pymysql.Connection], sql: str) -> tuple[tuple[Any, ...], ...]:
    with raw().cursor() as cur:
        cur.execute(sql)
        return tuple(cur.fetchall())


def staged(raw: Callable[..., pymysql.Connection], db: str, table: str) -> int:
    """Rows left in the table's shadow (the commit path must clear what it logged)."""
    return int(rows(raw, f"SELECT COUNT(*) FROM `mdbc_stage_{db}`.`mdbc_s_{table}`")[0][0])
