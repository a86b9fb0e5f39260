"""The applied position at the owner: its commits' rows are folded into the watermark.

Every commit at the owner adds a row to ``mdbc.applied``. Replay folds a
replica's rows after applying; at the owner nothing did, so the table grew
by a row per commit for as long as the site owned the range, and every read
of the position (each agent heartbeat, ``status``) read all of it.
"""

from __future__ import annotations

import threading

import pymysql
import pytest

from mdbc_py.core import positions
from mdbc_py.replication.agent import Agent, AgentSettings

from .conftest import Repl


def applied_rows(repl: Repl, site: str = "dc1") -> list[int]:
    with repl.raw(site).cursor() as cur:
        cur.execute("SELECT seq FROM mdbc.applied WHERE range_name = %s ORDER BY seq", (repl.name,))
        return [int(r[0]) for r in cur.fetchall()]


def watermark(repl: Repl, site: str = "dc1") -> int | None:
    with repl.raw(site).cursor() as cur:
        cur.execute("SELECT seq FROM mdbc.watermark WHERE range_name = %s", (repl.name,))
        row = cur.fetchone()
        return None if row is None else int(row[0])


def test_the_owners_agent_folds_the_rows_of_its_commits(repl: Repl) -> None:
    conn = repl.connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
    for i in range(120):
        cur.execute("INSERT INTO t (id, v) VALUES (%s, %s)", (i, f"v{i}"))
        conn.commit()
    tail = repl.tail()
    assert len(applied_rows(repl)) >= 120  # a row per commit, none folded yet

    agent = Agent(repl.cfg, "dc1", AgentSettings(), store=repl.store)
    try:
        agent.tick()
    finally:
        agent.stop()

    assert applied_rows(repl) == []
    assert watermark(repl) == tail
    with repl.raw("dc1").cursor() as c:
        assert positions.read(c, repl.name) == positions.Position(tail, frozenset())
    assert agent.views[repl.name].reported == tail


def session(repl: Repl) -> pymysql.Connection:
    """A plain session at dc1 whose statements stay in its transaction until it commits."""
    conn = repl.raw("dc1")
    conn.autocommit(False)
    return conn


def seed(repl: Repl, seqs: list[int]) -> None:
    with repl.raw("dc1").cursor() as cur:
        cur.executemany(
            "INSERT INTO mdbc.applied (range_name, seq, txid) VALUES (%s, %s, 'x')",
            [(repl.name, s) for s in seqs],
        )


def test_compact_folds_the_prefix_below_the_first_hole_a_bounded_number_at_a_time(
    repl: Repl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(positions, "_DELETE_KEYS", 3)  # several DELETEs per call
    seed(repl, [*range(1, 11), 12, 13])
    conn = session(repl)

    with conn.cursor() as cur:
        assert positions.compact(cur, repl.name, limit=4) == 10
    conn.commit()
    assert watermark(repl) == 4
    assert applied_rows(repl) == [5, 6, 7, 8, 9, 10, 12, 13]

    with conn.cursor() as cur:
        assert positions.compact(cur, repl.name) == 10
        assert positions.compact(cur, repl.name) == 10  # nothing more to fold: no change
    conn.commit()
    assert watermark(repl) == 10
    assert applied_rows(repl) == [12, 13]
    with conn.cursor() as cur:
        assert positions.read(cur, repl.name) == positions.Position(10, frozenset({12, 13}))


def test_compact_does_not_hold_up_the_commits_in_flight_above_the_prefix(repl: Repl) -> None:
    seed(repl, list(range(1, 11)))
    folding = session(repl)
    with folding.cursor() as cur:
        assert positions.compact(cur, repl.name) == 10  # its locks held until it commits

    # An owner's commit of entry 11 inserts its row now, in the gap above the prefix.
    committer = session(repl)
    errors: list[BaseException] = []

    def commit_11() -> None:
        try:
            with committer.cursor() as cur:
                cur.execute("SET SESSION innodb_lock_wait_timeout = 2")
                positions.record(cur, repl.name, 11, "in-flight")
            committer.commit()
        except pymysql.err.Error as exc:
            errors.append(exc)

    thread = threading.Thread(target=commit_11)
    thread.start()
    thread.join(timeout=10)
    folding.commit()
    assert not thread.is_alive()
    assert errors == []
    assert applied_rows(repl) == [11]
    assert watermark(repl) == 10
