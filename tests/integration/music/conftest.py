"""Fixtures of the store contract suite: every test runs on both backends.

The Cassandra runs use the session sandbox's real node (keyspace
``mdbc_contract``); the embedded runs a fresh SQLite file per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from mdbc_py.config import Config, StoreConfig
from mdbc_py.music import MusicStore
from tests.integration.music.workers import make_store


@pytest.fixture(params=["embedded", "cassandra"])
def store_cfg(request: pytest.FixtureRequest, tmp_path: Path) -> StoreConfig:
    if request.param == "cassandra":
        sandbox_config: Config = request.getfixturevalue("sandbox_config")
        cfg = replace(sandbox_config.store, keyspace="mdbc_contract")
        _create_schema(cfg)
        return cfg
    return StoreConfig(backend="embedded", path=str(tmp_path / "music.sqlite"))


_SCHEMA_DONE: set[str] = set()


def _create_schema(cfg: StoreConfig) -> None:
    if cfg.keyspace in _SCHEMA_DONE:
        return
    from mdbc_py.music.cassandra import CassandraStore

    CassandraStore(cfg).close()
    _SCHEMA_DONE.add(cfg.keyspace)


@pytest.fixture()
def store(store_cfg: StoreConfig) -> Iterator[MusicStore]:
    s = make_store(store_cfg)
    yield s
    s.close()


@pytest.fixture()
def range_name(store: MusicStore) -> str:
    name = f"r_{uuid.uuid4().hex[:12]}"
    store.create_range(name, "dc1")
    return name
