"""Statements after which MariaDB commits by itself: the open transaction is logged first.

``LOCK TABLES``, DDL of a table outside every range and the like commit the
open transaction implicitly. Without the driver's own commit first, the
rows written so far would be committed locally before they are durable in
the log: a site lost in between would take them with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdbc_py.music import MusicStore

IMPLICIT = [
    "LOCK TABLES {t} WRITE",
    "CREATE TABLE {outside}.x_{suffix} (id INT PRIMARY KEY)",
    "ANALYZE TABLE {t}",
]


@pytest.mark.parametrize("statement", IMPLICIT)
def test_an_implicit_commit_logs_the_open_transaction_first(
    connect: Callable[..., Any],
    raw: Callable[..., Any],
    store: MusicStore,
    range_a: str,
    statement: str,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    table, outside = f"ic_{suffix}", f"outside_{suffix}"
    with raw().cursor() as admin:
        admin.execute(f"CREATE DATABASE {outside}")
    try:
        conn = connect(database=range_a)
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY)")
        tail = store.describe_range(range_a).tail
        cur.execute(f"INSERT INTO {table} VALUES (1)")
        cur.execute(statement.format(t=table, outside=outside, suffix=suffix))
        # MariaDB has committed the insert by now: it must be in the log already.
        assert store.describe_range(range_a).tail == tail + 1, "committed before it was logged"
        cur.execute("UNLOCK TABLES")
        conn.commit()
        assert store.describe_range(range_a).tail == tail + 1, "logged twice"
        with raw().cursor() as check:
            check.execute(f"SELECT id FROM {range_a}.{table}")
            assert check.fetchall() == ((1,),)
            check.execute(f"SELECT COUNT(*) FROM `mdbc_stage_{range_a}`.mdbc_s_{table}")
            assert check.fetchone() == (0,), "staged rows committed without a log entry"
    finally:
        with raw().cursor() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {outside}")
