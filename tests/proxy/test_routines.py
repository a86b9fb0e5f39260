"""A stored function's writes through the proxy: staged rows decide, as in the driver."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pymysql
import pytest

from mdbc_py.log import Op, decode
from mdbc_py.music import MusicStore
from tests.proxy.conftest import rows, staged


@pytest.mark.parametrize("autocommit", [False, True], ids=["tx", "autocommit"])
def test_a_stored_function_write_is_logged(
    connect: Callable[..., pymysql.Connection],
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_a: str,
    autocommit: bool,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    table, func = f"audit_{suffix}", f"log_it_{suffix}"
    conn = connect(database=range_a, autocommit=autocommit)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {table} (t VARCHAR(64) PRIMARY KEY)")
    cur.execute(
        f"CREATE FUNCTION {func}(t VARCHAR(64)) RETURNS INT MODIFIES SQL DATA "
        f"BEGIN INSERT INTO {table} VALUES (t); RETURN 1; END"
    )
    tail = store.describe_range(range_a).tail
    cur.execute(f"SELECT {func}(%s)", ("seen",))
    assert cur.fetchall() == ((1,),)
    if not autocommit:
        conn.commit()
    logged = [
        (c.table, c.op, c.row)
        for r in store.iter_entries(range_a, tail + 1)
        for c in decode(r.payload).changes
    ]
    assert logged == [(f"{range_a}.{table}", Op.INSERT, (("t", "seen"),))]
    assert rows(raw, f"SELECT t FROM {range_a}.{table}") == (("seen",),)
    assert staged(raw, range_a, table) == 0
