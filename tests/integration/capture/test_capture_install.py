"""Installing, regenerating and removing the capture of tables on a real MariaDB."""

from __future__ import annotations

import pymysql
import pytest
from pymysql.connections import Connection

from mdbc_py import capture
from mdbc_py.capture.sqlgen import shadow_table
from mdbc_py.errors import MdbcError, ProgrammingError
from mdbc_py.log.model import Op
from tests.integration.capture.conftest import Connect, run_sql

pytestmark = pytest.mark.services


def _mdbc_tables(admin: Connection, db: str) -> list[str]:
    """Names of the tables of ``db`` that start with ``mdbc_``."""
    with admin.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (db,)
        )
        return sorted(n for (n,) in cur.fetchall() if n.startswith("mdbc_"))


def _mdbc_objects(admin: Connection, db: str) -> tuple[list[str], list[str]]:
    """The shadows (in the stage database) and the ``mdbc_`` triggers of ``db``.

    Also checks that no shadow sits inside ``db`` itself.
    """
    assert not [n for n in _mdbc_tables(admin, db) if n.startswith("mdbc_s")]
    tables = _mdbc_tables(admin, capture.stage_database(db))
    with admin.cursor() as cur:
        cur.execute(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s",
            (db,),
        )
        triggers = sorted(n for (n,) in cur.fetchall() if n.startswith("mdbc_"))
    return tables, triggers


def _schema_exists(admin: Connection, name: str) -> bool:
    with admin.cursor() as cur:
        cur.execute(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,)
        )
        return any(n == name for (n,) in cur.fetchall())


def _created(admin: Connection, db: str) -> list[tuple[object, ...]]:
    """Creation times of the capture objects: unchanged when an install did nothing."""
    with admin.cursor() as cur:
        cur.execute(
            "SELECT TRIGGER_NAME, CREATED FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = %s ORDER BY 1",
            (db,),
        )
        rows = list(cur.fetchall())
        cur.execute(
            "SELECT TABLE_SCHEMA, TABLE_NAME, CREATE_TIME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA IN (%s, %s) ORDER BY 1, 2",
            (db, capture.stage_database(db)),
        )
        return rows + list(cur.fetchall())


def test_tables_without_primary_key_are_refused_and_nothing_installed(
    admin: Connection, database: str
) -> None:
    run_sql(
        admin,
        f"USE `{database}`",
        "CREATE TABLE fine (id INT PRIMARY KEY)",
        "CREATE TABLE loose (a INT, b INT)",
        "CREATE TABLE unique_only (a INT NOT NULL, UNIQUE KEY (a))",
    )
    with pytest.raises(capture.NoPrimaryKeyError) as caught:
        capture.install_database(admin, database)
    err = caught.value
    assert isinstance(err, MdbcError) and isinstance(err, ProgrammingError)
    assert err.tables == (f"{database}.loose", f"{database}.unique_only")
    message = str(err)
    assert f"{database}.loose" in message and f"{database}.unique_only" in message
    assert "add a primary key" in message.lower() and "range" in message
    assert _mdbc_objects(admin, database) == ([], [])

    with pytest.raises(capture.NoPrimaryKeyError, match=f"{database}.loose"):
        capture.install_table(admin, database, "loose")
    assert _mdbc_objects(admin, database) == ([], [])


def test_install_is_idempotent_and_skips_views_and_own_tables(
    admin: Connection, database: str
) -> None:
    run_sql(
        admin,
        f"USE `{database}`",
        "CREATE TABLE a (id INT PRIMARY KEY, v TEXT)",
        "CREATE TABLE b (k VARCHAR(20), n INT, PRIMARY KEY (k, n))",
        "CREATE TABLE mdbc_own (id INT PRIMARY KEY)",
        "CREATE VIEW v AS SELECT id FROM a",
        "CREATE SEQUENCE s",
    )
    assert capture.install_database(admin, database) == ["a", "b"]
    assert _mdbc_tables(admin, database) == ["mdbc_own"]
    assert _mdbc_objects(admin, database) == (
        ["mdbc_s_a", "mdbc_s_b"],
        ["mdbc_ad_a", "mdbc_ad_b", "mdbc_ai_a", "mdbc_ai_b", "mdbc_au_a", "mdbc_au_b"],
    )
    before = _created(admin, database)
    assert capture.install_database(admin, database) == ["a", "b"]
    capture.install_table(admin, database, "a")
    capture.install_table(admin, database, "v")  # a view: nothing to do
    capture.install_table(admin, database, "mdbc_own")  # mdbc's own: never captured
    assert _created(admin, database) == before
    assert capture.captured_tables(admin, database) == ["a", "b"]


def test_reinstall_after_ddl_captures_the_new_definition(
    connect: Connect, admin: Connection, database: str
) -> None:
    run_sql(admin, f"USE `{database}`", "CREATE TABLE t (id INT PRIMARY KEY, old_col INT)")
    capture.install_database(admin, database)
    conn = connect(database=database)

    run_sql(admin, f"ALTER TABLE `{database}`.t ADD COLUMN added VARCHAR(5) DEFAULT 'z'")
    capture.install_table(admin, database, "t")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO t (id, old_col) VALUES (1, 10)")
        (change,) = capture.collect(cur)
    assert change.row == (("id", 1), ("old_col", 10), ("added", "z"))
    conn.commit()

    # A dropped column breaks the old triggers (they name it) until regenerated;
    # replay sessions do not reach the INSERT of the trigger, so they still write.
    run_sql(admin, f"ALTER TABLE `{database}`.t DROP COLUMN old_col")
    with pytest.raises(pymysql.err.OperationalError, match="old_col"):
        run_sql(conn, "INSERT INTO t (id) VALUES (2)")
    run_sql(
        conn, "SET @mdbc_replay = 1", "INSERT INTO t (id) VALUES (2)", "SET @mdbc_replay = NULL"
    )
    conn.rollback()
    capture.install_table(admin, database, "t")
    with conn.cursor() as cur:
        cur.execute("UPDATE t SET added = 'y' WHERE id = 1")
        (change,) = capture.collect(cur)
    assert (change.op, change.pk, change.row) == (
        Op.UPDATE,
        (("id", 1),),
        (("id", 1), ("added", "y")),
    )
    conn.commit()
    assert capture.captured_tables(admin, database) == ["t"]


def test_changed_primary_key_regenerates_the_key_columns(
    connect: Connect, admin: Connection, database: str
) -> None:
    run_sql(admin, f"USE `{database}`", "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a))")
    capture.install_database(admin, database)
    run_sql(admin, f"ALTER TABLE `{database}`.t DROP PRIMARY KEY, ADD PRIMARY KEY (b, a)")
    capture.install_table(admin, database, "t")
    conn = connect(database=database)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO t VALUES (1, 2)")
        cur.execute("UPDATE t SET a = 5")
        ins, upd = capture.collect(cur)
    assert ins.pk == (("b", 2), ("a", 1))
    assert upd.pk == (("b", 2), ("a", 1)) and upd.row == (("a", 5), ("b", 2))
    conn.commit()


def test_staged_rows_block_regeneration_and_are_kept(
    connect: Connect, admin: Connection, database: str
) -> None:
    run_sql(admin, f"USE `{database}`", "CREATE TABLE t (id INT PRIMARY KEY)")
    capture.install_database(admin, database)
    run_sql(connect(database=database, autocommit=True), "INSERT INTO t VALUES (1)")  # bypass
    run_sql(admin, f"ALTER TABLE `{database}`.t ADD COLUMN c INT")

    with pytest.raises(capture.StagedRowsError, match="out-of-band"):
        capture.install_table(admin, database, "t")
    with pytest.raises(capture.StagedRowsError, match="nothing was changed"):
        capture.install_database(admin, database)
    with pytest.raises(capture.StagedRowsError):
        capture.remove_table(admin, database, "t")
    assert capture.out_of_band(admin, database, []) == {"t": 1}

    run_sql(admin, f"DELETE FROM {shadow_table(database, 't')}")  # an operator resolved them
    capture.install_table(admin, database, "t")
    conn = connect(database=database)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO t VALUES (2, 3)")
        (change,) = capture.collect(cur)
    assert change.row == (("id", 2), ("c", 3))
    conn.commit()


def test_long_case_sensitive_and_odd_names(
    connect: Connect, admin: Connection, database: str
) -> None:
    long_name = "t" * 64
    odd = "we`ird %s name"
    run_sql(
        admin,
        f"USE `{database}`",
        f"CREATE TABLE `{long_name}` (id INT PRIMARY KEY)",
        "CREATE TABLE `Service` (id INT PRIMARY KEY)",
        "CREATE TABLE `service` (id INT PRIMARY KEY)",
        "CREATE TABLE `we``ird %s name` (`c``o%l` INT PRIMARY KEY, `é ü` TEXT)",
    )
    tables = capture.install_database(admin, database)
    assert tables == sorted(["Service", "service", long_name, odd])
    shadows, triggers = _mdbc_objects(admin, database)
    assert all(len(n) <= 64 for n in shadows + triggers)
    assert capture.shadow_name(long_name) in shadows
    assert capture.shadow_name(long_name).startswith("mdbc_sx_")

    conn = connect(database=database)
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO `{long_name}` VALUES (1)")
        cur.execute("INSERT INTO `service` VALUES (2)")
        cur.execute("INSERT INTO `Service` VALUES (3)")
        cur.execute("INSERT INTO `we``ird %s name` VALUES (4, 'x')")
        changes = capture.collect(cur)
    assert [(c.table, c.pk) for c in changes] == [
        (f"{database}.{long_name}", (("id", 1),)),
        (f"{database}.service", (("id", 2),)),
        (f"{database}.Service", (("id", 3),)),
        (f"{database}.{odd}", (("c`o%l", 4),)),
    ]
    assert changes[-1].row == (("c`o%l", 4), ("é ü", "x"))
    conn.commit()
    run_sql(connect(database=database, autocommit=True), "DELETE FROM `we``ird %s name`")
    assert capture.out_of_band(admin, database, []) == {odd: 1}


def test_reserved_column_names_and_versioned_tables_are_refused(
    admin: Connection, database: str
) -> None:
    run_sql(
        admin,
        f"USE `{database}`",
        "CREATE TABLE ok (id INT PRIMARY KEY)",
        "CREATE TABLE clash (id INT PRIMARY KEY, MDBC_SEQ INT)",
        "CREATE TABLE versioned (id INT PRIMARY KEY) WITH SYSTEM VERSIONING",
    )
    with pytest.raises(capture.UnsupportedTableError) as caught:
        capture.install_database(admin, database)
    assert "clash" in str(caught.value) and "MDBC_SEQ" in str(caught.value)
    assert "versioned" in str(caught.value)
    assert _mdbc_objects(admin, database) == ([], [])


def test_remove_rename_drop_and_uninstall(
    connect: Connect, admin: Connection, database: str
) -> None:
    run_sql(
        admin,
        f"USE `{database}`",
        "CREATE TABLE a (id INT PRIMARY KEY)",
        "CREATE TABLE b (id INT PRIMARY KEY)",
        "CREATE TABLE c (id INT PRIMARY KEY)",
    )
    capture.install_database(admin, database)

    capture.remove_table(admin, database, "c")
    assert capture.captured_tables(admin, database) == ["a", "b"]
    capture.remove_table(admin, database, "c")  # again: nothing left to do

    # Triggers follow a renamed table: they must not stage its rows as the old name.
    run_sql(admin, f"RENAME TABLE `{database}`.a TO `{database}`.a2")
    capture.install_table(admin, database, "a2")
    capture.remove_table(admin, database, "a")
    conn = connect(database=database)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO a2 VALUES (1)")
        assert [c.table for c in capture.collect(cur)] == [f"{database}.a2"]
    conn.commit()
    assert capture.captured_tables(admin, database) == ["a2", "b"]

    # DROP TABLE takes the triggers along; the shadow is removed afterwards.
    run_sql(admin, f"DROP TABLE `{database}`.b")
    capture.remove_table(admin, database, "b")
    assert _mdbc_objects(admin, database) == (
        ["mdbc_s_a2"],
        ["mdbc_ad_a2", "mdbc_ai_a2", "mdbc_au_a2"],
    )

    run_sql(connect(database=database, autocommit=True), "INSERT INTO a2 VALUES (2)")
    with pytest.raises(capture.StagedRowsError):
        capture.uninstall_database(admin, database)
    assert capture.captured_tables(admin, database) == ["a2"]
    capture.uninstall_database(admin, database, force=True)
    assert _mdbc_objects(admin, database) == ([], [])
    assert capture.captured_tables(admin, database) == []
    assert not _schema_exists(admin, capture.stage_database(database))
