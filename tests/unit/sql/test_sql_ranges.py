"""Range resolution and the single-range rule for transactions."""

from __future__ import annotations

import pytest

from mdbc_py.errors import ConfigError, CrossRangeError, MdbcError, ProgrammingError
from mdbc_py.sql import RangeMap, RangeSpec, TableRef, classify, require_single_range

CAT, REQ, BPMN = "catalogdb", "requestdb", "camundabpmn"


@pytest.fixture
def so() -> RangeMap:
    """SO's default: one range per database."""
    return RangeMap.per_database([CAT, REQ, BPMN])


@pytest.fixture
def split() -> RangeMap:
    """requestdb's orchestration tables moved into the catalog's range; jobs on their own."""
    return RangeMap(
        {
            "catalog": RangeSpec(CAT),
            "requests": RangeSpec(REQ),
            "orchestration": RangeSpec(REQ, frozenset({"orchestration_flow_reference"})),
            "jobs": RangeSpec(BPMN, frozenset({"ACT_RU_JOB", "ACT_GE_PROPERTY"})),
        }
    )


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (TableRef(CAT, "service"), CAT),
        (TableRef(REQ, "infra_active_requests"), REQ),
        (TableRef(BPMN, "ACT_RU_JOB"), BPMN),
        (TableRef("other", "t"), None),
        (TableRef("mysql", "user"), None),
        (TableRef("information_schema", "TABLES"), None),
        (TableRef(CAT, "mdbc_staged_rows"), None),
        (TableRef(CAT, "MDBC_x"), CAT),  # case-sensitive: not the reserved prefix
        (TableRef(None, "service"), None),
        (TableRef.any_of(CAT), CAT),
        (TableRef.any_of("mysql"), None),
    ],
)
def test_range_of_per_database(so: RangeMap, table: TableRef, expected: str | None) -> None:
    assert so.range_of(table) == expected


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (TableRef(REQ, "orchestration_flow_reference"), "orchestration"),  # table beats database
        (TableRef(REQ, "infra_active_requests"), "requests"),
        (TableRef(REQ, "Orchestration_Flow_Reference"), "requests"),  # names are case-sensitive
        (TableRef(BPMN, "ACT_RU_JOB"), "jobs"),
        (TableRef(BPMN, "ACT_RU_TASK"), None),  # camundabpmn has no database-level range
        (TableRef(CAT, "service"), "catalog"),
    ],
)
def test_table_level_entries_win(split: RangeMap, table: TableRef, expected: str | None) -> None:
    assert split.range_of(table) == expected


def test_wildcard_of_a_split_database(split: RangeMap) -> None:
    assert split.ranges_of(TableRef.any_of(REQ)) == {"requests", "orchestration"}
    assert split.ranges_of(TableRef.any_of(BPMN)) == {"jobs"}
    assert split.range_of(TableRef.any_of(BPMN)) == "jobs"
    with pytest.raises(ValueError, match="ranges_of"):
        split.range_of(TableRef.any_of(REQ))


@pytest.mark.parametrize(
    ("sql", "db", "expected"),
    [
        ("insert into catalogdb.service (id) values (%s)", None, {CAT}),
        ("update infra_active_requests set x = %s", REQ, {REQ}),
        ("select * from service for update", CAT, set()),
        ("insert into requestdb.archive select * from catalogdb.service", None, {REQ}),
        ("update requestdb.r join catalogdb.s on s.id = r.id set r.x = s.x", None, {REQ}),
        (
            "update requestdb.r join catalogdb.s on s.id = r.id set r.x = 1, s.y = 2",
            None,
            {REQ, CAT},
        ),
        ("alter table service add column x int", CAT, {CAT}),
        ("create table requestdb.t like catalogdb.service", None, {REQ}),
        ("drop database camundabpmn", None, {BPMN}),
        ("garbage here", REQ, {REQ}),
        ("CALL catalogdb.p()", REQ, {CAT}),
        ("insert into mysql.user values (1)", CAT, set()),
        ("grant all on catalogdb.* to 'u'@'%'", CAT, set()),
        ("insert into mdbc_applied (seq) values (1)", CAT, set()),
        ("insert into other.t values (1)", CAT, set()),
        ("set autocommit = 0", CAT, set()),
        ("insert into a values (1); insert into requestdb.b values (2)", CAT, {CAT, REQ}),
    ],
)
def test_ranges_written(so: RangeMap, sql: str, db: str | None, expected: set[str]) -> None:
    assert so.ranges_written(classify(sql, db)) == expected


def test_unknown_statement_on_a_split_database_touches_all_its_ranges(split: RangeMap) -> None:
    assert split.ranges_written(classify("FROB", REQ)) == {"requests", "orchestration"}


def test_temporary_tables_are_not_replicated(so: RangeMap) -> None:
    tmp = TableRef(CAT, "tmp_ids")
    assert so.ranges_written(classify("create temporary table tmp_ids (id int)", CAT)) == set()
    assert so.ranges_written(classify("drop temporary table tmp_ids", CAT)) == set()
    insert = classify("insert into tmp_ids values (1)", CAT)
    assert so.ranges_written(insert) == {CAT}  # the classifier cannot know it is temporary
    assert so.ranges_written(insert, temporary={tmp}) == set()
    assert so.ranges_written(classify("drop table tmp_ids", CAT), temporary={tmp}) == set()
    both = classify("insert into service select * from tmp_ids", CAT)
    assert so.ranges_written(both, temporary={tmp}) == {CAT}


def test_written_by_range_names_the_tables(so: RangeMap) -> None:
    stmt = classify("update requestdb.r join catalogdb.s on s.id = r.id set r.x = 1, s.y = 2", None)
    assert so.written_by_range(stmt) == {
        REQ: frozenset({TableRef(REQ, "r")}),
        CAT: frozenset({TableRef(CAT, "s")}),
    }


def test_require_single_range() -> None:
    assert require_single_range([]) is None
    assert require_single_range(["catalogdb"]) == "catalogdb"
    assert require_single_range(["catalogdb", "catalogdb"]) == "catalogdb"
    assert require_single_range({"requestdb": [TableRef(REQ, "r")]}) == "requestdb"


def test_cross_range_error_names_ranges_tables_and_the_remedy(so: RangeMap) -> None:
    stmt = classify("update requestdb.r join catalogdb.s on s.id = r.id set r.x = 1, s.y = 2", None)
    with pytest.raises(CrossRangeError) as raised:
        require_single_range(so.written_by_range(stmt))
    message = str(raised.value)
    assert "catalogdb: catalogdb.s" in message
    assert "requestdb: requestdb.r" in message
    assert "one range in the configuration" in message
    assert "split the transaction" in message
    assert isinstance(raised.value, MdbcError)
    assert isinstance(raised.value, ProgrammingError)


def test_cross_range_error_from_names_only() -> None:
    with pytest.raises(CrossRangeError, match="2 ranges"):
        require_single_range(["requestdb", "catalogdb"])


def test_a_transaction_accumulated_over_statements(so: RangeMap) -> None:
    """The driver's use: union the writes of a transaction, then check once."""
    txn: set[TableRef] = set()
    for sql in (
        "insert into infra_active_requests (request_id) values (%s)",
        "update infra_active_requests set request_status = %s where request_id = %s",
        "select * from catalogdb.service where model_uuid = %s",
    ):
        txn |= classify(sql, REQ).changed
    assert require_single_range(so.group(txn)) == REQ
    txn |= classify("insert into catalogdb.service (id) values (1)", REQ).changed
    with pytest.raises(CrossRangeError):
        require_single_range(so.group(txn))


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"a": RangeSpec(CAT), "b": RangeSpec(CAT)}, "two ranges"),
        (
            {"a": RangeSpec(CAT, frozenset({"t"})), "b": RangeSpec(CAT, frozenset({"t"}))},
            "two ranges",
        ),
        ({"a": RangeSpec(CAT, frozenset())}, "lists no tables"),
        ({"a": RangeSpec("mysql")}, "system schema"),
        ({"a": RangeSpec("INFORMATION_SCHEMA")}, "system schema"),
        ({"a": RangeSpec(CAT, frozenset({"mdbc_staged"}))}, "mdbc"),
        ({"": RangeSpec(CAT)}, "non-empty name"),
    ],
)
def test_invalid_configurations(ranges: dict[str, RangeSpec], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RangeMap(ranges)


def test_ranges_property_is_a_copy(so: RangeMap) -> None:
    copy = so.ranges
    assert set(copy) == {CAT, REQ, BPMN}
    assert copy[CAT] == RangeSpec(CAT)
