"""Agents run as threads of the test process, for tests that look inside them.

``/health``, the metrics and a patched promotion are easier to reach in
process than through a subprocess; everything else (the store, the sandbox's
MariaDB servers) is as real as in the other failure tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pymysql

from mdbc_py.config import Config
from mdbc_py.replication.agent import Agent, AgentSettings

SETTINGS = AgentSettings(lease_ttl=2.0, renew_every=0.5, interval=0.2)


@dataclass
class InProcessAgents:
    """Agents by site, each looping in its own thread."""

    cfg: Config
    agents: dict[str, Agent] = field(default_factory=dict)
    threads: dict[str, threading.Thread] = field(default_factory=dict)
    failures: dict[str, BaseException] = field(default_factory=dict)

    def start(self, site: str, settings: AgentSettings = SETTINGS) -> Agent:
        agent = Agent(self.cfg, site, settings)

        def loop() -> None:
            try:
                agent.run()
            except BaseException as exc:  # reported by the test
                self.failures[site] = exc

        thread = threading.Thread(target=loop, name=f"agent-{site}", daemon=True)
        self.agents[site] = agent
        self.threads[site] = thread
        thread.start()
        return agent

    def stop(self, site: str) -> None:
        agent = self.agents.pop(site, None)
        thread = self.threads.pop(site, None)
        if agent is None or thread is None:
            return
        agent.stop()
        thread.join(timeout=20)
        agent.store.close()

    def stop_all(self) -> None:
        for site in list(self.agents):
            self.stop(site)


def agent_groups() -> Iterator[Callable[[Config], InProcessAgents]]:
    """Body of a fixture: ``make(cfg)`` -> InProcessAgents, all stopped afterwards."""
    made: list[InProcessAgents] = []

    def _make(cfg: Config) -> InProcessAgents:
        group = InProcessAgents(cfg)
        made.append(group)
        return group

    yield _make
    for group in made:
        group.stop_all()


def wait_for(what: str, check: Callable[[], object], seconds: float = 30) -> object:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


def out_of_band(cfg: Config, site: str, sql: str, args: tuple[object, ...] = ()) -> None:
    """Run ``sql`` at ``site`` through plain PyMySQL, around mdbc (read_only bypassed)."""
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SET @mdbc_replay = 1")  # no capture: the log never hears of it
            cur.execute(sql, args)
    finally:
        conn.close()
