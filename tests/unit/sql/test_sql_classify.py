"""``classify()`` on the SQL SO sends: kinds, written tables, all tables.

The main table holds statements in the shapes Hibernate (catalog and request
DBs), Camunda's MyBatis mappings and Flyway-style migrations produce, plus
the MariaDB statements a driver must not misread. Further tests pin the
session effects (``USE``, ``SET autocommit``, transaction control), locking
reads, DDL details, multi-statement strings and the cache.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from mdbc_py.sql import (
    CACHE_SIZE,
    MAX_CACHED_LENGTH,
    Kind,
    Statement,
    TableRef,
    Tcl,
    cache_clear,
    cache_info,
    classify,
)

CAT = "catalogdb"
REQ = "requestdb"
BPMN = "camundabpmn"

R, W, D, T, S, U = Kind.READ, Kind.WRITE, Kind.DDL, Kind.TCL, Kind.SESSION, Kind.UNKNOWN


def refs(*names: str | TableRef) -> frozenset[TableRef]:
    """``"db.table"`` strings (split at the first dot) or TableRefs, as a set."""
    out: set[TableRef] = set()
    for name in names:
        if isinstance(name, TableRef):
            out.add(name)
        else:
            db, _, table = name.partition(".")
            out.add(TableRef(db, table))
    return frozenset(out)


def case(
    sql: str,
    kind: Kind,
    written: Iterable[str | TableRef] = (),
    tables: Iterable[str | TableRef] | None = None,
    *,
    db: str | None = CAT,
    id: str,
) -> object:
    """One row: ``tables`` defaults to ``written``."""
    w = refs(*written)
    t = w if tables is None else refs(*tables)
    return pytest.param(sql, db, kind, w, t, id=id)


CASES = [
    # --- Hibernate, catalog and request DBs
    case(
        "insert into catalogdb.service (model_uuid, model_name, model_version) values (?, ?, ?)",
        W,
        ["catalogdb.service"],
        id="hibernate-insert-qualified",
    ),
    case(
        "insert into service_recipe (action, service_model_uuid, id) values (%s, %s, %s)",
        W,
        ["catalogdb.service_recipe"],
        id="hibernate-insert-pyformat",
    ),
    case(
        "select s1_0.id,s1_0.model_name from service s1_0 left join service_recipe r1_0 "
        "on r1_0.service_model_uuid=s1_0.model_uuid where s1_0.model_uuid=?",
        R,
        tables=["catalogdb.service", "catalogdb.service_recipe"],
        id="hibernate-select-join",
    ),
    case(
        "select next_val as id_val from hibernate_sequence for update",
        R,
        tables=["catalogdb.hibernate_sequence"],
        id="hibernate-sequence-table-for-update",
    ),
    case(
        "update hibernate_sequence set next_val= ? where next_val=?",
        W,
        ["catalogdb.hibernate_sequence"],
        id="hibernate-sequence-table-update",
    ),
    case(
        "update infra_active_requests set request_status=%s, status_message=%s, "
        "last_modified_by=%s where request_id=%s",
        W,
        ["requestdb.infra_active_requests"],
        db=REQ,
        id="requestdb-update",
    ),
    case(
        "delete from requestdb.infra_active_requests where request_id=%(request_id)s",
        W,
        ["requestdb.infra_active_requests"],
        id="delete-other-db-named-param",
    ),
    case(
        "select count(*) from infra_active_requests where request_status = %s and start_time > %s",
        R,
        tables=["requestdb.infra_active_requests"],
        db=REQ,
        id="select-count",
    ),
    # --- Camunda (MyBatis)
    case(
        "UPDATE ACT_RU_JOB SET REV_ = %s, LOCK_EXP_TIME_ = %s, LOCK_OWNER_ = %s "
        "WHERE ID_ = %s AND REV_ = %s",
        W,
        ["camundabpmn.ACT_RU_JOB"],
        db=BPMN,
        id="camunda-job-lock",
    ),
    case(
        "delete from ACT_GE_BYTEARRAY where ID_ = %s",
        W,
        ["camundabpmn.ACT_GE_BYTEARRAY"],
        db=BPMN,
        id="camunda-delete-bytearray",
    ),
    case(
        "insert into ACT_RU_EXECUTION (ID_, REV_, PROC_INST_ID_) values (%s, 1, %s)",
        W,
        ["camundabpmn.ACT_RU_EXECUTION"],
        db=BPMN,
        id="camunda-insert",
    ),
    case(
        "select * from ACT_RU_JOB RES where (RES.RETRIES_ > 0) and (RES.DUEDATE_ is null or "
        "RES.DUEDATE_ <= %s) and (RES.LOCK_OWNER_ is null or RES.LOCK_EXP_TIME_ < %s) "
        "LIMIT %s OFFSET %s",
        R,
        tables=["camundabpmn.ACT_RU_JOB"],
        db=BPMN,
        id="camunda-acquire-jobs",
    ),
    case(
        "select distinct RES.* from ACT_RE_PROCDEF RES where RES.KEY_ = %s and RES.VERSION_ = "
        "(select max(VERSION_) from ACT_RE_PROCDEF where KEY_ = %s)",
        R,
        tables=["camundabpmn.ACT_RE_PROCDEF"],
        db=BPMN,
        id="camunda-scalar-subquery",
    ),
    case(
        "update ACT_GE_PROPERTY set REV_ = REV_ where NAME_ = 'deployment.lock'",
        W,
        ["camundabpmn.ACT_GE_PROPERTY"],
        db=BPMN,
        id="camunda-deployment-lock",
    ),
    case(
        "DELETE B FROM ACT_GE_BYTEARRAY B INNER JOIN ACT_HI_DETAIL D ON B.ID_ = D.BYTEARRAY_ID_ "
        "WHERE D.PROC_INST_ID_ = %s",
        W,
        ["camundabpmn.ACT_GE_BYTEARRAY"],
        ["camundabpmn.ACT_GE_BYTEARRAY", "camundabpmn.ACT_HI_DETAIL"],
        db=BPMN,
        id="camunda-multi-table-delete",
    ),
    case(
        "SELECT * FROM ACT_GE_PROPERTY WHERE NAME_ = %s FOR UPDATE",
        R,
        tables=["camundabpmn.ACT_GE_PROPERTY"],
        db=BPMN,
        id="camunda-select-for-update",
    ),
    case(
        "select RES.* from ACT_RU_EXECUTION RES inner join ACT_RE_PROCDEF P on "
        "RES.PROC_DEF_ID_ = P.ID_ WHERE RES.PARENT_ID_ is null and exists (select ID_ from "
        "ACT_RU_VARIABLE WHERE NAME_= %s and RES.ID_ = EXECUTION_ID_)",
        R,
        tables=[
            "camundabpmn.ACT_RU_EXECUTION",
            "camundabpmn.ACT_RE_PROCDEF",
            "camundabpmn.ACT_RU_VARIABLE",
        ],
        db=BPMN,
        id="camunda-exists-subquery",
    ),
    case(
        "update ACT_RU_EXECUTION E inner join ACT_RU_TASK T on T.EXECUTION_ID_ = E.ID_ "
        "set E.REV_ = E.REV_ + 1, T.SUSPENSION_STATE_ = %s where E.PROC_INST_ID_ = %s",
        W,
        ["camundabpmn.ACT_RU_EXECUTION", "camundabpmn.ACT_RU_TASK"],
        db=BPMN,
        id="camunda-update-join-both-assigned",
    ),
    # --- INSERT ... SELECT writes only its target
    case(
        "insert into archived_infra_requests (request_id, status) select request_id, "
        "request_status from infra_active_requests where end_time < %s",
        W,
        ["requestdb.archived_infra_requests"],
        ["requestdb.archived_infra_requests", "requestdb.infra_active_requests"],
        db=REQ,
        id="insert-select",
    ),
    case(
        "INSERT INTO catalogdb.service_archive SELECT * FROM catalogdb.service s WHERE NOT EXISTS "
        "(SELECT 1 FROM catalogdb.service_archive a WHERE a.id = s.id)",
        W,
        ["catalogdb.service_archive"],
        ["catalogdb.service_archive", "catalogdb.service"],
        db=None,
        id="insert-select-not-exists",
    ),
    # --- multi-table UPDATE writes the tables its SET assigns to
    case(
        "update requestdb.infra_active_requests r join catalogdb.service s "
        "on s.model_uuid = r.service_model_uuid set r.service_name = s.model_name "
        "where r.request_id = %s",
        W,
        ["requestdb.infra_active_requests"],
        ["requestdb.infra_active_requests", "catalogdb.service"],
        db=None,
        id="update-join-cross-db-read",
    ),
    case(
        "UPDATE a, b SET a.x = b.x, b.y = 1 WHERE a.id = b.id",
        W,
        ["catalogdb.a", "catalogdb.b"],
        id="update-comma-join-both",
    ),
    case(
        "UPDATE a JOIN b ON a.id = b.id SET x = 1",
        W,
        ["catalogdb.a", "catalogdb.b"],
        id="update-join-unqualified-set-is-conservative",
    ),
    # --- REPLACE and ON DUPLICATE KEY UPDATE
    case(
        "REPLACE INTO watchdog_distribution_status (distribution_id, status) VALUES (%s, %s)",
        W,
        ["requestdb.watchdog_distribution_status"],
        db=REQ,
        id="replace-values",
    ),
    case(
        "replace into t select * from u",
        W,
        ["catalogdb.t"],
        ["catalogdb.t", "catalogdb.u"],
        id="replace-select",
    ),
    case(
        "INSERT INTO site_status (site_name, status) VALUES (%s, %s) "
        "ON DUPLICATE KEY UPDATE status = VALUES(status)",
        W,
        ["requestdb.site_status"],
        db=REQ,
        id="on-duplicate-key-update",
    ),
    case(
        "insert into t (a) select b from u on duplicate key update a = u.b",
        W,
        ["catalogdb.t"],
        ["catalogdb.t", "catalogdb.u"],
        id="insert-select-on-duplicate-key",
    ),
    # --- CTEs: their names are not tables
    case(
        "WITH recent AS (SELECT request_id FROM infra_active_requests WHERE start_time > %s) "
        "SELECT r.* FROM recent JOIN infra_active_requests r USING (request_id)",
        R,
        tables=["requestdb.infra_active_requests"],
        db=REQ,
        id="cte-select",
    ),
    case(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 5) "
        "select * from n",
        R,
        id="recursive-cte-no-table",
    ),
    # --- quoting, qualification, case
    case(
        "select * from `my.db`.`a b` where `x y` = 1",
        R,
        tables=[TableRef("my.db", "a b")],
        id="backquoted-dots-and-spaces",
    ),
    case(
        "update `service recipe` set `desc` = %s",
        W,
        [TableRef(CAT, "service recipe")],
        id="backquoted-update",
    ),
    case(
        "INSERT INTO `catalogdb`.`Service` (`ID`) VALUES (1)",
        W,
        [TableRef(CAT, "Service")],
        id="case-kept",
    ),
    case(
        "select * from requestdb.infra_active_requests, catalogdb.service where 1=1",
        R,
        tables=["requestdb.infra_active_requests", "catalogdb.service"],
        db=None,
        id="qualified-no-current-db",
    ),
    case(
        "insert into t values (1)",
        W,
        [TableRef(None, "t")],
        db=None,
        id="unqualified-no-current-db",
    ),
    # --- session statements
    case("USE requestdb", S, id="use"),
    case("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", S, id="set-names"),
    case("SET autocommit=0", S, id="set-autocommit"),
    case("SET sql_mode = 'STRICT_TRANS_TABLES'", S, id="set-sql-mode"),
    case("SHOW VARIABLES LIKE 'sql_mode'", S, id="show-variables"),
    case("SHOW FULL COLUMNS FROM service FROM catalogdb", S, id="show-columns"),
    case("DESCRIBE service", S, id="describe"),
    case("EXPLAIN UPDATE service SET x = 1", S, id="explain-does-not-run"),
    case("SELECT @@tx_isolation", R, id="select-variable"),
    case("SELECT DATABASE()", R, id="select-database"),
    case("SELECT GET_LOCK(%s, %s)", R, id="flyway-get-lock"),
    case("DO RELEASE_LOCK(%s)", S, id="do"),
    # --- transaction control
    case("START TRANSACTION READ ONLY", T, id="start-transaction-read-only"),
    case("BEGIN", T, id="begin"),
    case("commit", T, id="commit"),
    case("ROLLBACK", T, id="rollback"),
    case("SAVEPOINT sp_1", T, id="savepoint"),
    case("ROLLBACK TO SAVEPOINT sp_1", T, id="rollback-to-savepoint"),
    case("RELEASE SAVEPOINT sp_1", T, id="release-savepoint"),
    case("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", T, id="set-transaction"),
    case("XA START 'xid1'", T, id="xa"),
    case(
        "LOCK TABLES ACT_RU_JOB WRITE, ACT_GE_PROPERTY AS p READ",
        T,
        tables=["camundabpmn.ACT_RU_JOB", "camundabpmn.ACT_GE_PROPERTY"],
        db=BPMN,
        id="lock-tables",
    ),
    case("UNLOCK TABLES", T, id="unlock-tables"),
    # --- DDL (Flyway-style migrations)
    case(
        "CREATE TABLE IF NOT EXISTS vnf_resource_customization (id int not null auto_increment, "
        "vnf_resource_model_uuid varchar(200) not null, primary key (id), constraint fk_vnf "
        "foreign key (vnf_resource_model_uuid) references vnf_resource (model_uuid) "
        "on delete cascade) ENGINE=InnoDB DEFAULT CHARSET=latin1",
        D,
        tables=["catalogdb.vnf_resource_customization", "catalogdb.vnf_resource"],
        id="create-table-fk",
    ),
    case(
        "ALTER TABLE service ADD COLUMN service_role varchar(200) NULL",
        D,
        tables=["catalogdb.service"],
        id="alter-add-column",
    ),
    case(
        "DROP TABLE IF EXISTS a, requestdb.b",
        D,
        tables=["catalogdb.a", "requestdb.b"],
        id="drop-tables",
    ),
    case("RENAME TABLE a TO b", D, tables=["catalogdb.a", "catalogdb.b"], id="rename-table"),
    case(
        "TRUNCATE TABLE ACT_HI_OP_LOG",
        D,
        tables=["camundabpmn.ACT_HI_OP_LOG"],
        db=BPMN,
        id="truncate",
    ),
    case(
        "CREATE UNIQUE INDEX uk_service ON service (model_uuid, model_version)",
        D,
        tables=["catalogdb.service"],
        id="create-index",
    ),
    case("DROP INDEX uk_service ON requestdb.x", D, tables=["requestdb.x"], id="drop-index"),
    case(
        "CREATE DATABASE IF NOT EXISTS camundabpmn",
        D,
        tables=["camundabpmn.*"],
        id="create-database",
    ),
    case(
        "CREATE OR REPLACE VIEW v_active AS SELECT * FROM infra_active_requests "
        "WHERE request_status = 'IN_PROGRESS'",
        D,
        tables=["requestdb.v_active", "requestdb.infra_active_requests"],
        db=REQ,
        id="create-view",
    ),
    case(
        "CREATE TRIGGER trg_x AFTER UPDATE ON service FOR EACH ROW BEGIN "
        "INSERT INTO audit VALUES (NEW.id); END",
        D,
        tables=["catalogdb.service"],
        id="create-trigger-with-body",
    ),
    case("DROP PROCEDURE IF EXISTS cleanup", D, tables=["catalogdb.*"], id="drop-procedure"),
    case("CREATE TEMPORARY TABLE tmp_ids (id int)", D, tables=["catalogdb.tmp_ids"], id="temp"),
    case(
        "ALTER TABLE t RENAME TO t_old",
        D,
        tables=["catalogdb.t", "catalogdb.t_old"],
        id="alter-rename",
    ),
    case("CREATE TABLE t2 LIKE t1", D, tables=["catalogdb.t2", "catalogdb.t1"], id="create-like"),
    case(
        "GRANT SELECT ON catalogdb.* TO 'so'@'%'", D, tables=["mysql.*"], id="grant-is-mysql-schema"
    ),
    # --- stored routines, LOAD DATA
    case("CALL cleanup_requests(%s)", U, ["requestdb.*"], db=REQ, id="call"),
    case("call catalogdb.refresh()", U, ["catalogdb.*"], db=REQ, id="call-qualified"),
    case(
        "LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE service FIELDS TERMINATED BY ','",
        W,
        ["catalogdb.service"],
        id="load-data",
    ),
    # --- garbage, empty, comments
    case("this is not sql", U, ["catalogdb.*"], id="garbage"),
    case("selec * from service", U, ["catalogdb.*"], id="typo"),
    case("select 'unterminated", U, ["catalogdb.*"], id="unterminated-string"),
    case("DELIMITER //", U, ["catalogdb.*"], id="client-delimiter"),
    case("", R, id="empty"),
    case("  \n\t ", R, id="whitespace"),
    case("/* nothing */ -- here\n# nor here", R, id="comments-only"),
    case(
        "/* ServiceRepository.save */ insert into service (id) values (?)",
        W,
        ["catalogdb.service"],
        id="leading-block-comment",
    ),
    case("-- note\nUPDATE service SET x=1", W, ["catalogdb.service"], id="leading-dash-comment"),
    case("# note\nDELETE FROM service WHERE id=1", W, ["catalogdb.service"], id="hash-comment"),
    case("/*!40101 SET NAMES utf8 */", S, id="executable-comment-set"),
    case(
        "/*!40000 ALTER TABLE service DISABLE KEYS */",
        D,
        tables=["catalogdb.service"],
        id="executable-comment-ddl",
    ),
    case(
        "INSERT /*! IGNORE */ INTO service VALUES (1)", W, ["catalogdb.service"], id="exec-inline"
    ),
    case(
        "SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM service",
        R,
        tables=["catalogdb.service"],
        id="optimizer-hint-comment",
    ),
    case(
        "  (SELECT id FROM service) UNION (SELECT id FROM service_archive)",
        R,
        tables=["catalogdb.service", "catalogdb.service_archive"],
        id="leading-parenthesis-union",
    ),
    case("((select 1))", R, id="double-parenthesis"),
    # --- several statements in one string
    case(
        "select 1; insert into service values (1)",
        W,
        ["catalogdb.service"],
        id="multi-read-write",
    ),
    case(
        "insert into a values (1); drop table b",
        D,
        ["catalogdb.a"],
        ["catalogdb.a", "catalogdb.b"],
        id="multi-write-ddl",
    ),
    case("select 1; this is garbage", U, ["catalogdb.*"], id="multi-with-garbage"),
    case(
        "USE requestdb; DELETE FROM infra_active_requests",
        W,
        ["requestdb.infra_active_requests"],
        id="multi-use-then-write",
    ),
    # --- sequences are written by reads
    case(
        "select nextval(hibernate_sequence)",
        W,
        ["catalogdb.hibernate_sequence"],
        id="nextval",
    ),
    case("select next value for catalogdb.seq_x", W, ["catalogdb.seq_x"], id="next-value-for"),
    # --- statements that run other statements
    case(
        "SET STATEMENT max_statement_time=5 FOR DELETE FROM service WHERE id = 1",
        W,
        ["catalogdb.service"],
        id="set-statement-for",
    ),
    case("ANALYZE TABLE service", S, id="analyze-table"),
    case("ANALYZE UPDATE service SET x = 1", W, ["catalogdb.service"], id="analyze-runs-update"),
    # --- MariaDB modifiers sqlglot would read as table names
    case(
        "DELETE LOW_PRIORITY QUICK FROM t WHERE id IN (SELECT id FROM u)",
        W,
        ["catalogdb.t"],
        ["catalogdb.t", "catalogdb.u"],
        id="delete-modifiers-subquery",
    ),
    case(
        "UPDATE LOW_PRIORITY IGNORE a JOIN b ON a.id = b.id SET a.x = 1",
        W,
        ["catalogdb.a"],
        ["catalogdb.a", "catalogdb.b"],
        id="update-modifiers-join",
    ),
    case(
        "INSERT DELAYED INTO t SELECT * FROM u",
        W,
        ["catalogdb.t"],
        ["catalogdb.t", "catalogdb.u"],
        id="insert-delayed-select",
    ),
    case(
        "REPLACE LOW_PRIORITY INTO t SELECT * FROM u",
        W,
        ["catalogdb.t"],
        ["catalogdb.t", "catalogdb.u"],
        id="replace-modifier-select",
    ),
    # --- assorted traps
    case("SELECT 1 INTO @x", R, id="select-into-variable"),
    case(
        "DELETE t1.* FROM t1 JOIN t2 ON t1.id = t2.id",
        W,
        ["catalogdb.t1"],
        ["catalogdb.t1", "catalogdb.t2"],
        id="delete-star-targets",
    ),
    case(
        "delete from service where id in (select service_id from service_recipe where x = %s)",
        W,
        ["catalogdb.service"],
        ["catalogdb.service", "catalogdb.service_recipe"],
        id="delete-subquery",
    ),
    case(
        "insert into t (a, b) values (%s, 'it''s 100%% sure; really')",
        W,
        ["catalogdb.t"],
        id="semicolon-in-string",
    ),
    case(
        "update t set a = 'x;y -- z' where b = \"p;q\"",
        W,
        ["catalogdb.t"],
        id="semicolon-and-dashes-in-strings",
    ),
    case("SELECT * FROM service WHERE id IN %s", R, tables=["catalogdb.service"], id="in-param"),
    case("SELECT * FROM service LIMIT %s, %s", R, tables=["catalogdb.service"], id="limit-params"),
    case("HANDLER service OPEN", R, tables=["catalogdb.service"], id="handler"),
    case(
        "select LOCK_OWNER_, LOCK_EXP_TIME_ from ACT_RU_JOB where ID_ = ?",
        R,
        tables=["camundabpmn.ACT_RU_JOB"],
        db=BPMN,
        id="lock-in-column-names",
    ),
]


@pytest.mark.parametrize(("sql", "db", "kind", "written", "tables"), CASES)
def test_classify(
    sql: str,
    db: str | None,
    kind: Kind,
    written: frozenset[TableRef],
    tables: frozenset[TableRef],
) -> None:
    stmt = classify(sql, db)
    assert stmt.kind is kind
    assert stmt.written == written
    assert stmt.tables == tables


def test_enough_cases() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(
    ("sql", "locking"),
    [
        ("select next_val as id_val from hibernate_sequence for update", True),
        ("SELECT * FROM ACT_GE_PROPERTY WHERE NAME_ = %s FOR UPDATE", True),
        ("select * from t where id = 1 lock in share mode", True),
        ("select * from t for update skip locked", True),
        ("select * from t for update nowait", True),
        ("select * from t where id in (select id from u for update)", True),
        ("insert into t select * from u for update", True),
        ("select LOCK_OWNER_ from ACT_RU_JOB", False),
        ("select * from t", False),
        ("update t set a = 1", False),
    ],
)
def test_locking(sql: str, locking: bool) -> None:
    assert classify(sql, CAT).locking is locking


@pytest.mark.parametrize(
    ("sql", "autocommit", "parsed"),
    [
        ("SET autocommit=0", False, True),
        ("set autocommit = 1", True, True),
        ("SET @@session.autocommit = OFF", False, True),
        ("SET @@autocommit=ON", True, True),
        ("SET SESSION autocommit = true", True, True),
        ("set autocommit='ON'", True, True),
        ("SET autocommit := 0", False, True),
        ("SET GLOBAL autocommit=0", None, True),
        ("SET @@global.autocommit=0", None, True),
        ("SET @autocommit = 0", None, True),
        ("SET autocommit_x = 0", None, True),
        ("set autocommit = @saved", None, False),
        ("set autocommit = DEFAULT", None, False),
        ("SET autocommit=0, NAMES utf8", False, True),
        ("SET NAMES utf8, autocommit = 1", True, True),
        ("SET sql_mode = 'ANSI', @@session.autocommit = 0", False, True),
        ("/*!40101 SET autocommit=0 */", False, True),
    ],
)
def test_set_autocommit(sql: str, autocommit: bool | None, parsed: bool) -> None:
    stmt = classify(sql, CAT)
    assert stmt.kind is Kind.SESSION
    assert stmt.autocommit is autocommit
    assert stmt.parsed is parsed


@pytest.mark.parametrize(
    ("sql", "use_db"),
    [
        ("USE requestdb", "requestdb"),
        ("use `camunda bpmn`", "camunda bpmn"),
        ("/* switch */ USE catalogdb;", "catalogdb"),
        ("USE requestdb; select 1", "requestdb"),
        ("select 1", None),
    ],
)
def test_use(sql: str, use_db: str | None) -> None:
    assert classify(sql, CAT).use_db == use_db


def test_use_without_name_is_unknown() -> None:
    assert classify("USE", CAT).kind is Kind.UNKNOWN


@pytest.mark.parametrize(
    ("sql", "tcl", "implicit_commit"),
    [
        ("BEGIN", Tcl.BEGIN, True),
        ("begin work", Tcl.BEGIN, True),
        ("START TRANSACTION", Tcl.BEGIN, True),
        ("START TRANSACTION READ ONLY", Tcl.BEGIN, True),
        ("start transaction with consistent snapshot", Tcl.BEGIN, True),
        ("COMMIT", Tcl.COMMIT, False),
        ("COMMIT WORK AND NO CHAIN", Tcl.COMMIT, False),
        ("ROLLBACK", Tcl.ROLLBACK, False),
        ("ROLLBACK WORK TO sp", Tcl.ROLLBACK_TO_SAVEPOINT, False),
        ("SAVEPOINT `my sp`", Tcl.SAVEPOINT, False),
        ("RELEASE SAVEPOINT sp", Tcl.RELEASE_SAVEPOINT, False),
        ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", Tcl.SET_TRANSACTION, False),
        ("SET GLOBAL TRANSACTION READ WRITE", Tcl.SET_TRANSACTION, False),
        ("LOCK TABLE t WRITE", Tcl.LOCK_TABLES, True),
        ("UNLOCK TABLES", Tcl.UNLOCK_TABLES, True),
        ("XA COMMIT 'x'", Tcl.XA, False),
    ],
)
def test_transaction_control(sql: str, tcl: Tcl, implicit_commit: bool) -> None:
    stmt = classify(sql, CAT)
    assert stmt.kind is Kind.TCL
    assert stmt.tcl is tcl
    assert stmt.implicit_commit is implicit_commit


@pytest.mark.parametrize(
    ("sql", "ddl_tables", "temporary"),
    [
        (
            "CREATE TABLE child (p int, foreign key (p) references parent (id))",
            ["catalogdb.child"],
            False,
        ),
        ("create temporary table tmp (id int)", ["catalogdb.tmp"], True),
        ("DROP TEMPORARY TABLE IF EXISTS tmp", ["catalogdb.tmp"], True),
        ("CREATE TABLE t2 AS SELECT * FROM t1", ["catalogdb.t2"], False),
        (
            "create table t (a int) partition by range (a) (partition p0 values less than (10))",
            ["catalogdb.t"],
            False,
        ),
        (
            "ALTER TABLE x ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES y (b)",
            ["catalogdb.x"],
            False,
        ),
        ("ALTER TABLE t DROP FOREIGN KEY fk, DROP INDEX ix", ["catalogdb.t"], False),
        ("ALTER TABLE t RENAME COLUMN a TO b", ["catalogdb.t"], False),
        (
            "ALTER TABLE t EXCHANGE PARTITION p0 WITH TABLE t_new",
            ["catalogdb.t", "catalogdb.t_new"],
            False,
        ),
        ("ALTER ONLINE IGNORE TABLE t ENGINE=InnoDB", ["catalogdb.t"], False),
        (
            "RENAME TABLE a TO b, requestdb.c TO requestdb.d",
            ["catalogdb.a", "catalogdb.b", "requestdb.c", "requestdb.d"],
            False,
        ),
        ("TRUNCATE t", ["catalogdb.t"], False),
        (
            "CREATE TRIGGER requestdb.trg BEFORE INSERT ON r FOR EACH ROW SET NEW.a = 1",
            ["requestdb.r"],
            False,
        ),
        ("DROP TRIGGER IF EXISTS requestdb.trg", ["requestdb.*"], False),
        (
            "CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; END",
            ["catalogdb.*"],
            False,
        ),
        ("CREATE FUNCTION requestdb.f() RETURNS INT RETURN 1", ["requestdb.*"], False),
        ("DROP DATABASE requestdb", ["requestdb.*"], False),
        ("ALTER DATABASE CHARACTER SET utf8mb4", ["catalogdb.*"], False),
        ("ALTER SCHEMA requestdb COLLATE latin1_swedish_ci", ["requestdb.*"], False),
        ("DROP VIEW IF EXISTS v1, v2", ["catalogdb.v1", "catalogdb.v2"], False),
        ("CREATE SEQUENCE s START WITH 10", ["catalogdb.s"], False),
        ("CREATE USER 'so'@'%' IDENTIFIED BY 'x'", ["mysql.*"], False),
        ("DROP USER IF EXISTS 'so'@'%'", ["mysql.*"], False),
        ("RENAME USER 'a'@'%' TO 'b'@'%'", ["mysql.*"], False),
        ("SET PASSWORD FOR 'so'@'%' = PASSWORD('x')", ["mysql.*"], False),
        ("REVOKE ALL ON *.* FROM 'so'@'%'", ["mysql.*"], False),
    ],
)
def test_ddl(sql: str, ddl_tables: list[str], temporary: bool) -> None:
    stmt = classify(sql, CAT)
    assert stmt.kind is Kind.DDL
    assert stmt.ddl_tables == refs(*ddl_tables)
    assert stmt.written == frozenset()
    assert stmt.temporary is temporary
    assert stmt.implicit_commit is not temporary
    assert stmt.ddl_tables <= stmt.tables


def test_ddl_reads_referenced_tables() -> None:
    stmt = classify(
        "CREATE TABLE t2 AS SELECT a.* FROM t1 a JOIN requestdb.t3 b ON a.id = b.id", CAT
    )
    assert stmt.tables == refs("catalogdb.t2", "catalogdb.t1", "requestdb.t3")
    assert stmt.parsed


def test_ddl_with_unreadable_query_is_marked_incomplete() -> None:
    stmt = classify("CREATE VIEW v AS SELECT * FROM t WHERE ((", CAT)
    assert stmt.kind is Kind.DDL
    assert stmt.ddl_tables == refs("catalogdb.v")
    assert not stmt.parsed


def test_drop_prepare_is_session() -> None:
    assert classify("DROP PREPARE stmt1", CAT).kind is Kind.SESSION


def test_unparsable_sql_is_an_unknown_write_of_the_current_db() -> None:
    stmt = classify("FROB the database", "requestdb")
    assert stmt.kind is Kind.UNKNOWN
    assert not stmt.parsed
    assert stmt.written == frozenset({TableRef.any_of("requestdb")})
    assert all(t.is_wildcard for t in stmt.written)


@pytest.mark.parametrize(
    "sql",
    [
        "CALL p()",
        "EXECUTE stmt1",
        "BEGIN NOT ATOMIC INSERT INTO t VALUES (1); END",
        "IF @x THEN DELETE FROM t; END IF",
        "lbl: LOOP LEAVE lbl; END LOOP",
    ],
)
def test_opaque_statements_are_parsed_unknown_writes(sql: str) -> None:
    stmt = classify(sql, CAT)
    assert stmt.kind is Kind.UNKNOWN
    assert stmt.parsed
    assert stmt.written == frozenset({TableRef.any_of(CAT)})
    assert not stmt.parts  # one statement: the ';' inside the body does not split


def test_multi_statement_parts_and_union() -> None:
    stmt = classify("BEGIN; UPDATE t SET a = 1; COMMIT", CAT)
    assert [p.kind for p in stmt.parts] == [Kind.TCL, Kind.WRITE, Kind.TCL]
    assert [p.tcl for p in stmt.parts] == [Tcl.BEGIN, None, Tcl.COMMIT]
    assert stmt.kind is Kind.WRITE
    assert stmt.tcl is Tcl.COMMIT  # the last transaction-control part
    assert stmt.written == refs("catalogdb.t")
    assert stmt.implicit_commit


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("select 1; set autocommit = 0", Kind.SESSION),
        ("select 1; commit", Kind.TCL),
        ("commit; garbage here", Kind.UNKNOWN),
        ("garbage here; insert into t values (1)", Kind.WRITE),
        ("insert into t values (1); create table u (a int)", Kind.DDL),
        ("select 1;;; select 2;", Kind.READ),
    ],
)
def test_multi_statement_strongest_kind(sql: str, kind: Kind) -> None:
    assert classify(sql, CAT).kind is kind


def test_trailing_semicolon_is_one_statement() -> None:
    assert classify("delete from t where id = 1;", CAT).parts == ()


def test_procedure_body_does_not_split_but_what_follows_does() -> None:
    stmt = classify(
        "CREATE PROCEDURE p() BEGIN IF 1 THEN INSERT INTO a VALUES (1); END IF; "
        "UPDATE b SET x = 1; END; INSERT INTO c VALUES (1)",
        CAT,
    )
    assert len(stmt.parts) == 2
    assert stmt.parts[0].kind is Kind.DDL
    assert stmt.parts[1].written == refs("catalogdb.c")
    assert stmt.written == refs("catalogdb.c")  # the body is not run by CREATE


def test_unterminated_string_after_statements() -> None:
    stmt = classify("insert into t values (1); select 'oops", CAT)
    assert len(stmt.parts) == 2
    assert stmt.parts[0].written == refs("catalogdb.t")
    assert stmt.parts[1].kind is Kind.UNKNOWN
    assert not stmt.parsed


@pytest.mark.parametrize(
    "sql",
    [
        "update service set name = %s where id = %s",
        "update service set name = %(name)s where id = %(id)s",
        "update service set name = ? where id = ?",
        "update service set name = 'a%%b' where id = 1",
        "update service set name = concat(%s, '%%') where id in %s",
        "update service set n = n %% 7 where created > now() - interval %s day",
    ],
)
def test_placeholders_do_not_break_parsing(sql: str) -> None:
    stmt = classify(sql, CAT)
    assert stmt.kind is Kind.WRITE
    assert stmt.parsed
    assert stmt.written == refs("catalogdb.service")


def test_same_answer_with_or_without_placeholders() -> None:
    template = classify(
        "insert into t (a) select b from u where c = %s and d in (select e from v where f = %(f)s)",
        CAT,
    )
    literal = classify(
        "insert into t (a) select b from u where c = 1 and d in (select e from v where f = 'x')",
        CAT,
    )
    assert template == literal


def test_sequence_write_upgrades_a_set_to_write() -> None:
    stmt = classify("SET @id = NEXTVAL(requestdb.seq)", CAT)
    assert stmt.kind is Kind.WRITE
    assert stmt.written == refs("requestdb.seq")


def test_previous_value_for_is_a_read() -> None:
    stmt = classify("select previous value for seq", CAT)
    assert stmt.kind is Kind.READ
    assert stmt.parsed


def test_tables_compare_case_sensitively() -> None:
    a = classify("insert into Service values (1)", CAT)
    b = classify("insert into service values (1)", CAT)
    assert a.written != b.written


# --- the cache


def test_cache_returns_the_same_object_and_counts_hits() -> None:
    cache_clear()
    sql = "select * from service where id = %s"
    first = classify(sql, CAT)
    before = cache_info().hits
    assert classify(sql, CAT) is first
    assert cache_info().hits == before + 1


def test_cache_is_keyed_by_current_db() -> None:
    sql = "delete from t where id = %s"
    assert classify(sql, CAT).written == refs("catalogdb.t")
    assert classify(sql, REQ).written == refs("requestdb.t")
    assert classify(sql, None).written == frozenset({TableRef(None, "t")})


def test_long_sql_is_classified_but_not_cached() -> None:
    cache_clear()
    rows = ", ".join(f"({i}, 'x')" for i in range(MAX_CACHED_LENGTH // 8))
    sql = f"insert into t (a, b) values {rows}"
    assert len(sql) > MAX_CACHED_LENGTH
    assert classify(sql, CAT).written == refs("catalogdb.t")
    assert cache_info().currsize == 0


def test_cache_is_bounded() -> None:
    cache_clear()
    for i in range(CACHE_SIZE + 10):
        classify(f"select {i}", CAT)
    assert cache_info().currsize == CACHE_SIZE


def test_rejects_bytes() -> None:
    with pytest.raises(TypeError):
        classify(b"select 1", CAT)  # type: ignore[arg-type]


# --- robustness


_FRAGMENTS = [
    *[
        "select",
        "insert",
        "into",
        "update",
        "delete",
        "from",
        "where",
        "set",
        "values",
        "(",
        ")",
        ",",
        ";",
        ".",
        "*",
        "=",
        "'",
        '"',
        "`",
    ],
    *[
        "/*",
        "*/",
        "/*!",
        "--",
        "#",
        "%s",
        "%(x)s",
        "%%",
        "?",
        "t",
        "db",
        "`a",
        "b`",
        "'s'",
        "1",
        "1.5",
        "join",
        "on",
        "for",
        "lock",
        "in",
        "share",
        "mode",
    ],
    *[
        "with",
        "as",
        "begin",
        "end",
        "if",
        "create",
        "table",
        "procedure",
        "trigger",
        "drop",
        "rename",
        "to",
        "use",
        "call",
    ],
    *["replace", "load", "data", "next", "value", "nextval", "@x", "@@autocommit"],
    "\n",
]


def test_never_raises_on_token_soup() -> None:
    rng = random.Random(20240501)
    for _ in range(1500):
        sql = " ".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(0, 14)))
        stmt = classify(sql, rng.choice([CAT, None]))
        assert isinstance(stmt, Statement)
        if stmt.kind is Kind.UNKNOWN:
            assert stmt.written, sql  # never an unknown that writes nothing
