"""Every failure path: a clear error of the right class, nothing changed anywhere."""

from __future__ import annotations

import time
import uuid

import pymysql
import pytest

import mdbc_py
from mdbc_py.config import Config
from mdbc_py.music import MusicStore, RangeState


def table_name() -> str:
    return f"f_{uuid.uuid4().hex[:8]}"


def count(raw, db: str, table: str) -> int:  # type: ignore[no-untyped-def]
    with raw().cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {db}.{table}")
        return int(cur.fetchone()[0])


@pytest.fixture()
def table(connect, range_a: str) -> str:  # type: ignore[no-untyped-def]
    t = table_name()
    conn = connect(database=range_a)
    conn.cursor().execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR(10))")
    return t


def test_malformed_sql_is_mariadbs_error(
    connect, store: MusicStore, range_a: str, table: str
) -> None:  # type: ignore[no-untyped-def]
    conn = connect(database=range_a)
    tail = store.describe_range(range_a).tail
    with pytest.raises(pymysql.err.ProgrammingError) as info:
        conn.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a'")
    assert info.value.args[0] == 1064
    assert isinstance(info.value, mdbc_py.ProgrammingError)
    conn.rollback()
    assert store.describe_range(range_a).tail == tail


def test_cross_range_transaction_is_refused_before_it_runs(
    connect, raw, store: MusicStore, range_a: str, range_b: str, table: str
) -> None:  # type: ignore[no-untyped-def]
    other = table_name()
    connect(database=range_b).cursor().execute(f"CREATE TABLE {other} (id INT PRIMARY KEY)")
    conn = connect(database=range_a)
    cur = conn.cursor()
    tails = {r: store.describe_range(r).tail for r in (range_a, range_b)}
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    with pytest.raises(mdbc_py.CrossRangeError, match="span ranges") as info:
        cur.execute(f"INSERT INTO {range_b}.{other} VALUES (1)")
    assert isinstance(info.value, mdbc_py.ProgrammingError)
    assert info.value.ranges == tuple(sorted((range_a, range_b)))  # type: ignore[attr-defined]
    conn.rollback()
    assert count(raw, range_b, other) == 0 and count(raw, range_a, table) == 0
    assert {r: store.describe_range(r).tail for r in tails} == tails


def test_write_at_a_non_owner_site_names_the_owner(
    connect, raw, store: MusicStore, range_a: str, table: str
) -> None:  # type: ignore[no-untyped-def]
    conn = connect(site="dc2", database=range_a)
    tail = store.describe_range(range_a).tail
    with pytest.raises(mdbc_py.NotOwnerError, match="owned by site 'dc1'") as info:
        conn.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert isinstance(info.value, mdbc_py.OperationalError)
    facts = {k: getattr(info.value, k, None) for k in ("range_name", "owner", "site", "epoch")}
    assert facts == {
        "range_name": range_a,
        "owner": "dc1",
        "site": "dc2",
        "epoch": store.describe_range(range_a).epoch,
    }
    assert store.describe_range(range_a).tail == tail
    reads = conn.cursor()
    reads.execute("SELECT 1")  # reads at a replica are fine
    assert reads.fetchone() == (1,)


def test_table_without_primary_key_is_refused(connect, raw, range_a: str) -> None:  # type: ignore[no-untyped-def]
    conn = connect(database=range_a)
    t = table_name()
    with pytest.raises(mdbc_py.ProgrammingError, match=f"{range_a}.{t}"):
        conn.cursor().execute(f"CREATE TABLE {t} (v INT)")
    with pytest.raises(mdbc_py.NotCapturedError, match="not captured") as info:
        conn.cursor().execute(f"INSERT INTO {t} VALUES (1)")
    assert isinstance(info.value, mdbc_py.ProgrammingError)
    with raw().cursor() as cur:  # refused before it ran (see test_keyless_ddl.py)
        cur.execute(f"SHOW TABLES FROM `{range_a}` LIKE %s", (t,))
        assert cur.fetchall() == ()


@pytest.fixture()
def own_range(driver_cfg: Config):  # type: ignore[no-untyped-def]
    """A range of its own (for tests that fence it or mark it needs-resync), and a
    connection to it at its owner dc1."""
    from mdbc_py.admin.init import initialize
    from tests.integration.driver.conftest import make_config

    name = f"own_{uuid.uuid4().hex[:6]}"
    cfg = make_config(driver_cfg, [name])
    initialize(cfg)
    conn = mdbc_py.connect(site="dc1", config=cfg, database=name)
    yield name, conn
    conn.close()


def test_commit_at_a_fenced_owner_fails_and_rolls_back(own_range, raw, store: MusicStore) -> None:  # type: ignore[no-untyped-def]
    name, conn = own_range
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cur.execute("INSERT INTO t VALUES (1)")
    tail = store.describe_range(name).tail
    store.change_owner(name, 1, "dc2", reason="test fencing", state=RangeState.OPEN)
    with pytest.raises(mdbc_py.FencedError, match="not current") as info:
        conn.commit()
    assert isinstance(info.value, mdbc_py.OperationalError) and info.value.retryable
    assert count(raw, name, "t") == 0
    assert store.describe_range(name).tail == tail
    with pytest.raises(mdbc_py.NotOwnerError, match="'dc2'") as refused:
        cur.execute("INSERT INTO t VALUES (2)")
    assert (refused.value.owner, refused.value.site) == ("dc2", "dc1")


def test_store_down_mid_transaction(
    connect, raw, running, store: MusicStore, range_a: str, table: str
) -> None:  # type: ignore[no-untyped-def]
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    tail = store.describe_range(range_a).tail
    running.kill("node1")
    try:
        with pytest.raises(
            (mdbc_py.StoreUnavailableError, mdbc_py.CommitOutcomeUnknownError)
        ) as info:
            conn.commit()
        assert isinstance(info.value, mdbc_py.OperationalError)
        assert "MUSIC store" in str(info.value) or "look up" in str(info.value)
        assert count(raw, range_a, table) == 0
    finally:
        running.start("node1")
    deadline = time.monotonic() + 60
    while True:  # the store's session reconnects within a few seconds
        try:
            assert store.describe_range(range_a).tail == tail
            break
        except mdbc_py.StoreUnavailableError:
            assert time.monotonic() < deadline, "the store did not come back"
            time.sleep(0.5)
    assert store.find_txid(range_a, "never") is None


def test_a_store_that_lost_entries_is_reported_as_divergence(
    own_range, raw, store: MusicStore
) -> None:  # type: ignore[no-untyped-def]
    """The store reusing an applied sequence number is named, never an app IntegrityError."""
    from mdbc_py.core import positions

    name, conn = own_range
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    nxt = store.describe_range(name).tail + 1
    with raw().cursor() as rc:  # as if entry `nxt` had been applied, then lost by the store
        positions.record(rc, name, nxt, "lost-txid")
        rc.connection.commit()
    cur.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(mdbc_py.LogDivergedError, match=f"entry {nxt} of range") as info:
        conn.commit()
    assert isinstance(info.value, mdbc_py.InternalError)
    assert "needs-resync" in str(info.value) and "mdbc resync --site dc1 --full" in str(info.value)
    assert count(raw, name, "t") == 0
    with raw().cursor() as rc:
        rc.execute("SELECT value FROM mdbc.site_state WHERE name = %s", (f"needs-resync:{name}",))
        assert "lost acknowledged entries" in rc.fetchone()[0]
    assert store.describe_range(name).tail == nxt  # the transaction itself is in the log
