"""Captured images are exactly what a SELECT returns, for every column type SO uses.

The table holds every type the design names, and the rows their edge
values. Each image ``collect`` returns is compared, type and value (float
bits, Decimal digits), with a direct ``SELECT`` of the same row through the
same connection: after INSERT and UPDATE the row as it is now, for DELETE
the row as it was before.
"""

from __future__ import annotations

import decimal
import os
from typing import Any

import pytest
from pymysql.connections import Connection

from mdbc_py import capture
from mdbc_py.log.model import Op, RowChange
from tests.integration.capture.conftest import Connect, assert_same_row, select_image

pytestmark = pytest.mark.services

DDL = """
CREATE TABLE everything (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  flag BIT(1),
  bits BIT(12),
  blob_col LONGBLOB,
  text_col LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  dbl DOUBLE,
  flt FLOAT,
  dec_col DECIMAL(65,30),
  dt DATETIME(3),
  ts TIMESTAMP(6) NULL DEFAULT NULL,
  d DATE,
  t TIME(6),
  y YEAR,
  e ENUM('a','b','ç') CHARACTER SET latin1,
  s SET('x','y','z'),
  j JSON,
  lat VARCHAR(40) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
  u8 VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  big BIGINT UNSIGNED,
  small TINYINT,
  vb VARBINARY(16),
  ch CHAR(5) CHARACTER SET ascii,
  gen_v INT AS (small + 1) VIRTUAL,
  gen_s VARCHAR(50) AS (CONCAT('<', lat, '>')) STORED
) ENGINE=InnoDB
"""

COLUMNS = [
    "id", "flag", "bits", "blob_col", "text_col", "dbl", "flt", "dec_col", "dt", "ts", "d",
    "t", "y", "e", "s", "j", "lat", "u8", "big", "small", "vb", "ch",
]  # fmt: skip
"""The image columns: every column but the generated ones, in table order."""

TINY_DECIMAL = decimal.Decimal("0." + "0" * 29 + "1")
MAX_DECIMAL = decimal.Decimal("9" * 35 + "." + "9" * 30)
"""The largest DECIMAL(65,30). The smallest is made by ``SET dec_col = -dec_col``: MariaDB
refuses it as a literal or a string parameter ("out of range")."""

ROWS: list[dict[str, Any]] = [
    {},  # every column NULL
    {
        "flag": b"\x01", "bits": b"\x0f\xff", "blob_col": b"\x00\xff\x00 \x00",
        "text_col": "", "dbl": -0.0, "flt": 1.5, "dec_col": MAX_DECIMAL,
        "dt": "2024-02-29 23:59:59.123", "ts": "2038-01-19 03:14:07.999999",
        "d": "9999-12-31", "t": "-838:59:59", "y": 2155, "e": "ç", "s": "x,z",
        "j": '{"a": [1, "é", null, 1.5e300], "b\\u0000": {}}', "lat": "é", "u8": "😀 🙂",
        "big": 2**64 - 1, "small": -128, "vb": b"\x00", "ch": "",
    },
    {
        "flag": b"\x00", "bits": b"\x00\x00", "blob_col": b"", "text_col": "😀" * 1000,
        "dbl": 1e308, "flt": -3.4e38, "dec_col": MAX_DECIMAL,
        "dt": "1000-01-01 00:00:00.001", "ts": "2000-01-01 00:00:00.000001",
        "d": "1000-01-01", "t": "12:34:56.5", "y": 1901, "e": "a", "s": "",
        "j": "[]", "lat": "", "u8": "é", "big": 0, "small": 127, "vb": b"", "ch": "ab  ",
    },
    {
        "flag": b"\x01", "blob_col": bytes(range(256)) * 4, "text_col": "a\x00b\nc'\"\\",
        "dbl": 5e-324, "flt": 3.14159, "dec_col": -TINY_DECIMAL,
        "dt": "2024-01-01 00:00:00", "ts": "2024-06-30 12:00:00", "t": "00:00:00",
        "y": 2024, "e": "b", "s": "y", "j": '"x"', "lat": "ÀÿÞ", "u8": "€", "big": 2**63,
        "small": 0, "vb": b"\xff" * 16, "ch": "abcde",
    },
]  # fmt: skip


def _insert(cur: Any, row: dict[str, Any]) -> int:
    if not row:
        cur.execute("INSERT INTO everything () VALUES ()")
    else:
        cols = ", ".join(f"`{c}`" for c in row)
        marks = ", ".join(["%s"] * len(row))
        cur.execute(f"INSERT INTO everything ({cols}) VALUES ({marks})", list(row.values()))
    return int(cur.lastrowid)


def _image(conn: Connection, row_id: int) -> tuple[tuple[str, Any], ...]:
    return select_image(conn, "everything", COLUMNS, "id = %s", (row_id,))


def _check(change: RowChange, op: Op, pk: int, image: Any, table: str) -> None:
    assert change.table == table
    assert change.op is op
    assert change.pk == (("id", pk),)
    assert type(change.pk[0][1]) is int
    assert change.row is not None
    assert_same_row(image, change.row)


@pytest.fixture()
def conn(connect: Connect, database: str) -> Connection:
    """A transactional connection with the table created and captured."""
    c = connect(database=database)
    with c.cursor() as cur:
        cur.execute(DDL)
    assert capture.install_database(c, database) == ["everything"]
    return c


def test_insert_update_delete_images_equal_select(conn: Connection, database: str) -> None:
    table = f"{database}.everything"
    with conn.cursor() as cur:
        ids = [_insert(cur, row) for row in ROWS]
        inserted = {i: _image(conn, i) for i in ids}
        cur.execute("UPDATE everything SET dec_col = -dec_col WHERE id = %s", (ids[2],))
        negated = _image(conn, ids[2])
        assert dict(negated)["dec_col"] == MAX_DECIMAL.copy_negate()
        changes = capture.collect(cur)
    assert len(changes) == len(ROWS) + 1
    # Each INSERT image is the row as inserted, not as it is at commit.
    for row_id, change in zip(ids, changes, strict=False):
        _check(change, Op.INSERT, row_id, inserted[row_id], table)
    _check(changes[-1], Op.UPDATE, ids[2], negated, table)
    conn.commit()

    # UPDATE: swap the edge values around, change one primary key.
    with conn.cursor() as cur:
        for i, row_id in enumerate(ids[1:], start=1):
            other = ROWS[1 + i % (len(ROWS) - 1)]
            sets = ", ".join(f"`{c}` = %s" for c in other)
            cur.execute(f"UPDATE everything SET {sets} WHERE id = %s", [*other.values(), row_id])
        cur.execute("UPDATE everything SET id = 1000 WHERE id = %s", (ids[0],))
        changes = capture.collect(cur)
        assert [c.op for c in changes] == [Op.UPDATE] * len(ids)
        for row_id, change in zip(ids[1:], changes[:-1], strict=True):
            _check(change, Op.UPDATE, row_id, _image(conn, row_id), table)
        # The key is the old one, the image has the new one.
        _check(changes[-1], Op.UPDATE, ids[0], _image(conn, 1000), table)
        assert dict(changes[-1].row or ())["id"] == 1000
    conn.commit()

    # DELETE: the image is the row as it was before.
    remaining = [*ids[1:], 1000]
    before = {i: _image(conn, i) for i in remaining}
    with conn.cursor() as cur:
        cur.execute("DELETE FROM everything ORDER BY id")
        changes = capture.collect(cur)
    assert len(changes) == len(remaining)
    for row_id, change in zip(sorted(remaining), changes, strict=True):
        _check(change, Op.DELETE, row_id, before[row_id], table)
    conn.commit()
    assert capture.out_of_band(conn, database, []) == {}


def test_sixteen_mib_longblob(conn: Connection, database: str) -> None:
    payload = os.urandom(16 * 1024 * 1024) + b"\x00"
    with conn.cursor() as cur:
        row_id = _insert(cur, {"blob_col": payload, "text_col": "é" * (4 * 1024 * 1024)})
        (change,) = capture.collect(cur)
        _check(change, Op.INSERT, row_id, _image(conn, row_id), f"{database}.everything")
        assert dict(change.row or ())["blob_col"] == payload
        conn.commit()
        cur.execute("UPDATE everything SET blob_col = REVERSE(blob_col) WHERE id = %s", (row_id,))
        (change,) = capture.collect(cur)
        assert dict(change.row or ())["blob_col"] == payload[::-1]
        conn.commit()
        cur.execute("DELETE FROM everything WHERE id = %s", (row_id,))
        (change,) = capture.collect(cur)
        assert change.op is Op.DELETE and dict(change.row or ())["blob_col"] == payload[::-1]
        conn.commit()


def test_generated_columns_are_left_out(conn: Connection) -> None:
    with conn.cursor() as cur:
        _insert(cur, {"small": 1, "lat": "x"})
        (change,) = capture.collect(cur)
    names = [c for c, _ in change.row or ()]
    assert names == COLUMNS
    assert "gen_v" not in names and "gen_s" not in names
    conn.rollback()
