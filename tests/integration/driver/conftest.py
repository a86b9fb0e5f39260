"""Fixtures of the driver tests: a configuration with test ranges, initialised.

Every test session gets ranges with fresh names (so a reused sandbox starts
from an empty log), each range one database of the same name, owned by dc1,
on the sandbox's real Cassandra node (keyspace ``mdbc_driver``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pymysql
import pytest

import mdbc_py
from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig
from mdbc_py.core.runtime import Runtime
from mdbc_py.music import MusicStore, open_store


def make_config(base: Config, names: list[str], keyspace: str = "mdbc_driver") -> Config:
    """A Config over the sandbox's sites and store with ranges ``names`` owned by dc1."""
    ranges = {n: RangeConfig(name=n, database=n, initial_owner="dc1") for n in names}
    return Config(
        sites=base.sites,
        store=replace(base.store, keyspace=keyspace),
        ranges=ranges,
        local_site=None,
        mode="master-slave",
        source=None,
    )


@pytest.fixture(scope="session")
def driver_cfg(sandbox_config: Config) -> Iterator[Config]:
    suffix = uuid.uuid4().hex[:6]
    cfg = make_config(sandbox_config, [f"drva_{suffix}", f"drvb_{suffix}"])
    initialize(cfg)
    yield cfg
    Runtime.reset_all()


@pytest.fixture(scope="session")
def range_a(driver_cfg: Config) -> str:
    return sorted(driver_cfg.ranges)[0]


@pytest.fixture(scope="session")
def range_b(driver_cfg: Config) -> str:
    return sorted(driver_cfg.ranges)[1]


@pytest.fixture(scope="session")
def store(driver_cfg: Config) -> Iterator[MusicStore]:
    s = open_store(driver_cfg.store, create=False)
    yield s
    s.close()


@pytest.fixture()
def connect(driver_cfg: Config):  # type: ignore[no-untyped-def]
    """``connect(site="dc1", **kw)``: mdbc_py connections closed after the test."""
    opened: list[object] = []

    def _connect(site: str = "dc1", **kwargs):  # type: ignore[no-untyped-def]
        conn = mdbc_py.connect(site=site, config=driver_cfg, **kwargs)
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        if conn.open:  # type: ignore[attr-defined]
            conn.close()  # type: ignore[attr-defined]


@pytest.fixture()
def raw(driver_cfg: Config):  # type: ignore[no-untyped-def]
    """Plain PyMySQL connections to a site, for checking what is really there."""
    opened: list[pymysql.Connection] = []

    def _raw(site: str = "dc1", **kwargs):  # type: ignore[no-untyped-def]
        conn = pymysql.connect(**driver_cfg.site(site).connect_kwargs(), autocommit=True, **kwargs)
        opened.append(conn)
        return conn

    yield _raw
    for conn in opened:
        conn.close()
