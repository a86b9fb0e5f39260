"""The application's own triggers: each row image is applied exactly once at a replica.

An ``AFTER INSERT`` trigger of the application copies ``src`` rows into
``dst``. The owner's log entry carries both rows; if the trigger fired
again when a replica replays the ``src`` row, the replica would hit a
duplicate key on ``dst`` and stall for good. Capture guards every
application trigger so it stays silent in replay sessions.
"""

from __future__ import annotations

import pymysql
import pytest

from mdbc_py import capture
from mdbc_py.capture.app_triggers import GUARD_PREFIX, guarded, is_guarded
from mdbc_py.log import decode
from mdbc_py.replication.verify import verify_range
from tests.integration.replication.conftest import Repl

APP_SCHEMA = [
    "CREATE TABLE src (id INT PRIMARY KEY, v VARCHAR(20))",
    "CREATE TABLE dst (id INT PRIMARY KEY, v VARCHAR(20), at DATETIME(6),"
    " FOREIGN KEY (id) REFERENCES src (id) ON DELETE CASCADE)",
    "CREATE TABLE counter (k INT PRIMARY KEY, n INT NOT NULL)",
    "INSERT INTO counter VALUES (1, 0)",
    # NOW(6) differs at a replica: only the owner's image is right.
    "CREATE TRIGGER app_copy AFTER INSERT ON src FOR EACH ROW"
    " INSERT INTO dst VALUES (NEW.id, NEW.v, NOW(6))",
    "CREATE TRIGGER app_count AFTER INSERT ON src FOR EACH ROW"
    " BEGIN UPDATE counter SET n = n + 1 WHERE k = 1; END",
    "CREATE TRIGGER app_upper BEFORE UPDATE ON src FOR EACH ROW SET NEW.v = UPPER(NEW.v)",
]


def _rows(conn: pymysql.Connection, sql: str) -> tuple[tuple[object, ...], ...]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return tuple(cur.fetchall())


def test_replay_does_not_fire_the_applications_triggers_again(repl: Repl) -> None:
    conn = repl.connect()
    cur = conn.cursor()
    for sql in APP_SCHEMA:
        cur.execute(sql)
    conn.commit()
    for i in range(1, 6):
        cur.execute("INSERT INTO src VALUES (%s, %s)", (i, f"v{i}"))
    conn.commit()
    cur.execute("UPDATE src SET v = 'changed' WHERE id = 2")
    cur.execute("DELETE FROM src WHERE id = 3")  # cascades into dst: no trigger fires
    conn.commit()

    tail = repl.tail()
    last = decode(repl.store.read(repl.name, tail - 1, 1)[0].payload)
    tables = [c.table.split(".")[1] for c in last.changes]
    assert tables[:3] == ["src", "dst", "counter"], "rows not staged in the order written"

    for site in ("dc2", "dc3"):
        result = repl.catch_up(site)
        assert result.applied > 0
        owner, replica = repl.raw("dc1", database=repl.name), repl.raw(site, database=repl.name)
        for table in ("src", "dst", "counter"):
            sql = f"SELECT * FROM {table} ORDER BY 1"
            assert _rows(replica, sql) == _rows(owner, sql), f"{table} differs at {site}"
        assert _rows(replica, "SELECT n FROM counter") == ((5,),), "counter bumped twice"
    report = verify_range(repl.cfg, repl.store, repl.name, sites=["dc1", "dc2", "dc3"])
    assert report.ok, report


def test_every_site_guards_the_trigger_and_keeps_its_behaviour(repl: Repl) -> None:
    conn = repl.connect()
    cur = conn.cursor()
    for sql in APP_SCHEMA[:5]:
        cur.execute(sql)
    conn.commit()
    repl.catch_up("dc2")
    for site in ("dc1", "dc2"):
        body = _rows(
            repl.raw(site),
            "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS "
            f"WHERE TRIGGER_SCHEMA = '{repl.name}' AND TRIGGER_NAME = 'app_copy'",
        )
        assert len(body) == 1 and is_guarded(str(body[0][0])), f"not guarded at {site}"
    # An ordinary session still fires it.
    plain = repl.raw("dc1", database=repl.name)
    with plain.cursor() as c:
        c.execute("SET @mdbc_replay = NULL")
    cur.execute("INSERT INTO src VALUES (7, 'x')")
    conn.commit()
    assert _rows(plain, "SELECT id, v FROM dst") == ((7, "x"),)


def test_mdbc_init_guards_triggers_created_around_the_driver(repl: Repl) -> None:
    raw = repl.raw("dc2", database=repl.name)
    with raw.cursor() as cur:
        cur.execute("CREATE TABLE a (id INT PRIMARY KEY)")
        cur.execute("CREATE TABLE b (id INT PRIMARY KEY)")
        cur.execute(
            "CREATE TRIGGER t1 AFTER INSERT ON a FOR EACH ROW INSERT INTO b VALUES (NEW.id)"
        )
        cur.execute("CREATE TRIGGER t2 AFTER INSERT ON a FOR EACH ROW SET @seen = NEW.id")
    capture.install_database(raw, repl.name)
    order = _rows(
        raw,
        "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS "
        f"WHERE EVENT_OBJECT_SCHEMA = '{repl.name}' AND EVENT_OBJECT_TABLE = 'a' "
        "AND EVENT_MANIPULATION = 'INSERT' ORDER BY ACTION_ORDER",
    )
    assert [name for name, _ in order] == ["mdbc_ai_a", "t1", "t2"]
    assert all(is_guarded(str(body)) for name, body in order if not name.startswith("mdbc_"))
    # Idempotent: a second install changes nothing.
    before = _rows(raw, f"SELECT TRIGGER_NAME, CREATED FROM information_schema.TRIGGERS "
                   f"WHERE EVENT_OBJECT_SCHEMA = '{repl.name}' ORDER BY 1")  # fmt: skip
    capture.install_database(raw, repl.name)
    after = _rows(raw, f"SELECT TRIGGER_NAME, CREATED FROM information_schema.TRIGGERS "
                  f"WHERE EVENT_OBJECT_SCHEMA = '{repl.name}' ORDER BY 1")  # fmt: skip
    assert after == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("SET @x = 1", f"{GUARD_PREFIX}\nSET @x = 1;\nEND IF"),
        ("BEGIN SET @x = 1; END;", f"{GUARD_PREFIX}\nBEGIN SET @x = 1; END;\nEND IF"),
        (f"{GUARD_PREFIX} SET @x = 1; END IF", f"{GUARD_PREFIX} SET @x = 1; END IF"),
    ],
)
def test_guarded_wraps_one_statement_once(body: str, expected: str) -> None:
    assert guarded(body) == expected
