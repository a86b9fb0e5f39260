"""Writes nobody can see in the SQL (a stored function's INSERT) are logged, or refused.

``SELECT f('x')`` where ``f`` is ``MODIFIES SQL DATA`` writes rows the
classifier cannot name. The capture triggers still stage them, and the
staged rows are the truth at commit: at the owner they become a log entry
like any other write; at a replica the transaction is refused and rolled
back, so the replica never holds a row the log does not carry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

import mdbc_py
from mdbc_py.capture import install_table
from mdbc_py.log import Op, decode
from mdbc_py.music import MusicStore

CALLS = [
    ("select", "SELECT {f}(%s)"),
    ("do", "DO {f}(%s)"),
    ("set", "SET @v = {f}(%s)"),
    ("qualified", "SELECT {db}.{f}(%s)"),
]


def _logged_rows(store: MusicStore, rng: str, tail: int) -> list[tuple[str, Op, Any]]:
    return [
        (c.table, c.op, c.row)
        for r in store.iter_entries(rng, tail + 1)
        for c in decode(r.payload).changes
    ]


def _make_audit(cur: Any) -> tuple[str, str]:
    """An audit table and a function that writes it, created through the driver."""
    suffix = uuid.uuid4().hex[:8]
    table, func = f"audit_{suffix}", f"log_it_{suffix}"
    cur.execute(f"CREATE TABLE {table} (t VARCHAR(64) PRIMARY KEY)")
    cur.execute(
        f"CREATE FUNCTION {func}(t VARCHAR(64)) RETURNS INT MODIFIES SQL DATA "
        f"BEGIN INSERT INTO {table} VALUES (t); RETURN 1; END"
    )
    return table, func


@pytest.mark.parametrize("autocommit", [False, True], ids=["tx", "autocommit"])
@pytest.mark.parametrize(("how", "template"), CALLS, ids=[c[0] for c in CALLS])
def test_a_stored_function_write_at_the_owner_is_logged(
    connect: Callable[..., Any],
    raw: Callable[..., Any],
    store: MusicStore,
    range_a: str,
    how: str,
    template: str,
    autocommit: bool,
) -> None:
    conn = connect(database=range_a)
    cur = conn.cursor()
    table, func = _make_audit(cur)
    conn.autocommit(autocommit)
    tail = store.describe_range(range_a).tail
    cur.execute(template.format(f=func, db=range_a), (how,))
    if not autocommit:
        conn.commit()
    assert _logged_rows(store, range_a, tail) == [
        (f"{range_a}.{table}", Op.INSERT, (("t", how),))
    ], "the function's INSERT is not in the log"
    with raw().cursor() as check:
        check.execute(f"SELECT t FROM {range_a}.{table}")
        assert check.fetchall() == ((how,),)
        check.execute(f"SELECT COUNT(*) FROM `mdbc_stage_{range_a}`.mdbc_s_{table}")
        assert check.fetchone() == (0,), "staged rows left behind"


def test_a_rolled_back_function_write_logs_nothing(
    connect: Callable[..., Any], store: MusicStore, range_a: str
) -> None:
    conn = connect(database=range_a)
    cur = conn.cursor()
    table, func = _make_audit(cur)
    tail = store.describe_range(range_a).tail
    cur.execute(f"SELECT {func}('gone')")
    conn.rollback()
    cur.execute(f"SELECT COUNT(*) FROM {table}")
    assert cur.fetchall() == ((0,),)
    conn.commit()
    assert store.describe_range(range_a).tail == tail


def test_a_pure_read_costs_no_entry(connect: Callable[..., Any], store: MusicStore,
                                    range_a: str) -> None:  # fmt: skip
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute(f"CREATE FUNCTION twice_{uuid.uuid4().hex[:8]}(x INT) RETURNS INT RETURN 2 * x")
    tail = store.describe_range(range_a).tail
    cur.execute("SELECT COUNT(*), NOW() FROM information_schema.TABLES WHERE 1 = 0")
    conn.commit()
    assert store.describe_range(range_a).tail == tail


@pytest.mark.parametrize("autocommit", [False, True], ids=["tx", "autocommit"])
def test_a_stored_function_write_at_a_replica_is_refused_and_rolled_back(
    connect: Callable[..., Any],
    raw: Callable[..., Any],
    store: MusicStore,
    range_a: str,
    autocommit: bool,
) -> None:
    owner = connect(database=range_a)
    table, func = _make_audit(owner.cursor())
    # The replica gets the same table, capture and function (what replay of the DDL does).
    replica_raw = raw("dc2")
    with replica_raw.cursor() as cur:
        cur.execute(f"CREATE TABLE {range_a}.{table} (t VARCHAR(64) PRIMARY KEY)")
        cur.execute(
            f"CREATE FUNCTION {range_a}.{func}(t VARCHAR(64)) RETURNS INT MODIFIES SQL DATA "
            f"BEGIN INSERT INTO {table} VALUES (t); RETURN 1; END"
        )
    install_table(replica_raw, range_a, table)
    tail = store.describe_range(range_a).tail

    conn = connect(site="dc2", database=range_a, autocommit=autocommit)
    cur = conn.cursor()
    with pytest.raises(mdbc_py.NotOwnerError, match="rolled back, nothing of it was committed"):
        cur.execute(f"SELECT {func}('at-replica')")
        conn.commit()
    assert store.describe_range(range_a).tail == tail, "logged at a replica"
    with replica_raw.cursor() as check:
        check.execute(f"SELECT COUNT(*) FROM {range_a}.{table}")
        assert check.fetchone() == (0,), "the replica kept a row the log does not carry"
        check.execute(f"SELECT COUNT(*) FROM `mdbc_stage_{range_a}`.mdbc_s_{table}")
        assert check.fetchone() == (0,)
    # The connection is usable afterwards, and plain reads still work at the replica.
    cur.execute("SELECT 1")
    assert cur.fetchall() == ((1,),)
