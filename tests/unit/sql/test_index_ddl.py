"""Which DDL changes only indexes and foreign keys (capture is then left as it is)."""

from __future__ import annotations

import pytest

from mdbc_py.sql.index_ddl import changes_only_indexes

ONLY_INDEXES = [
    "create index ACT_IDX_EXEC_BUSKEY on ACT_RU_EXECUTION(BUSINESS_KEY_)",
    "CREATE UNIQUE INDEX u ON db.t (a, b)",
    "CREATE OR REPLACE INDEX i ON t (a)",
    "create unique index ACT_UNIQ_AUTH_USER on ACT_RU_AUTHORIZATION (TYPE_,UUID_,RESOURCE_TYPE_)",
    "DROP INDEX i ON t",
    "alter table ACT_RU_EXECUTION add constraint ACT_FK_EXE_PROCINST foreign key (PROC_INST_ID_) "
    "references ACT_RU_EXECUTION (ID_) on delete cascade on update cascade",
    "ALTER TABLE `db`.`t` ADD INDEX i (a), ADD UNIQUE KEY u (b, c), DROP INDEX old",
    "ALTER TABLE t ADD CONSTRAINT UNIQUE (a)",
    "ALTER TABLE t ADD CONSTRAINT c1 UNIQUE KEY (a)",
    "ALTER TABLE t DROP FOREIGN KEY fk1, DROP KEY k;",
    "ALTER TABLE t ADD FULLTEXT INDEX ft (body)",
]

CHANGES_MORE = [
    "CREATE TABLE t (id INT PRIMARY KEY)",
    "ALTER TABLE t ADD COLUMN c INT",
    "ALTER TABLE t ADD `index` INT",
    "ALTER TABLE t ADD PRIMARY KEY (id)",
    "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY (id)",
    "ALTER TABLE t DROP PRIMARY KEY",
    "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (a)",
    "ALTER TABLE t ADD INDEX i (a), MODIFY c BIGINT",
    "ALTER TABLE t ADD INDEX i (a), ALGORITHM=INPLACE",
    "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)",
    "ALTER TABLE t DROP CONSTRAINT c",
    "ALTER TABLE IF EXISTS t ADD INDEX i (a)",
    "ALTER TABLE t RENAME TO u",
    "DROP TABLE t",
    "DROP INDEX",
    "CREATE VIEW v AS SELECT 1",
    "INSERT INTO t VALUES (1)",
    "",
    "ALTER",
]


@pytest.mark.parametrize("sql", ONLY_INDEXES)
def test_index_and_foreign_key_changes_skip_recapture(sql: str) -> None:
    assert changes_only_indexes(sql)


@pytest.mark.parametrize("sql", CHANGES_MORE)
def test_everything_else_regenerates_capture(sql: str) -> None:
    assert not changes_only_indexes(sql)
