"""What capture costs on the commit path, measured on the sandbox's MariaDB.

Prints the figures (they depend on the machine and its load: the three
commit loops are interleaved in slices so that they share the conditions);
asserts only bounds that would reveal a pathology such as a table scan or a
lock wait per commit.
"""

from __future__ import annotations

import statistics
import time

import pytest
from pymysql.connections import Connection
from pymysql.constants import CLIENT

from mdbc_py import capture
from tests.integration.capture.conftest import Connect

pytestmark = pytest.mark.services

COMMITS = 1000
SLICES = 10
ROUNDS = 30


def _commits(conn: Connection, table: str, count: int, with_collect: bool) -> float:
    """Seconds for ``count`` single-row INSERT + COMMIT transactions."""
    with conn.cursor() as cur:
        start = time.perf_counter()
        for i in range(count):
            cur.execute(f"INSERT INTO {table} (v, n) VALUES (%s, %s)", ("some text", i))
            if with_collect:
                capture.collect(cur)
            conn.commit()
        return time.perf_counter() - start


def _collect_time(conn: Connection, rows: int) -> float:
    """Median seconds of one ``collect`` after ``rows`` single-row inserts."""
    samples = []
    with conn.cursor() as cur:
        for _ in range(ROUNDS):
            for i in range(rows):
                cur.execute("INSERT INTO hot (v, n) VALUES (%s, %s)", ("x" * 40, i))
            start = time.perf_counter()
            got = capture.collect(cur)
            samples.append(time.perf_counter() - start)
            assert len(got) == rows
            conn.commit()
    return statistics.median(samples)


def test_overhead(
    connect: Connect, admin: Connection, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ddl = "(id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(50), n INT, t DATETIME(3) DEFAULT NOW(3))"
    with admin.cursor() as cur:
        cur.execute(f"USE `{database}`")
        cur.execute(f"CREATE TABLE cold {ddl}")
        cur.execute(f"CREATE TABLE hot {ddl}")
        cur.execute(f"CREATE TABLE raw {ddl}")
    capture.install_table(admin, database, "hot")
    capture.install_table(admin, database, "raw")
    conn = connect(database=database)
    _commits(conn, "cold", 100, False)  # warm up the connection and the server
    totals = {"plain": 0.0, "triggers": 0.0, "collected": 0.0}
    per_slice = COMMITS // SLICES
    for _ in range(SLICES):
        totals["plain"] += _commits(conn, "cold", per_slice, False)
        totals["triggers"] += _commits(conn, "raw", per_slice, False)
        totals["collected"] += _commits(conn, "hot", per_slice, True)

    figures: dict[str, float] = {
        f"{COMMITS} INSERT+COMMIT, no triggers (s)": totals["plain"],
        f"{COMMITS} INSERT+COMMIT, triggers, rows left staged (s)": totals["triggers"],
        f"{COMMITS} INSERT+collect+COMMIT (s)": totals["collected"],
    }
    batched = connect(database=database, client_flag=CLIENT.MULTI_STATEMENTS)
    for rows in (1, 100):
        figures[f"collect of {rows} row(s) (ms)"] = _collect_time(conn, rows) * 1000
        figures[f"collect of {rows} row(s), multi-statement (ms)"] = (
            _collect_time(batched, rows) * 1000
        )
    with capsys.disabled():
        print()
        for name, value in figures.items():
            print(f"  capture overhead: {name:<55} {value:8.3f}")

    assert totals["triggers"] < totals["plain"] * 3 + 1
    assert figures["collect of 100 row(s) (ms)"] < 200
