"""Shadows live in the stage database: the application's database shows its own tables only.

Also covers moving an older install (shadows inside the application's
database) and dropping the stage database with its database.
"""

from __future__ import annotations

import dataclasses
import logging

import pytest
from pymysql.connections import Connection

from mdbc_py import capture
from mdbc_py.capture import sqlgen
from mdbc_py.capture.schema import read_tables
from mdbc_py.core import apply
from tests.integration.capture.conftest import Connect, run_sql

pytestmark = pytest.mark.services


def _show_tables(conn: Connection, db: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(f"SHOW TABLES FROM `{db}`")
        return sorted(n for (n,) in cur.fetchall())


def _schema_exists(conn: Connection, name: str) -> bool:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,)
        )
        return any(n == name for (n,) in cur.fetchall())


def _trigger_bodies(conn: Connection, db: str) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS "
            "WHERE EVENT_OBJECT_SCHEMA = %s",
            (db,),
        )
        return dict(cur.fetchall())


def _make_legacy(admin: Connection, db: str, tables: list[str]) -> None:
    """Turn a current install into what older versions left: shadows inside ``db``.

    The legacy shadow is a copy of the current one (same layout and comment)
    and the triggers are the current ones with the stage database replaced by
    ``db``: exactly the statements older versions generated.
    """
    stage = capture.stage_database(db)
    with admin.cursor() as cur:
        infos = read_tables(cur, db)
        for table in tables:
            p = sqlgen.plan(infos[table])
            cur.execute(f"CREATE TABLE `{db}`.`{p.shadow}` LIKE `{stage}`.`{p.shadow}`")
            old = dataclasses.replace(p, stage=db)
            for name in old.triggers:
                cur.execute(sqlgen.create_trigger_sql(old, name))
        cur.execute(f"DROP DATABASE `{stage}`")


def test_app_database_lists_only_the_app_tables(admin: Connection, database: str) -> None:
    run_sql(
        admin,
        f"USE `{database}`",
        "CREATE TABLE a (id INT PRIMARY KEY)",
        "CREATE TABLE b (id INT PRIMARY KEY, v TEXT)",
    )
    assert capture.install_database(admin, database) == ["a", "b"]
    assert _show_tables(admin, database) == ["a", "b"]
    stage = capture.stage_database(database)
    assert _show_tables(admin, stage) == ["mdbc_s_a", "mdbc_s_b"]
    with admin.cursor() as cur:
        cur.execute(
            "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME = %s",
            (stage,),
        )
        assert cur.fetchone() == ("utf8mb4",)  # the database's default
    assert all(f"`{stage}`.`mdbc_s_" in body for body in _trigger_bodies(admin, database).values())


def test_legacy_empty_shadows_are_moved_out(
    connect: Connect, admin: Connection, database: str
) -> None:
    run_sql(
        admin,
        f"USE `{database}`",
        "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10))",
        "CREATE TABLE b (id INT PRIMARY KEY)",
    )
    capture.install_database(admin, database)
    _make_legacy(admin, database, ["a", "b"])
    assert _show_tables(admin, database) == ["a", "b", "mdbc_s_a", "mdbc_s_b"]
    # Triggers of an older install do not count as captured: the driver would
    # collect from the stage database and miss their rows.
    assert capture.captured_tables(admin, database) == []

    assert capture.install_database(admin, database) == ["a", "b"]
    assert _show_tables(admin, database) == ["a", "b"]
    assert _show_tables(admin, capture.stage_database(database)) == ["mdbc_s_a", "mdbc_s_b"]
    assert capture.captured_tables(admin, database) == ["a", "b"]
    conn = connect(database=database)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO a VALUES (1, 'x')")
        (change,) = capture.collect(cur)
    assert change.row == (("id", 1), ("v", "x"))
    conn.commit()
    assert capture.out_of_band(admin, database, []) == {}


def test_legacy_shadow_with_rows_is_refused_and_nothing_changes(
    connect: Connect, admin: Connection, database: str
) -> None:
    run_sql(
        admin,
        f"USE `{database}`",
        "CREATE TABLE a (id INT PRIMARY KEY)",
        "CREATE TABLE b (id INT PRIMARY KEY)",
    )
    capture.install_database(admin, database)
    _make_legacy(admin, database, ["a", "b"])
    run_sql(connect(database=database, autocommit=True), "INSERT INTO b VALUES (7)")  # bypass
    assert capture.out_of_band(admin, database, []) == {"b": 1}  # legacy rows are counted
    before = _trigger_bodies(admin, database)

    with pytest.raises(capture.StagedRowsError, match=r"`b` \(1\)") as caught:
        capture.install_database(admin, database)
    assert "nothing was changed" in str(caught.value)
    with pytest.raises(capture.StagedRowsError, match="`b`"):
        capture.install_table(admin, database, "b")
    assert _show_tables(admin, database) == ["a", "b", "mdbc_s_a", "mdbc_s_b"]
    assert _trigger_bodies(admin, database) == before
    assert not _schema_exists(admin, capture.stage_database(database))
    with pytest.raises(capture.StagedRowsError):
        capture.uninstall_database(admin, database)

    run_sql(admin, f"DELETE FROM `{database}`.mdbc_s_b")  # an operator resolved them
    assert capture.install_database(admin, database) == ["a", "b"]
    assert _show_tables(admin, database) == ["a", "b"]
    assert capture.captured_tables(admin, database) == ["a", "b"]


def test_long_database_names_get_a_hashed_stage(connect: Connect, admin: Connection) -> None:
    db = "capture_" + "l" * 56
    stage = capture.stage_database(db)
    assert len(db) == 64 and stage.startswith("mdbc_stagex_") and len(stage) <= 64
    try:
        run_sql(admin, f"CREATE DATABASE `{db}`", f"CREATE TABLE `{db}`.t (id INT PRIMARY KEY)")
        assert capture.install_database(admin, db) == ["t"]
        assert _show_tables(admin, stage) == ["mdbc_s_t"]
        conn = connect(database=db)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO t VALUES (1)")
            assert [c.table for c in capture.collect(cur)] == [f"{db}.t"]
        conn.commit()
        capture.uninstall_database(admin, db)
        assert not _schema_exists(admin, stage)
    finally:
        run_sql(admin, f"DROP DATABASE IF EXISTS `{db}`", f"DROP DATABASE IF EXISTS `{stage}`")


def test_drop_database_takes_the_stage_database_along(
    connect: Connect, admin: Connection, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    stage = capture.stage_database(database)
    run_sql(admin, f"USE `{database}`", "CREATE TABLE t (id INT PRIMARY KEY)")
    capture.install_database(admin, database)
    apply.recapture(admin, database, f"CREATE PROCEDURE `{database}`.p() BEGIN END")
    assert _schema_exists(admin, stage)  # the database still exists: nothing to forget

    # Out-of-band rows keep the stage database (reported, never dropped silently).
    run_sql(connect(database=database, autocommit=True), "INSERT INTO t VALUES (1)")
    run_sql(admin, "USE mysql", f"DROP DATABASE `{database}`")
    with caplog.at_level(logging.WARNING, logger=apply.__name__):
        apply.recapture(admin, None, f"DROP DATABASE `{database}`")
    assert _schema_exists(admin, stage) and "out-of-band" in caplog.text
    assert capture.out_of_band(admin, database, []) == {"t": 1}

    run_sql(admin, f"DELETE FROM `{stage}`.mdbc_s_t")
    apply.recapture(admin, None, f"DROP DATABASE IF EXISTS `{database}`")
    assert not _schema_exists(admin, stage)
