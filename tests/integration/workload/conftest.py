"""Fixtures of the workload tests: fresh SO ranges on the session sandbox, and agents.

Every test gets three fresh databases (fresh range names, so empty logs)
owned by dc1, in the store keyspace ``mdbc_workload``, with the
configuration in mode ``route`` written to the test's folder. Agents, when
a test asks for them, run in-process (one thread per site).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig, load, save
from mdbc_py.core.runtime import Runtime
from mdbc_py.music import MusicStore, open_store
from mdbc_py.replication.agent import Agent, AgentSettings
from mdbc_py.sandbox import Sandbox
from mdbc_py.workload import SoDatabases

KEYSPACE = "mdbc_workload"


@dataclass
class SoCluster:
    """A test's configuration, its SO database names and a store session."""

    cfg: Config
    dbs: SoDatabases
    store: MusicStore

    @property
    def ranges(self) -> list[str]:
        return sorted(self.cfg.ranges)


@pytest.fixture()
def so_cluster(sandbox_config: Config, running: Sandbox, tmp_path: Path) -> Iterator[SoCluster]:
    """Fresh catalog, request and Camunda ranges, initialised at every site."""
    suffix = uuid.uuid4().hex[:6]
    dbs = SoDatabases(f"so_cat_{suffix}", f"so_req_{suffix}", f"so_bpm_{suffix}")
    ranges = {db: RangeConfig(db, db, initial_owner="dc1") for db in dbs.all()}
    cfg = replace(
        sandbox_config,
        ranges=ranges,
        mode="route",
        local_site=None,
        source=None,
        store=replace(sandbox_config.store, keyspace=KEYSPACE),
    )
    cfg = load(save(cfg, tmp_path / f"mdbc-{suffix}.toml"))
    store = open_store(cfg.store, create=True)
    initialize(cfg, store=store)
    yield SoCluster(cfg, dbs, store)
    Runtime.for_config(cfg).close()
    store.close()


@pytest.fixture()
def agents(so_cluster: SoCluster) -> Iterator[list[Agent]]:
    """One agent per site, each in a thread of this process; stopped after the test."""
    settings = AgentSettings(lease_ttl=2.0, renew_every=0.5, interval=0.2)
    running_agents = [Agent(so_cluster.cfg, site, settings) for site in so_cluster.cfg.sites]
    threads = [threading.Thread(target=a.run, daemon=True) for a in running_agents]
    for thread in threads:
        thread.start()
    yield running_agents
    for agent in running_agents:
        agent.stop()
    for thread in threads:
        thread.join(timeout=15)
    for agent in running_agents:
        agent.store.close()
