"""The SO schemas: well-formed files, loaded through the driver at dc1, replicated exactly.

What these tests try to break: a statement the loader splits wrongly, a
table without a primary key (it could not be captured), a DDL that does not
reach the log or reaches the replicas in another form, and the real column
types and ON DELETE CASCADE keys of the SO tables after replay.
"""

from __future__ import annotations

import re

import pymysql
import pytest

import mdbc_py
from mdbc_py import capture
from mdbc_py.config import Config
from mdbc_py.log import decode
from mdbc_py.replication import replay
from mdbc_py.replication.sites import connect_site
from mdbc_py.workload import load_so_schemas, seed_so_data
from mdbc_py.workload.model import SO_DATABASES
from mdbc_py.workload.schema import schema_path, split_statements
from tests.integration.workload.conftest import SoCluster

SITES = ["dc1", "dc2", "dc3"]

EXPECTED_TABLES = {
    "requestdb": {"infra_active_requests", "request_processing_data", "operation_status"},
    "catalogdb": {"service", "service_recipe", "vnf_resource", "network_resource"},
    "camundabpmn": {"ACT_GE_PROPERTY", "ACT_GE_BYTEARRAY", "ACT_RE_DEPLOYMENT", "ACT_RE_PROCDEF",
                    "ACT_RU_EXECUTION", "ACT_RU_JOB", "ACT_RU_VARIABLE", "ACT_HI_PROCINST"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE TABLE a (x int); CREATE TABLE b (y int);",
         ["CREATE TABLE a (x int)", "CREATE TABLE b (y int)"]),
        ("-- a comment; with a semicolon\nCREATE TABLE a (x int)", ["CREATE TABLE a (x int)"]),
        ("CREATE TABLE a (x varchar(9) DEFAULT 'a;b--c');",
         ["CREATE TABLE a (x varchar(9) DEFAULT 'a;b--c')"]),
        ("CREATE TABLE `we;ird` (x int) /* block; comment */;",
         ["CREATE TABLE `we;ird` (x int)"]),
        ("CREATE TABLE a (x varchar(9) DEFAULT 'it''s; ok');",
         ["CREATE TABLE a (x varchar(9) DEFAULT 'it''s; ok')"]),
        ("  ;\n-- only comments\n", []),
    ],
)  # fmt: skip
def test_split_statements(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


@pytest.mark.parametrize("name", SO_DATABASES)
def test_schema_files_hold_create_table_statements_with_primary_keys(name: str) -> None:
    statements = split_statements(schema_path(name).read_text(encoding="utf-8"))
    tables = set()
    for statement in statements:
        assert statement.startswith("CREATE TABLE IF NOT EXISTS `"), statement[:60]
        assert "PRIMARY KEY (" in statement, statement[:60]
        name_match = re.match(r"CREATE TABLE IF NOT EXISTS `([^`]+)`", statement)
        assert name_match is not None
        tables.add(name_match.group(1))
    assert EXPECTED_TABLES[name] <= tables
    assert len(tables) == len(statements), "a table is created twice"


def _show_create(cfg: Config, site: str, db: str) -> dict[str, str]:
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), database=db)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
            names = sorted(r[0] for r in cur.fetchall() if not r[0].startswith("mdbc_"))
            found = {}
            for name in names:
                cur.execute(f"SHOW CREATE TABLE `{name}`")
                found[name] = cur.fetchone()[1]
            return found
    finally:
        conn.close()


def _checksums(cfg: Config, site: str, db: str) -> dict[str, int]:
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), database=db)
    try:
        with conn.cursor() as cur:
            out = {}
            for name in _show_create(cfg, site, db):
                cur.execute(f"CHECKSUM TABLE `{name}`")
                out[name] = int(cur.fetchone()[1])
            return out
    finally:
        conn.close()


def _replay_everywhere(so: SoCluster) -> None:
    """Bring dc2 and dc3 up to the tail, as their agents would (again after a deadlock
    with another applier of the shared sandbox, as an agent's next tick does)."""
    for site in ("dc2", "dc3"):
        for range_name in so.ranges:
            for attempt in range(5):
                conn = connect_site(so.cfg, site)
                try:
                    replay.catch_up(so.store, conn, site, range_name)
                    break
                except pymysql.err.OperationalError as exc:
                    if exc.args[0] != 1213 or attempt == 4:
                        raise
                finally:
                    conn.close()


def test_schemas_load_through_the_driver_and_replicate(so_cluster: SoCluster) -> None:
    """DDL entries in the logs, identical tables and capture everywhere, then SO rows."""
    so = so_cluster
    loaded = load_so_schemas(so.cfg, so.dbs)
    for name, db in so.dbs.by_schema().items():
        # every CREATE is one DDL entry of the range's log (the range is fresh)
        assert so.store.describe_range(db).tail == len(loaded[db])
        entries = [decode(e.payload) for e in so.store.read(db, 1, len(loaded[db]))]
        assert [e.ddl.sql for e in entries if e.ddl is not None] == loaded[db]
        conn = pymysql.connect(**so.cfg.site("dc1").connect_kwargs())
        try:
            captured = set(capture.captured_tables(conn, db))
        finally:
            conn.close()
        assert EXPECTED_TABLES[name] <= captured, "tables created through the driver are captured"

    _replay_everywhere(so)
    for db in so.dbs.all():
        reference = _show_create(so.cfg, "dc1", db)
        assert len(reference) == len(loaded[db])
        for site in ("dc2", "dc3"):
            assert _show_create(so.cfg, site, db) == reference, f"{db} differs at {site}"
            conn = pymysql.connect(**so.cfg.site(site).connect_kwargs())
            try:
                assert set(capture.captured_tables(conn, db)) == set(reference), (
                    f"{db} at {site}: replicas keep capture ready for a failover"
                )
            finally:
                conn.close()

    _rows_and_cascades_replicate_byte_for_byte(so)


def _rows_and_cascades_replicate_byte_for_byte(so: SoCluster) -> None:
    """Seed rows (LONGBLOB, LONGTEXT, BIT(1), DATETIME(3), latin1 text), then a cascade.

    Part of the test above: loading and replaying the schemas is its slow part.
    """
    seed_so_data(so.cfg, so.dbs)
    conn = mdbc_py.connect(site="dc1", config=so.cfg, database=so.dbs.catalog)
    try:
        cur = conn.cursor()
        cur.execute(
            "INSERT INTO `heat_template` (`ARTIFACT_UUID`, `NAME`, `VERSION`, `BODY`) "
            "VALUES (%s, %s, %s, %s)",
            ("doomed", "doomed.yaml", "1", "body with latin1: àéîõü"),
        )
        cur.executemany(
            "INSERT INTO `heat_template_params` (`HEAT_TEMPLATE_ARTIFACT_UUID`, `PARAM_NAME`, "
            "`IS_REQUIRED`) VALUES (%s, %s, %s)",
            [("doomed", "p1", b"\x01"), ("doomed", "p2", b"\x00")],
        )
        conn.commit()
        # the params go by ON DELETE CASCADE: no trigger fires for them at dc1,
        # replay must reproduce the cascade with foreign keys on
        cur.execute("DELETE FROM `heat_template` WHERE `ARTIFACT_UUID` = %s", ("doomed",))
        conn.commit()
    finally:
        conn.close()

    _replay_everywhere(so)
    for db in so.dbs.all():
        reference = _checksums(so.cfg, "dc1", db)
        assert any(reference.values()), f"{db}: the seed wrote rows"
        for site in ("dc2", "dc3"):
            assert _checksums(so.cfg, site, db) == reference, f"{db} differs at {site}"
    params = pymysql.connect(**so.cfg.site("dc3").connect_kwargs(), database=so.dbs.catalog)
    try:
        with params.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM `heat_template_params` "
                        "WHERE `HEAT_TEMPLATE_ARTIFACT_UUID` = 'doomed'")  # fmt: skip
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT `IS_REQUIRED` FROM `heat_template_params` ORDER BY `PARAM_NAME`")
            assert [r[0] for r in cur.fetchall()] == [b"\x00", b"\x01"]
    finally:
        params.close()
