"""Hostile identifiers through ``mdbc init``, the driver and replay, for real.

Databases, tables and columns whose names hold quotes, backticks,
semicolons, ``%``, non-ASCII letters, or reach MariaDB's 64-character limit
(so the stage database, shadow tables and triggers get shortened names) are
legal in MariaDB. Every statement mdbc builds must quote them: the rows an
application writes through the driver are captured, logged and replayed at
another site exactly, and ``mdbc init`` captures such tables that already
exist. Names MariaDB itself refuses are refused by ``init`` before it
changes anything.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pymysql
import pytest
from click.testing import CliRunner

import mdbc_py
from cli.main import cli
from mdbc_py import capture
from mdbc_py.admin.init import initialize
from mdbc_py.capture.naming import escape_percent
from mdbc_py.config import Config, RangeConfig, save
from mdbc_py.core import apply
from mdbc_py.core.runtime import Runtime
from mdbc_py.errors import ConfigError
from mdbc_py.music import MusicStore
from mdbc_py.replication import replay
from mdbc_py.sandbox import Sandbox
from tests.integration.driver.conftest import make_config
from tests.integration.replication.conftest import KEYSPACE

pytestmark = pytest.mark.services

TABLE = "t`a'b\"c; DROP TABLE x; -- 表"
PERCENT_TABLE = "pct%s%%t"
COLUMNS = ("id`", "c'ol", 'c"ol', "semi;colon", "naïve 列", "back\\slash")
PERCENT_COLUMNS = (*COLUMNS[:-1], "pct%s")
LONG_TABLE = "L" * 64


def q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def hostile_database(tag: str, long: bool = False) -> str:
    base = f"hx`'\";{tag} 日本_\\"
    return base + "d" * (64 - len(base)) if long else base


@dataclass
class Hostile:
    cfg: Config
    name: str
    db: str
    store: MusicStore

    def connect(self, site: str = "dc1") -> Any:
        return mdbc_py.connect(site=site, config=self.cfg, database=self.db)

    def raw(self, site: str) -> pymysql.Connection:
        return pymysql.connect(**self.cfg.site(site).connect_kwargs(), autocommit=True)

    def catch_up(self, site: str) -> None:
        conn = pymysql.connect(**self.cfg.site(site).connect_kwargs())
        try:
            apply.begin_replay(conn)
            replay.catch_up(self.store, conn, site, self.name)
        finally:
            conn.close()

    def rows(self, site: str, table: str) -> tuple[tuple[Any, ...], ...]:
        conn = self.raw(site)
        try:
            with conn.cursor() as cur:
                cur.execute(f"SELECT * FROM {q(self.db)}.{q(table)} ORDER BY 1")
                return tuple(cur.fetchall())
        finally:
            conn.close()


def _hostile(sandbox_config: Config, store: MusicStore, long: bool = False) -> Iterator[Hostile]:
    tag = uuid.uuid4().hex[:6]
    name = f"rh_{tag}"
    db = hostile_database(tag, long)
    cfg = make_config(sandbox_config, [], keyspace=KEYSPACE)
    cfg = replace(cfg, ranges={name: RangeConfig(name=name, database=db, initial_owner="dc1")})
    h = Hostile(cfg, name, db, store)
    yield h
    Runtime.reset_all()
    for site in cfg.sites:
        with contextlib.suppress(pymysql.err.Error):
            conn = h.raw(site)
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {q(db)}")
                cur.execute(f"DROP DATABASE IF EXISTS {q(capture.stage_database(db))}")
                for table in ("applied", "watermark"):
                    cur.execute(f"DELETE FROM mdbc.`{table}` WHERE range_name = %s", (name,))
            conn.close()


@pytest.fixture(params=[False, True], ids=["short", "64-char"])
def hostile(
    request: pytest.FixtureRequest, running: Sandbox, sandbox_config: Config,
    repl_store: MusicStore,
) -> Iterator[Hostile]:  # fmt: skip
    yield from _hostile(sandbox_config, repl_store, long=request.param)


def test_init_creates_and_captures_hostile_names_that_exist_already(hostile: Hostile) -> None:
    assert len(hostile.db) <= 64
    conn = hostile.raw("dc1")
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {q(hostile.db)}")
        cols = ", ".join(f"{q(c)} VARCHAR(40)" for c in COLUMNS[1:])
        for table in (TABLE, LONG_TABLE):
            cur.execute(
                f"CREATE TABLE {q(hostile.db)}.{q(table)} ({q(COLUMNS[0])} INT PRIMARY KEY, {cols})"
            )
    conn.close()

    report = initialize(hostile.cfg, hostile.store)

    assert report.unreachable == {}
    assert sorted(report.captured["dc1"][hostile.db]) == sorted([TABLE, LONG_TABLE])
    for site in hostile.cfg.sites:
        conn = hostile.raw(site)
        with conn.cursor() as cur:
            cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                        "WHERE SCHEMA_NAME = %s", (hostile.db,))  # fmt: skip
            assert cur.fetchall() == ((hostile.db,),), site
        conn.close()


def test_hostile_table_and_columns_are_captured_and_replicated_exactly(hostile: Hostile) -> None:
    _write_and_replicate(hostile, (TABLE, LONG_TABLE))


def test_a_table_and_column_with_percent_in_their_names(hostile: Hostile) -> None:
    _write_and_replicate(hostile, (PERCENT_TABLE,), PERCENT_COLUMNS)


def _write_and_replicate(
    hostile: Hostile, tables: tuple[str, ...], columns: tuple[str, ...] = COLUMNS
) -> None:
    initialize(hostile.cfg, hostile.store)
    conn = hostile.connect()
    cur = conn.cursor()
    cols = ", ".join(f"{q(c)} VARCHAR(60) CHARACTER SET utf8mb4" for c in columns[1:])
    for table in tables:
        cur.execute(f"CREATE TABLE {q(table)} ({q(columns[0])} INT PRIMARY KEY, {cols})")
    names = ", ".join(q(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    values = [(i, f"a`b'c\"{i}", "x;y--", "%s%%", "日本語 é", None) for i in range(1, 6)]
    for table in tables:
        # with parameters, PyMySQL reads '%' in identifiers as a placeholder: doubled
        insert = escape_percent(f"INSERT INTO {q(table)} ({names})")
        cur.executemany(f"{insert} VALUES ({marks})", values)
    conn.commit()
    for table in tables:
        update = escape_percent(f"UPDATE {q(table)} SET {q(columns[1])}")
        cur.execute(f"{update} = %s WHERE {q(columns[0])} = 2", ("upd`'\";",))
        cur.execute(f"DELETE FROM {q(table)} WHERE {q(columns[0])} = 3")
    conn.commit()
    conn.close()

    owner = {t: hostile.rows("dc1", t) for t in tables}
    for table in tables:
        assert [r[0] for r in owner[table]] == [1, 2, 4, 5]
        assert owner[table][1][1] == "upd`'\";"
    assert hostile.store.describe_range(hostile.name).tail >= len(tables) + 2  # DDL + 2 commits
    for site in ("dc2", "dc3"):
        hostile.catch_up(site)
        for table in tables:
            assert hostile.rows(site, table) == owner[table], (site, table)


def test_init_refuses_a_database_mariadb_cannot_hold_and_changes_nothing(
    running: Sandbox, sandbox_config: Config, repl_store: MusicStore
) -> None:
    tag = uuid.uuid4().hex[:6]
    too_long = hostile_database(tag, long=True) + "x"
    name = f"rh_{tag}"
    cfg = make_config(sandbox_config, [], keyspace=KEYSPACE)
    cfg = replace(cfg, ranges={name: RangeConfig(name=name, database=too_long)})
    with pytest.raises(ConfigError, match="65 characters"):
        initialize(cfg, repl_store)
    assert name not in {r.name for r in repl_store.list_ranges()}


def test_mdbc_init_exits_2_naming_the_database_and_changes_nothing(
    running: Sandbox, sandbox_config: Config, repl_store: MusicStore, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"rh_{tag}"
    cfg = make_config(sandbox_config, [], keyspace=KEYSPACE)
    cfg = replace(cfg, ranges={name: RangeConfig(name=name, database=f"trailing {tag} ")})
    path = tmp_path / "mdbc.toml"
    save(cfg, path)
    result = CliRunner().invoke(cli, ["init", "-c", str(path)])
    assert result.exit_code == 2, result.output
    assert f"[ranges.{name}]: database 'trailing {tag} ' cannot be used" in result.output
    assert "ends with a space" in result.output
    assert name not in {r.name for r in repl_store.list_ranges()}
