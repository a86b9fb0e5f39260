"""Fixtures of the replication tests: a fresh range per test, data written at its owner.

Every test gets its own range (a fresh name, so an empty log and empty
databases), owned by dc1, on the sandbox's Cassandra node (keyspace
``mdbc_repl``). Data is written at dc1 through mdbc_py, so every commit is a
log entry; replicas are brought forward with ``replay.catch_up``, as their
agents would.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pymysql
import pytest

import mdbc_py
from mdbc_py import capture
from mdbc_py.admin.init import initialize
from mdbc_py.config import Config
from mdbc_py.core import apply
from mdbc_py.core.runtime import Runtime
from mdbc_py.music import MusicStore, open_store
from mdbc_py.replication import replay
from mdbc_py.replication.replay import ReplayResult
from mdbc_py.sandbox import Sandbox
from tests.integration.driver.conftest import make_config

KEYSPACE = "mdbc_repl"

SCHEMA = [
    # latin1 text, DOUBLE, BIT and a LONGBLOB in one table; the parent of a cascade.
    "CREATE TABLE parent ("
    " id INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(60) CHARACTER SET latin1,"
    " score DOUBLE,"
    " flag BIT(1),"
    " data LONGBLOB"
    ") ENGINE=InnoDB",
    "CREATE TABLE child ("
    " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " parent_id INT NOT NULL,"
    " note TEXT CHARACTER SET utf8mb4,"
    " amount DECIMAL(30,10),"
    " at DATETIME(3),"
    " CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id)"
    "  ON DELETE CASCADE"
    ") ENGINE=InnoDB",
    "CREATE TABLE misc ("
    " k VARCHAR(40) NOT NULL PRIMARY KEY,"
    " ts TIMESTAMP(6) NULL DEFAULT NULL,"
    " js JSON,"
    " en ENUM('a','b','c'),"
    " utf VARCHAR(60) CHARACTER SET utf8mb4"
    ") ENGINE=InnoDB",
]
TABLES = ("child", "misc", "parent")


@dataclass
class Repl:
    """A test's range and the ways to reach it."""

    cfg: Config
    name: str
    store: MusicStore
    opened: list[Any] = field(default_factory=list)

    def connect(self, site: str = "dc1") -> Any:
        """An mdbc_py connection to the range's database (closed after the test)."""
        conn = mdbc_py.connect(site=site, config=self.cfg, database=self.name)
        self.opened.append(conn)
        return conn

    def raw(self, site: str, **kwargs: Any) -> pymysql.Connection:
        """A plain PyMySQL session at ``site`` (closed after the test)."""
        conn = pymysql.connect(**self.cfg.site(site).connect_kwargs(), autocommit=True, **kwargs)
        self.opened.append(conn)
        return conn

    def catch_up(self, site: str, upto: int | None = None) -> ReplayResult:
        """Replay the log into ``site``, as its agent would."""
        conn = pymysql.connect(**self.cfg.site(site).connect_kwargs())
        try:
            apply.begin_replay(conn)
            return replay.catch_up(self.store, conn, site, self.name, upto=upto)
        finally:
            conn.close()

    def tail(self) -> int:
        return self.store.describe_range(self.name).tail

    def create_schema(self) -> None:
        cur = self.connect().cursor()
        for statement in SCHEMA:
            cur.execute(statement)

    def write(self, first: int, count: int, blob: bytes | None = None) -> None:
        """Rows ``first .. first+count-1`` of every table, a transaction per 50 parents."""
        conn = self.connect()
        cur = conn.cursor()
        for start in range(first, first + count, 50):
            for i in range(start, min(start + 50, first + count)):
                cur.execute(
                    "INSERT INTO parent (id, name, score, flag, data) VALUES (%s, %s, %s, %s, %s)",
                    (i, f"café {i} é à ÿ", i / 7 - 0.1, b"\x01" if i % 2 else b"\x00",
                     blob if blob is not None and i == first else bytes([i % 256]) * (i % 97)),
                )  # fmt: skip
                cur.execute(
                    "INSERT INTO child (parent_id, note, amount, at) VALUES (%s, %s, %s, %s)",
                    (i, f"note {i} 😀", decimal.Decimal(i) / 3,
                     datetime.datetime(2024, 1, 1, 12, 0, 0, (i % 1000) * 1000)),
                )  # fmt: skip
                cur.execute(
                    "INSERT INTO misc (k, ts, js, en, utf) VALUES (%s, %s, %s, %s, %s)",
                    (f"k{i}", datetime.datetime(2030, 1, 1, 0, 0, 0, i % 1000000),
                     f'{{"i": {i}, "s": "é"}}', "abc"[i % 3], f"ünï {i}"),
                )  # fmt: skip
            conn.commit()

    def churn(self) -> None:
        """Updates and a cascading delete, so replay must reproduce the owner's order."""
        conn = self.connect()
        cur = conn.cursor()
        cur.execute("UPDATE parent SET score = score * 2, flag = b'1' WHERE MOD(id, 3) = 0")
        cur.execute("DELETE FROM parent WHERE MOD(id, 5) = 0")  # cascades into child
        cur.execute("UPDATE misc SET js = JSON_SET(js, '$.u', 1) WHERE k LIKE %s", ("k1%",))
        conn.commit()


def free_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_dead_site(repl: Repl, site: str) -> Config:
    """The test's configuration with ``site`` pointing at a port nothing listens on."""
    sites = dict(repl.cfg.sites)
    sites[site] = replace(sites[site], host="127.0.0.1", port=free_port(), unix_socket=None)
    return replace(repl.cfg, sites=sites)


@pytest.fixture(scope="session")
def repl_store(sandbox_config: Config) -> Iterator[MusicStore]:
    store = open_store(make_config(sandbox_config, [], keyspace=KEYSPACE).store, create=True)
    yield store
    store.close()


@pytest.fixture()
def repl(running: Sandbox, sandbox_config: Config, repl_store: MusicStore) -> Iterator[Repl]:
    """A fresh range owned by dc1, initialised at every site (all of them up)."""
    name = f"rp_{uuid.uuid4().hex[:8]}"
    cfg = make_config(sandbox_config, [name], keyspace=KEYSPACE)
    initialize(cfg, repl_store)
    r = Repl(cfg, name, repl_store)
    yield r
    for conn in r.opened:
        conn.close()
    Runtime.reset_all()
    for site in cfg.sites:  # the sandbox is shared: leave no test database behind
        with contextlib.suppress(pymysql.err.Error):
            drop = pymysql.connect(**cfg.site(site).connect_kwargs(), autocommit=True)
            with drop.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cur.execute(f"DROP DATABASE IF EXISTS `{capture.stage_database(name)}`")
                for table in ("applied", "watermark"):
                    cur.execute(f"DELETE FROM mdbc.`{table}` WHERE range_name = %s", (name,))
                cur.execute("DELETE FROM mdbc.site_state WHERE name LIKE %s", (f"%:{name}",))
            drop.close()


@pytest.fixture()
def corrupt() -> Callable[[Repl, str, str], None]:
    """Run one statement at a site behind mdbc's back (triggers silent, not logged)."""

    def _corrupt(r: Repl, site: str, sql: str) -> None:
        conn = r.raw(site, database=r.name)
        with conn.cursor() as cur:
            cur.execute("SET @mdbc_replay = 1")
            cur.execute(sql)

    return _corrupt
