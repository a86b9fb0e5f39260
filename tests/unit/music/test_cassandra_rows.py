"""The cached row factory behaves as cassandra-driver's own, without a class per result."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from cassandra.query import named_tuple_factory

from mdbc_py.music.cassandra.rows import row_factory, was_applied

NAMES = [
    ["[applied]", "epoch", "tail", "owner"],
    ["seq", "txid", "payload"],
    ["system.now()", "count"],
]


@pytest.mark.parametrize("names", NAMES)
def test_rows_match_the_drivers_named_tuples(names: list[str]) -> None:
    values = [tuple(range(len(names))), tuple(range(10, 10 + len(names)))]
    ours = row_factory(names, values)
    theirs = named_tuple_factory(names, values)
    assert ours == theirs
    assert [r._fields for r in ours] == [r._fields for r in theirs]


def test_names_no_identifier_can_hold_still_give_rows() -> None:
    (row,) = row_factory(["a", "a", "1st"], [(1, 2, 3)])
    assert tuple(row) == (1, 2, 3) and row.a == 1


def test_one_class_per_column_list() -> None:
    (a,) = row_factory(["seq", "txid"], [(1, "x")])
    (b,) = row_factory(["seq", "txid"], [(2, "y")])
    (c,) = row_factory(["seq", "size"], [(2, 3)])
    assert type(a) is type(b) and type(a) is not type(c)
    assert (b.seq, b.txid) == (2, "y")


def test_was_applied_reads_the_applied_column() -> None:
    def result(names: list[str], rows: list[tuple[object, ...]]) -> SimpleNamespace:
        return SimpleNamespace(column_names=names, current_rows=row_factory(names, rows))

    assert was_applied(result(["[applied]"], [(True,)])) is True
    assert was_applied(result(["[applied]", "epoch", "tail"], [(False, 3, 9)])) is False
    with pytest.raises(RuntimeError, match="not the result of a conditional write"):
        was_applied(result(["seq"], [(1,)]))
    with pytest.raises(RuntimeError):
        was_applied(result([], []))
