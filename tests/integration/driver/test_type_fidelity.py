"""Every SO column type survives capture and encoding: the decoded log entry equals SELECT."""

from __future__ import annotations

import datetime
import decimal
import uuid

from mdbc_py.log import Op, decode
from mdbc_py.music import MusicStore

COLUMNS = """
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  blob_col LONGBLOB, text_col LONGTEXT, bit_col BIT(1), dbl DOUBLE, flt FLOAT,
  dec_col DECIMAL(65,30), dt3 DATETIME(3), ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  d DATE, tm TIME(6), yr YEAR, en ENUM('a','b','c'), st SET('x','y','z'), js JSON,
  latin VARCHAR(50) CHARACTER SET latin1, utf VARCHAR(50) CHARACTER SET utf8mb4,
  big BIGINT UNSIGNED, tiny TINYINT, flag BOOLEAN
"""

ROWS = [
    {
        "blob_col": bytes(range(256)) + b"\x00\x00",
        "text_col": "plain",
        "bit_col": b"\x01",
        "dbl": -0.0,
        "flt": 1.5,
        "dec_col": decimal.Decimal(
            "99999999999999999999999999999999999.999999999999999999999999999999"
        ),
        "dt3": datetime.datetime(2024, 2, 29, 23, 59, 59, 123000),
        "ts6": datetime.datetime(2030, 1, 1, 0, 0, 0, 654321),
        "d": datetime.date(1000, 1, 1),
        "tm": datetime.timedelta(hours=-838, minutes=-59, seconds=-59),
        "yr": 2155,
        "en": "b",
        "st": "x,z",
        "js": '{"k": [1, 2.5, "é"]}',
        "latin": "café é à",
        "utf": "emoji 😀 𝄞",
        "big": 2**64 - 1,
        "tiny": -128,
        "flag": 1,
    },
    {
        key: None
        for key in [
            "blob_col",
            "text_col",
            "bit_col",
            "dbl",
            "flt",
            "dec_col",
            "dt3",
            "ts6",
            "d",
            "tm",
            "yr",
            "en",
            "st",
            "js",
            "latin",
            "utf",
            "big",
            "tiny",
            "flag",
        ]
    },
    {
        "blob_col": b"",
        "text_col": "",
        "bit_col": b"\x00",
        "dbl": 1e308,
        "flt": -3.4e38,
        "dec_col": decimal.Decimal("-0.000000000000000000000000000001"),
        "dt3": datetime.datetime(1970, 1, 1, 0, 0, 0, 1000),
        "ts6": datetime.datetime(1970, 1, 2, 0, 0, 0, 1),
        "d": datetime.date(9999, 12, 31),
        "tm": datetime.timedelta(0),
        "yr": 1901,
        "en": "c",
        "st": "",
        "js": "null",
        "latin": "",
        "utf": "",
        "big": 0,
        "tiny": 127,
        "flag": 0,
    },
]


def test_every_type_round_trips_through_the_log(connect, store: MusicStore, range_a: str) -> None:  # type: ignore[no-untyped-def]
    t = f"types_{uuid.uuid4().hex[:8]}"
    conn = connect(database=range_a)
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {t} ({COLUMNS})")
    tail = store.describe_range(range_a).tail
    names = list(ROWS[0])
    big = {"blob_col": b"\xff\x00" * (8 * 1024 * 1024)}  # a 16 MiB LONGBLOB
    for row in [*ROWS, {**ROWS[0], **big}]:
        cur.execute(
            f"INSERT INTO {t} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
            [row[n] for n in names],
        )
    cur.execute(f"UPDATE {t} SET utf = 'changed ✓', bit_col = b'0' WHERE id = 1")
    cur.execute(f"DELETE FROM {t} WHERE id = 2")
    conn.commit()
    ((_seq, payload),) = [(r.seq, decode(r.payload)) for r in store.iter_entries(range_a, tail + 1)]
    cur.execute(f"SELECT * FROM {t} ORDER BY id")
    columns = [d[0] for d in cur.description]
    selected = {r[0]: tuple(zip(columns, r, strict=True)) for r in cur.fetchall()}
    conn.commit()

    inserts = [c for c in payload.changes if c.op is Op.INSERT]
    assert len(inserts) == 4
    update = next(c for c in payload.changes if c.op is Op.UPDATE)
    delete = next(c for c in payload.changes if c.op is Op.DELETE)
    # Final images equal what SELECT returns now, value for value and type for type.
    assert update.row == selected[1]
    for change in inserts[2:]:
        assert change.row == selected[change.pk[0][1]]
        for (name, logged), (_, direct) in zip(change.row, selected[change.pk[0][1]], strict=True):
            assert type(logged) is type(direct), name
    assert delete.pk == (("id", 2),)
    assert delete.row is not None and all(v is None for c, v in delete.row if c != "id")
    assert len(dict(inserts[3].row)["blob_col"]) == 16 * 1024 * 1024
