"""Capture SQL generation, table checks and row decoding, without a server."""

from __future__ import annotations

import pytest

from mdbc_py.capture import sqlgen
from mdbc_py.capture.collect import changes_from_rows
from mdbc_py.capture.errors import (
    CaptureError,
    CaptureStateError,
    NoPrimaryKeyError,
    StagedRowsError,
    UnsupportedTableError,
)
from mdbc_py.capture.naming import Event
from mdbc_py.capture.schema import ColumnInfo, TableInfo, check_capturable, table_problems
from mdbc_py.errors import InternalError, MdbcError, OperationalError, ProgrammingError
from mdbc_py.log.model import Op


def col(name: str, ctype: str, charset: str | None = None, generated: bool = False) -> ColumnInfo:
    collation = None if charset is None else f"{charset}_bin"
    return ColumnInfo(name, ctype, charset, collation, generated)


def table(
    *columns: ColumnInfo, pk: tuple[str, ...] = ("id",), name: str = "t", kind: str = "BASE TABLE"
) -> TableInfo:
    return TableInfo("db", name, kind, columns, pk)


ORDERS = table(
    col("note", "varchar(20)", "latin1"),
    col("id", "bigint(20) unsigned"),
    col("total", "int(11)", generated=True),
    col("data", "longblob"),
    col("k2", "char(3)", "utf8mb4"),
    pk=("id", "k2"),
)


def test_shadow_columns_copy_types_and_put_key_images_first() -> None:
    p = sqlgen.plan(ORDERS)
    assert p.shadow == "mdbc_s_t"
    assert p.columns_sql.splitlines() == [
        "(",
        "  `mdbc_conn` BIGINT UNSIGNED NOT NULL,",
        "  `mdbc_seq` BIGINT UNSIGNED NOT NULL,",
        "  `mdbc_op` CHAR(1) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,",
        "  `mdbc_old_2` bigint(20) unsigned NULL DEFAULT NULL,",
        "  `mdbc_old_4` char(3) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL DEFAULT NULL,",
        "  `note` varchar(20) CHARACTER SET latin1 COLLATE latin1_bin NULL DEFAULT NULL,",
        "  `id` bigint(20) unsigned NULL DEFAULT NULL,",
        "  `data` longblob NULL DEFAULT NULL,",
        "  `k2` char(3) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL DEFAULT NULL,",
        "  PRIMARY KEY (`mdbc_conn`, `mdbc_seq`)",
        ")",
    ]
    assert set(p.triggers) == {"mdbc_ai_t", "mdbc_au_t", "mdbc_ad_t"}


def test_fingerprint_follows_the_definition() -> None:
    same = sqlgen.plan(ORDERS)
    assert sqlgen.plan(ORDERS).fingerprint == same.fingerprint
    wider = table(*ORDERS.columns[:-1], col("k2", "char(4)", "utf8mb4"), pk=("id", "k2"))
    assert sqlgen.plan(wider).fingerprint != same.fingerprint
    assert sqlgen.parse_shadow_comment(sqlgen.shadow_comment(same)) == (
        sqlgen.stamp(same),
        "t",
    )
    assert sqlgen.parse_shadow_comment("user comment") is None
    assert sqlgen.parse_shadow_comment(None) is None


def test_trigger_bodies_copy_new_or_old_images() -> None:
    p = sqlgen.plan(ORDERS)
    ins = p.trigger_body(Event.INSERT)
    upd = p.trigger_body(Event.UPDATE)
    dele = p.trigger_body(Event.DELETE)
    assert "IF @mdbc_replay IS NULL THEN" in ins
    assert "'I'" in ins and "mdbc_old_" not in ins and "OLD." not in ins
    assert "NEW.`note`, NEW.`id`, NEW.`data`, NEW.`k2`" in ins
    assert "`total`" not in ins  # generated: left out
    assert "'U'" in upd and "OLD.`id`, OLD.`k2`, NEW.`note`" in upd
    assert "'D'" in dele and "NEW." not in dele and "OLD.`id`, OLD.`k2`, OLD.`note`" in dele
    token = "X'0064620074" + "00'"  # \0 db \0 t \0
    assert f"LOCATE({token}, @mdbc_dirty)" in ins
    assert "SET @mdbc_done = @mdbc_seq" in ins  # a new collect generation starts
    create = sqlgen.create_trigger_sql(p, "mdbc_au_t")
    assert create.startswith("CREATE OR REPLACE TRIGGER `db`.`mdbc_au_t` AFTER UPDATE ON `db`.`t`")
    assert create.endswith(upd)


def test_identifiers_are_escaped_everywhere() -> None:
    odd = TableInfo("d`b", "t`%s", "BASE TABLE", (col("i`d%", "int(11)"),), ("i`d%",))
    p = sqlgen.plan(odd)
    create = sqlgen.create_shadow_sql(p)
    assert create.startswith("CREATE TABLE `mdbc_stage_d``b`.`mdbc_s_t``%%s` (")
    assert create.endswith(" ENGINE=InnoDB COMMENT = %s")
    assert "`i``d%%`" in create
    assert "NEW.`i``d%`" in p.trigger_body(Event.INSERT)
    assert "INSERT INTO `mdbc_stage_d``b`.`mdbc_s_t``%s`" in p.trigger_body(Event.INSERT)
    for count in (1, 3):
        delete = sqlgen.delete_staged_sql("d`b", "s%", count)
        assert "`mdbc_stage_d``b`.`s%%`" in delete and delete.count("%s") == 1
    assert "`mdbc_stage_d``b`.`s%`" in sqlgen.select_staged_sql("d`b", "s%")


def test_delete_by_exact_key() -> None:
    one = sqlgen.delete_staged_sql("db", "s", 1)
    assert one == (
        "DELETE FROM `mdbc_stage_db`.`s` WHERE `mdbc_conn` = CONNECTION_ID() AND `mdbc_seq` = %s"
    )
    many = sqlgen.delete_staged_sql("db", "s", 2)
    assert "JSON_TABLE(%s" in many and "STRAIGHT_JOIN `mdbc_stage_db`.`s` AS staged" in many
    assert sqlgen.delete_staged_param([2**63 + 1]) == 2**63 + 1
    assert sqlgen.delete_staged_param([2**63 + 1, 7]) == f'["{2**63 + 1}", "7"]'


def test_create_or_replace_for_regeneration() -> None:
    assert sqlgen.create_shadow_sql(sqlgen.plan(ORDERS), replace=True).startswith(
        "CREATE OR REPLACE TABLE `mdbc_stage_db`.`mdbc_s_t`"
    )


def test_bad_charset_names_are_refused() -> None:
    bad = table(col("id", "int(11)"), ColumnInfo("x", "text", "utf8; DROP", None, False))
    with pytest.raises(UnsupportedTableError):
        sqlgen.plan(bad)


@pytest.mark.parametrize(
    ("info", "fragment"),
    [
        (table(col("id", "int"), col("MDBC_seq", "int")), "'MDBC_seq' uses the prefix"),
        (table(col("id", "int"), name="mdbc_x"), "belong to mdbc"),
        (table(col("id", "int"), kind="SYSTEM VERSIONED"), "system-versioned"),
        (table(col("id", "int"), kind="VIEW"), "a VIEW has no rows"),
        (table(col("id", "int", generated=True)), "generated or missing"),
        (table(col("x", "int")), "generated or missing"),
    ],
)
def test_table_problems(info: TableInfo, fragment: str) -> None:
    problems = table_problems(info)
    assert problems and fragment in " ".join(problems)
    assert all(p.startswith(f"db.{info.name}") for p in problems)


def test_check_capturable_lists_every_table_without_key() -> None:
    ok = table(col("id", "int"))
    with pytest.raises(NoPrimaryKeyError) as caught:
        check_capturable([ok, table(col("a", "int"), pk=(), name="x"), table(pk=(), name="y")])
    assert caught.value.tables == ("db.x", "db.y")
    assert "db.x, db.y" in str(caught.value)
    check_capturable([ok])


def test_error_classes() -> None:
    for cls, base in [
        (NoPrimaryKeyError, ProgrammingError),
        (UnsupportedTableError, ProgrammingError),
        (StagedRowsError, OperationalError),
        (CaptureStateError, InternalError),
    ]:
        assert issubclass(cls, CaptureError) and issubclass(cls, MdbcError)
        assert issubclass(cls, base)


NAMES = ("mdbc_conn", "mdbc_seq", "mdbc_op", "mdbc_old_2", "mdbc_old_4", "note", "id", "data", "k2")


def test_layout_is_read_from_column_names() -> None:
    layout = sqlgen.decode_layout(NAMES)
    assert layout.data_start == 5
    assert layout.data_names == ("note", "id", "data", "k2")
    assert layout.key_names == ("id", "k2")
    assert layout.key_old_index == (3, 4)
    assert layout.key_data_index == (6, 8)


@pytest.mark.parametrize(
    "names",
    [
        ("a", "b", "c", "mdbc_old_1", "x"),
        ("mdbc_conn", "mdbc_seq", "mdbc_op", "x"),
        ("mdbc_conn", "mdbc_seq", "mdbc_op", "mdbc_old_3", "x", "y"),
    ],
)
def test_bad_layouts_are_refused(names: tuple[str, ...]) -> None:
    with pytest.raises(CaptureStateError):
        sqlgen.decode_layout(names)


def test_changes_from_rows() -> None:
    rows = [
        (7, 12, "I", None, None, "n", 1, b"\x00", "k"),
        (7, 13, "U", 1, "k", "n2", 2, b"", "k"),
        (7, 14, "D", 2, "k", "n2", 2, b"", "k"),
    ]
    got = changes_from_rows("db.t", NAMES, rows)
    assert [seq for seq, _ in got] == [12, 13, 14]
    ins, upd, dele = (change for _, change in got)
    assert (ins.op, ins.pk) == (Op.INSERT, (("id", 1), ("k2", "k")))
    assert ins.row == (("note", "n"), ("id", 1), ("data", b"\x00"), ("k2", "k"))
    assert (upd.op, upd.pk) == (Op.UPDATE, (("id", 1), ("k2", "k")))
    assert dict(upd.row or ())["id"] == 2
    assert (dele.op, dele.pk, dele.table) == (Op.DELETE, (("id", 2), ("k2", "k")), "db.t")
    assert dele.row == upd.row
