"""A process killed inside the commit path loses nothing it acknowledged, and invents nothing.

Killed after the append: the entry is in the log (the transaction is committed),
the local database does not have it yet, and replay applies it exactly once.
Killed before the append: nothing anywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import uuid

import pymysql
import pytest

from mdbc_py.config import Config, to_toml
from mdbc_py.core import apply, positions
from mdbc_py.log import decode
from mdbc_py.music import MusicStore


def _config_json(cfg: Config) -> str:
    """The configuration as the child reads it: the mapping ``load`` would parse.

    ``to_toml`` keeps what the session's file holds (password files, TLS
    settings), so the child connects the same way, plain or secure.
    """
    return json.dumps(tomllib.loads(to_toml(cfg)))


def _crash(cfg: Config, range_name: str, table: str, point: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.driver.crash_child", _config_json(cfg),
         range_name, table, point],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 9, done.stderr


@pytest.fixture()
def table(connect, range_a: str) -> str:  # type: ignore[no-untyped-def]
    t = f"c_{uuid.uuid4().hex[:8]}"
    connect(database=range_a).cursor().execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v TEXT)")
    return t


def _rows(raw, db: str, table: str) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    with raw().cursor() as cur:
        cur.execute(f"SELECT id, v FROM {db}.{table}")
        return cur.fetchall()


def test_killed_before_append_leaves_nothing(
    driver_cfg: Config, raw, store: MusicStore, range_a: str, table: str
) -> None:  # type: ignore[no-untyped-def]
    tail = store.describe_range(range_a).tail
    _crash(driver_cfg, range_a, table, "before-append")
    assert store.describe_range(range_a).tail == tail
    assert _rows(raw, range_a, table) == ()


def test_killed_after_append_is_committed_and_replayed_once(
    driver_cfg: Config, raw, store: MusicStore, range_a: str, table: str
) -> None:  # type: ignore[no-untyped-def]
    tail = store.describe_range(range_a).tail
    _crash(driver_cfg, range_a, table, "after-append")
    records = list(store.iter_entries(range_a, tail + 1))
    assert len(records) == 1, "the appended entry is not in the log"
    payload = decode(records[0].payload)
    assert [c.row for c in payload.changes] == [(("id", 42), ("v", "crash"))]
    assert _rows(raw, range_a, table) == (), "the local commit happened after all"

    conn = pymysql.connect(**driver_cfg.site("dc1").connect_kwargs(), autocommit=False)
    try:
        apply.begin_replay(conn)
        with conn.cursor() as cur:
            assert records[0].seq in positions.read(cur, range_a).missing(records[0].seq)
        conn.rollback()
        assert apply.apply_entry(conn, records[0].seq, payload) is True
        assert apply.apply_entry(conn, records[0].seq, payload) is False  # exactly once
    finally:
        conn.close()
    assert _rows(raw, range_a, table) == ((42, "crash"),)
    with raw().cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM `mdbc_stage_{range_a}`.mdbc_s_{table}")
        assert cur.fetchone() == (0,), "replay staged its own rows"
