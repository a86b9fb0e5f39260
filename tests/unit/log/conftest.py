"""Shared helpers for the log format tests.

``same`` is a fixture rather than ``==`` because the format promises more
than equality: the same type (``True`` is not ``1``), the same float bits
(``-0.0`` is not ``0.0``, NaN is not equal to itself), the same Decimal
exponent (``Decimal('1.10')`` equals ``Decimal('1.1')``) and the same
``fold``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mdbc_py.log import EntryPayload, RowChange
from tests.exact import same_value


def _same_pairs(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(
        ca == cb and same_value(va, vb) for (ca, va), (cb, vb) in zip(a, b, strict=True)
    )


def _same_change(a: RowChange, b: RowChange) -> bool:
    return (
        a.table == b.table
        and a.op is b.op
        and _same_pairs(a.pk, b.pk)
        and _same_pairs(a.row, b.row)
    )


def same_payload(a: EntryPayload, b: EntryPayload) -> bool:
    """True if ``b`` is an exact copy of ``a``, values compared with ``same_value``."""
    return (
        type(b) is EntryPayload
        and (a.txid, a.commit_time_us, a.origin_site, a.range_name, a.ddl)
        == (b.txid, b.commit_time_us, b.origin_site, b.range_name, b.ddl)
        and len(a.changes) == len(b.changes)
        and all(_same_change(x, y) for x, y in zip(a.changes, b.changes, strict=True))
    )


@pytest.fixture
def same() -> Callable[[Any, Any], bool]:
    return same_value


@pytest.fixture
def same_entry() -> Callable[[EntryPayload, EntryPayload], bool]:
    return same_payload
