"""DDL that would leave a table without a primary key: refused before it runs, or told truly.

A table of a range needs a primary key (a replica applies rows by it). DDL
cannot be undone, so the driver refuses such a statement before it runs;
when MariaDB drops a key the driver could not foresee, the error says that
the statement ran and was logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdbc_py import capture
from mdbc_py.music import MusicStore


def _exists(raw: Callable[..., Any], db: str, table: str) -> bool:
    with raw().cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (db, table),
        )
        return bool(cur.fetchone()[0])


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE {t} (a INT, b VARCHAR(10))",
        "CREATE TABLE IF NOT EXISTS {t} (a INT NOT NULL UNIQUE)",
        "CREATE TABLE {t} AS SELECT 1 AS a",
    ],
)
def test_create_table_without_a_key_is_refused_before_it_runs(
    connect: Callable[..., Any], raw: Callable[..., Any], store: MusicStore, range_a: str,
    ddl: str,
) -> None:  # fmt: skip
    table = f"nokey_{uuid.uuid4().hex[:8]}"
    conn = connect(database=range_a)
    tail = store.describe_range(range_a).tail
    with pytest.raises(capture.NoPrimaryKeyError, match="nothing was executed") as caught:
        conn.cursor().execute(ddl.format(t=table))
    assert caught.value.tables == (f"{range_a}.{table}",)
    assert not _exists(raw, range_a, table), "the refused DDL ran anyway"
    assert store.describe_range(range_a).tail == tail, "the refused DDL was logged"


def test_dropping_the_key_is_refused_and_the_table_keeps_it(
    connect: Callable[..., Any], store: MusicStore, range_a: str
) -> None:
    table = f"keyed_{uuid.uuid4().hex[:8]}"
    cur = connect(database=range_a).cursor()
    cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, v INT)")
    tail = store.describe_range(range_a).tail
    with pytest.raises(capture.NoPrimaryKeyError, match="nothing was executed"):
        cur.execute(f"ALTER TABLE {table} DROP PRIMARY KEY")
    assert store.describe_range(range_a).tail == tail
    cur.execute(f"INSERT INTO {table} VALUES (1, 1)")  # still captured, still writable
    cur.connection.commit()
    assert store.describe_range(range_a).tail == tail + 1


def test_a_key_lost_in_a_way_nobody_foresaw_is_reported_as_done(
    connect: Callable[..., Any], raw: Callable[..., Any], store: MusicStore, range_a: str
) -> None:
    table = f"lost_{uuid.uuid4().hex[:8]}"
    cur = connect(database=range_a).cursor()
    cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, v INT)")
    tail = store.describe_range(range_a).tail
    # Dropping the key's only column drops the key with it.
    with pytest.raises(capture.NoPrimaryKeyError, match="the statement ran at site 'dc1'"):
        cur.execute(f"ALTER TABLE {table} DROP COLUMN id")
    assert store.describe_range(range_a).tail == tail + 1, "what ran must be in the log"
    assert _exists(raw, range_a, table)
