"""A 70 MiB transaction of one repeated byte is refused through the real driver.

It compresses to a few KiB, so a limit checked only on the stored bytes let
it through; the limit on the uncompressed body (what MariaDB and every
replica must handle) refuses it, and nothing is logged or committed.
"""

from __future__ import annotations

import uuid

import pytest

import mdbc_py
from mdbc_py.log import MAX_BODY_BYTES
from mdbc_py.music import MusicStore

ROW_BYTES = 7 * 1024 * 1024
"""Several rows, not one: InnoDB caps one BLOB at a tenth of its redo log."""
ROWS = 10


def _count(raw, db: str, table: str) -> int:  # type: ignore[no-untyped-def]
    with raw().cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM `{db}`.`{table}`")
        return int(cur.fetchone()[0])


def test_70_mib_of_one_repeated_byte_is_refused_and_nothing_is_logged_or_committed(
    connect, raw, store: MusicStore, range_a: str
) -> None:  # type: ignore[no-untyped-def]
    assert ROWS * ROW_BYTES == 70 * 1024 * 1024 > MAX_BODY_BYTES
    table = f"big_{uuid.uuid4().hex[:8]}"
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, v LONGBLOB)")
    tail = store.describe_range(range_a).tail

    for i in range(ROWS):  # the server builds each value: the test sends a few bytes
        cur.execute(f"INSERT INTO {table} VALUES (%s, REPEAT('a', %s))", (i, ROW_BYTES))
    with pytest.raises(mdbc_py.EntryTooLargeError) as info:
        conn.commit()

    err = info.value
    assert isinstance(err, mdbc_py.DataError)
    assert err.which == "uncompressed" and err.limit == MAX_BODY_BYTES
    assert err.size is not None and err.size > ROWS * ROW_BYTES
    assert "over the limit" in str(err) and "nothing was written" in str(err)
    assert store.describe_range(range_a).tail == tail  # nothing logged: no replica gets it
    assert _count(raw, range_a, table) == 0  # nothing committed at the owner

    # The connection is still usable, and a transaction of a normal size is logged.
    cur.execute(f"INSERT INTO {table} VALUES (1, REPEAT('a', 1000))")
    conn.commit()
    assert store.describe_range(range_a).tail == tail + 1
    assert _count(raw, range_a, table) == 1
