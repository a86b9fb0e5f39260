"""verify_range against real sites: equal copies pass, any difference is named, writers may run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pymysql
import pytest

from mdbc_py.core import commit as commit_path
from mdbc_py.core import positions
from mdbc_py.errors import ConfigError, UnknownRangeError
from mdbc_py.log import encode
from mdbc_py.music import NewEntry
from mdbc_py.replication.verify import SiteState, VerifyTimeoutError, verify_range

from .conftest import TABLES, Repl, with_dead_site

ER_LOCK_DEADLOCK = 1213


def populated(repl: Repl, rows: int = 120) -> int:
    """Schema and rows at dc1, caught up at dc2 and dc3; returns the tail."""
    repl.create_schema()
    repl.write(1, rows, blob=b"\x00\xff" * (2 * 1024 * 1024))
    repl.churn()
    tail = repl.tail()
    for site in ("dc2", "dc3"):
        assert repl.catch_up(site).position == tail
    return tail


def test_equal_copies_verify_ok_and_a_corrupted_row_is_named(
    repl: Repl, corrupt: Callable[[Repl, str, str], None]
) -> None:
    tail = populated(repl)
    lines: list[str] = []

    result = verify_range(repl.cfg, repl.store, repl.name, progress=lines.append)

    assert result.ok, result.describe()
    assert result.seq == tail and result.owner == "dc1"
    assert set(result.checksums) == {"dc1", "dc2", "dc3"}
    assert set(result.checksums["dc1"]) == set(TABLES)
    assert result.checksums["dc1"]["parent"].rows == 120 - 120 // 5
    assert result.checksums["dc1"]["child"].rows == 120 - 120 // 5  # cascaded at replicas too
    for site in ("dc2", "dc3"):
        assert result.checksums[site] == result.checksums["dc1"]
        assert result.sites[site].state is SiteState.OK and result.sites[site].position == tail
    assert not result.mismatches and not result.missing_tables and not result.out_of_band
    assert lines and any("locked at seq" in line for line in lines)
    assert "OK" in result.describe().splitlines()[0]

    corrupt(repl, "dc2", "UPDATE parent SET score = score + 1e-9 WHERE id = 7")
    result = verify_range(repl.cfg, repl.store, repl.name)

    assert not result.ok
    assert {(m.site, m.table) for m in result.mismatches} == {("dc2", "parent")}
    (mismatch,) = result.mismatches
    assert mismatch.what == "checksum" and mismatch.owner_value != mismatch.site_value
    assert result.sites["dc2"].state is SiteState.MISMATCH
    assert result.sites["dc3"].state is SiteState.OK
    assert result.sites["dc1"].state is SiteState.OK
    text = result.describe()
    assert "dc2 parent: checksum" in text and "DIFFERENCES FOUND" in text


def test_missing_row_and_missing_table_are_reported(
    repl: Repl, corrupt: Callable[[Repl, str, str], None]
) -> None:
    populated(repl, rows=20)
    corrupt(repl, "dc3", "DELETE FROM child WHERE parent_id = 3")
    corrupt(repl, "dc2", "DROP TABLE misc")

    result = verify_range(repl.cfg, repl.store, repl.name, sites=["dc2", "dc3"])

    assert not result.ok
    assert result.missing_tables == {"dc2": ["misc"]}
    kinds = {(m.site, m.table, m.what) for m in result.mismatches}
    assert kinds == {("dc3", "child", "rows"), ("dc3", "child", "checksum")}
    assert result.sites["dc2"].state is SiteState.MISMATCH


def test_verify_is_consistent_while_the_owner_keeps_committing(repl: Repl) -> None:
    populated(repl, rows=50)
    stop = threading.Event()
    committed = [0]
    deadlocks = [0]
    errors: list[BaseException] = []

    def writer() -> None:
        conn = repl.connect()
        cur = conn.cursor()
        i = 100_000
        while not stop.is_set():
            try:
                cur.execute("INSERT INTO parent (id, name, score) VALUES (%s, 'w', %s)", (i, i / 3))
                cur.execute(
                    "INSERT INTO child (parent_id, note) VALUES (%s, 'from the writer')", (i,)
                )
                cur.execute("UPDATE misc SET utf = %s WHERE k = 'k1'", (f"w{i}",))
                conn.commit()
                committed[0] += 1
                i += 1
            except pymysql.err.OperationalError as exc:
                conn.rollback()
                # A writer that takes the tables in another order than the verify's
                # queued lock may be MariaDB's deadlock victim, before its commit.
                if exc.args[0] != ER_LOCK_DEADLOCK:
                    errors.append(exc)
                    return
                deadlocks[0] += 1
            except BaseException as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        seqs = []
        for _ in range(3):
            before = committed[0]
            while committed[0] < before + 5 and thread.is_alive():
                time.sleep(0.01)
            result = verify_range(repl.cfg, repl.store, repl.name, catch_up=True, timeout=60)
            assert result.ok, result.describe()
            seqs.append(result.seq)
            assert result.locked_seconds < result.seconds
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    assert seqs == sorted(seqs) and seqs[0] < seqs[-1]
    assert committed[0] >= 15


def test_a_lagging_replica_is_reported_not_skipped(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 10)
    tail = repl.tail()
    repl.catch_up("dc2")
    repl.catch_up("dc3", upto=tail - 1)

    started = time.monotonic()
    result = verify_range(repl.cfg, repl.store, repl.name, timeout=2)

    assert time.monotonic() - started < 10
    assert not result.ok
    assert result.sites["dc2"].state is SiteState.OK
    lag = result.sites["dc3"]
    assert lag.state is SiteState.LAGGING and lag.position == tail - 1
    assert "dc3 lagged" in lag.detail and "1 entries behind" in lag.detail
    assert "dc3" not in result.checksums
    assert "lagging" in result.describe()


def test_an_unreachable_replica_is_reported_not_skipped(repl: Repl) -> None:
    populated(repl, rows=5)
    cfg = with_dead_site(repl, "dc3")

    result = verify_range(cfg, repl.store, repl.name)

    assert not result.ok
    assert result.sites["dc2"].state is SiteState.OK
    assert result.sites["dc3"].state is SiteState.UNREACHABLE
    assert "dc3" in result.sites["dc3"].detail and "unreachable" in result.describe()


def test_a_replica_beyond_the_owner_is_reported_as_ahead(repl: Repl) -> None:
    tail = populated(repl, rows=5)
    with repl.raw("dc3").cursor() as cur:  # as if it had applied an entry the log lacks
        positions.record(cur, repl.name, tail + 3, "not-in-the-log")

    result = verify_range(repl.cfg, repl.store, repl.name, timeout=5)

    assert not result.ok
    assert result.sites["dc2"].state is SiteState.OK
    ahead = result.sites["dc3"]
    assert ahead.state is SiteState.AHEAD and f"beyond seq {tail}" in ahead.detail


def test_out_of_band_writes_are_reported(repl: Repl) -> None:
    populated(repl, rows=5)
    conn = repl.raw("dc1", database=repl.name)
    with conn.cursor() as cur:  # a plain client: the triggers stage it, no commit claims it
        cur.execute("INSERT INTO misc (k, utf) VALUES ('oob', 'bypassed the driver')")

    result = verify_range(repl.cfg, repl.store, repl.name)

    assert not result.ok
    assert result.out_of_band == {"dc1": {"misc": 1}}
    assert result.sites["dc1"].state is SiteState.OUT_OF_BAND
    assert {(m.site, m.table) for m in result.mismatches} == {("dc2", "misc"), ("dc3", "misc")}
    assert "out-of-band" in result.describe()


def test_owner_with_an_unapplied_entry_times_out_naming_it(repl: Repl) -> None:
    repl.create_schema()
    info = repl.store.describe_range(repl.name)
    payload = commit_path.build_payload("dc1", repl.name, [])
    (seq,) = repl.store.append(repl.name, info.epoch, [NewEntry(payload.txid, encode(payload))])

    with pytest.raises(VerifyTimeoutError) as caught:
        verify_range(repl.cfg, repl.store, repl.name, sites=[], timeout=1.5)

    err = caught.value
    assert err.site == "dc1" and err.target == seq and err.position == seq - 1
    assert "owner dc1 lagged" in str(err) and f"missing: {seq}" in str(err)


def test_unknown_range_and_site_are_refused(repl: Repl) -> None:
    with pytest.raises(UnknownRangeError):
        verify_range(repl.cfg, repl.store, "rp_nosuchrange")
    with pytest.raises(ConfigError):
        verify_range(repl.cfg, repl.store, repl.name, sites=["dc9"])
