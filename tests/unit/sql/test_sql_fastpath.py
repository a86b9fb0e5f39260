"""The token fast path agrees with sqlglot, and is taken where it should be.

The fast path exists only for speed, so whenever it answers its answer must
equal the one sqlglot's parse gives; and it must answer for the common
Hibernate and Camunda shapes, or it is dead code that costs a millisecond a
statement.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mdbc_py.sql import tree
from mdbc_py.sql.fastpath import simple_delete, simple_insert, simple_select, simple_update
from mdbc_py.sql.lexer import Token, tokenize
from mdbc_py.sql.rewrite import for_sqlglot
from mdbc_py.sql.statement import Statement

Reader = Callable[[list[Token], int, int, "str | None"], "Statement | None"]
READERS: dict[str, Reader] = {
    "SELECT": simple_select,
    "INSERT": simple_insert,
    "REPLACE": simple_insert,
    "UPDATE": simple_update,
    "DELETE": simple_delete,
    "WITH": simple_select,
}
DB = "camundabpmn"

FAST = [
    "select s1_0.id,s1_0.model_name from catalogdb.service s1_0 left join catalogdb.service_recipe "
    "r1_0 on r1_0.service_model_uuid=s1_0.model_uuid where s1_0.model_uuid=? order by s1_0.id",
    "select * from ACT_RU_JOB RES where (RES.RETRIES_ > 0) and (RES.DUEDATE_ is null or "
    "RES.DUEDATE_ <= %s) LIMIT %s OFFSET %s",
    "select RES.* from ACT_RU_EXECUTION RES inner join ACT_RE_PROCDEF P "
    "on RES.PROC_DEF_ID_ = P.ID_ left outer join ACT_RU_TASK T on T.EXECUTION_ID_ = RES.ID_ "
    "where RES.ID_ = %s",
    "select a.x, b.y from a, b as bb, `c d` cc where a.id = bb.id",
    "select * from t1 join t2 using (id) natural join t3 straight_join t4 on t4.a = t1.a",
    "select * from t1 cross join t2",
    "select * from t1 right join t2 on left(t1.a, 3) = right(t2.b, 3) where t1.c = 1",
    "select count(*) from infra_active_requests where request_status in (%s, %s) group by x "
    "having count(*) > 1",
    "select next_val as id_val from hibernate_sequence for update",
    "select * from t where a = 1 lock in share mode",
    "select * from t for update skip locked",
    "select * from t partition (p0) where a = 1",
    "select extract(year from created) from service",
    "select 1",
    "select @@tx_isolation",
    "select database()",
    "select get_lock(%s, %s)",
    "select 1 from dual",
    "select * from t where a like 'x%%' escape '!'",
    "select * from service where id in %s",
    "insert into catalogdb.service (model_uuid, model_name) values (?, ?)",
    "insert into ACT_RU_EXECUTION (ID_, REV_) values (%s, 1), (%s, 2)",
    "INSERT IGNORE INTO t VALUES (1)",
    "insert into t set a = 1, b = %s",
    "insert into t (a) values (1) on duplicate key update a = values(a) + 1",
    "insert low_priority into db2.t partition (p1) (a) value (1)",
    "REPLACE INTO t (a, b) VALUES (%s, %s)",
    "UPDATE ACT_RU_JOB SET REV_ = %s, LOCK_EXP_TIME_ = %s WHERE ID_ = %s AND REV_ = %s",
    "update low_priority ignore t as x set x.a = 1 where x.b = 2 order by x.c limit 10",
    "update `catalogdb`.`service` set name = concat(name, '%%')",
    "delete from ACT_GE_BYTEARRAY where ID_ = %s",
    "delete quick from t order by a limit 5",
    "delete from db2.t",
]

SLOW = [
    "select * from (select * from t) x",
    "select * from t where id in (select id from u)",
    "with c as (select 1) select * from c",
    "select * from a union select * from b",
    "select * from t force index (ix) where a = 1",
    "select 1 into @x",
    "select nextval(s)",
    "select * from t for system_time as of timestamp now()",
    "select * from t1 join (t2 join t3 on t2.a = t3.a) on t1.a = t2.a",
    "select * from json_table('[]', '$[*]' columns (a int path '$')) jt",
    "select * from t where ((a = 1)",
    "insert into t select * from u",
    "insert into t values ((select max(a) from u))",
    "update a join b on a.id = b.id set a.x = b.y",
    "update a, b set a.x = 1",
    "update t set a = (select 1)",
    "delete a from a join b on a.id = b.id",
    "delete from a using a join b",
    "delete from t where id in (select id from u)",
    "delete from t1, t2 using t1 join t2",
]


def _fast(sql: str) -> Statement | None:
    tokens = tokenize(sql).tokens
    return READERS[tokens[0].key](tokens, 0, len(tokens), DB)


def _full(sql: str) -> Statement | None:
    tokens = tokenize(sql).tokens
    return tree.analyze(for_sqlglot(tokens, 0, len(tokens)), DB)


@pytest.mark.parametrize("sql", FAST)
def test_fast_path_answers_and_agrees_with_sqlglot(sql: str) -> None:
    fast = _fast(sql)
    assert fast is not None, "the fast path declined a shape it is meant to handle"
    assert fast == _full(sql)


@pytest.mark.parametrize("sql", SLOW)
def test_fast_path_declines_what_it_cannot_read(sql: str) -> None:
    assert _fast(sql) is None
