"""Validation of the entry model: bad structure fails when the object is built."""

from __future__ import annotations

from typing import Any

import pytest

from mdbc_py.log import DdlStatement, EntryPayload, Op, RowChange


def test_row_change_stores_lists_as_tuples() -> None:
    change = RowChange("db.t", Op.INSERT, [["id", 1]], [("id", 1), ["v", "x"]])  # type: ignore[arg-type]
    assert change.pk == (("id", 1),)
    assert change.row == (("id", 1), ("v", "x"))
    assert type(change.row) is tuple and all(type(p) is tuple for p in change.row)


def test_row_change_is_frozen() -> None:
    change = RowChange("db.t", Op.DELETE, (("id", 1),), None)
    with pytest.raises(AttributeError):
        change.table = "db.u"  # type: ignore[misc]


def test_delete_may_omit_the_row_image() -> None:
    assert RowChange("db.t", Op.DELETE, (("id", 1),), None).row is None


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("", Op.INSERT, (("id", 1),), (("id", 1),)), TypeError, "table"),
        ((None, Op.INSERT, (("id", 1),), (("id", 1),)), TypeError, "table"),
        (("db.t", "INSERT", (("id", 1),), (("id", 1),)), TypeError, "op"),
        (("db.t", Op.INSERT, (), (("id", 1),)), ValueError, "primary key is required"),
        (("db.t", Op.INSERT, (("id", 1),), None), ValueError, "INSERT needs the full row"),
        (("db.t", Op.UPDATE, (("id", 1),), None), ValueError, "UPDATE needs the full row"),
        (("db.t", Op.INSERT, (("id", 1, 2),), (("id", 1),)), TypeError, "pairs"),
        (("db.t", Op.INSERT, ((1, 1),), (("id", 1),)), TypeError, "pairs"),
        (("db.t", Op.INSERT, "id", (("id", 1),)), TypeError, "pairs"),
        (("db.t", Op.INSERT, (("id", 1),), b"row"), TypeError, "pairs"),
    ],
)
def test_row_change_rejects_bad_structure(
    args: tuple[Any, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        RowChange(*args)


def _change() -> RowChange:
    return RowChange("db.t", Op.INSERT, (("id", 1),), (("id", 1),))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"txid": 1}, TypeError, "txid"),
        ({"origin_site": None}, TypeError, "origin_site"),
        ({"range_name": b"r"}, TypeError, "range_name"),
        ({"commit_time_us": 1.0}, TypeError, "commit_time_us"),
        ({"commit_time_us": True}, TypeError, "commit_time_us"),
        ({"changes": ("not a change",)}, TypeError, "RowChange"),
        ({"ddl": "DROP TABLE t"}, TypeError, "DdlStatement"),
        ({"ddl": DdlStatement(None, "DROP TABLE t")}, ValueError, "not both"),
    ],
)
def test_entry_payload_rejects_bad_structure(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    fields: dict[str, Any] = {
        "txid": "t",
        "commit_time_us": 1,
        "origin_site": "dc1",
        "range_name": "db",
        "changes": (_change(),),
    }
    fields.update(kwargs)
    with pytest.raises(error, match=message):
        EntryPayload(**fields)


def test_entry_payload_accepts_a_list_of_changes_and_stores_a_tuple() -> None:
    payload = EntryPayload("t", 1, "dc1", "db", [_change()])  # type: ignore[arg-type]
    assert payload.changes == (_change(),)
    assert type(payload.changes) is tuple


@pytest.mark.parametrize(
    ("database", "sql"), [(1, "DROP TABLE t"), ("db", ""), ("db", None)], ids=str
)
def test_ddl_statement_rejects_bad_fields(database: Any, sql: Any) -> None:
    with pytest.raises(TypeError):
        DdlStatement(database, sql)
