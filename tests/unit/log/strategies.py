"""Hypothesis strategies for log entries: every value type the codec supports.

Kept apart from the tests so the round-trip properties and the fuzz run
draw from one definition of "a valid entry"; when the codec gains a type,
``values`` must gain it too (``test_strategies_cover_every_supported_type``
fails until it does).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from mdbc_py.log import DdlStatement, EntryPayload, Op, RowChange
from mdbc_py.log.model import Value

# Text MariaDB can hold: any code point but a lone surrogate (no UTF-8 form).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
names = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=16)

ints = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(),  # beyond int64: BIGINT UNSIGNED and Python's unbounded ints
    st.sampled_from([2**63, 2**64 - 1, -(2**63) - 1, 2**200, -(2**200)]),
)
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([-0.0, 0.0])
decimals = st.decimals(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [Decimal("1.10"), Decimal("-0"), Decimal("0E-30"), Decimal("NaN123"), Decimal("-sNaN")]
)
datetimes = st.builds(
    lambda d, fold: d.replace(fold=fold), st.datetimes(), st.integers(min_value=0, max_value=1)
)
times = st.builds(
    lambda t, fold: t.replace(fold=fold), st.times(), st.integers(min_value=0, max_value=1)
)
set_members = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)

values: st.SearchStrategy[Value] = st.one_of(
    st.none(),
    st.booleans(),
    ints,
    floats,
    decimals,
    text,
    st.binary(max_size=64),
    datetimes,
    st.dates(),
    st.timedeltas(),
    times,
    st.sets(set_members, max_size=5),
    st.frozensets(set_members, max_size=5),
)
"""One column value of any type ``mdbc_py.log.values`` encodes."""

VALUE_TYPES = (
    type(None),
    bool,
    int,
    float,
    Decimal,
    str,
    bytes,
    dt.datetime,
    dt.date,
    dt.timedelta,
    dt.time,
    set,
    frozenset,
)
"""The types ``values`` draws; checked against the codec's own list."""

pairs = st.lists(st.tuples(names, values), max_size=8).map(tuple)
keys = st.lists(st.tuples(names, values), min_size=1, max_size=3).map(tuple)


@st.composite
def row_changes(draw: st.DrawFn) -> RowChange:
    op = draw(st.sampled_from(list(Op)))
    row = draw(st.none() | pairs) if op is Op.DELETE else draw(pairs)
    return RowChange(draw(names), op, draw(keys), row)


ddls = st.builds(DdlStatement, st.none() | names, text.filter(bool))


@st.composite
def entries(draw: st.DrawFn) -> EntryPayload:
    head = (
        draw(text),
        draw(st.integers(min_value=-(2**63), max_value=2**63 - 1)),
        draw(text),
        draw(text),
    )
    if draw(st.booleans()):
        return EntryPayload(*head, (), draw(ddls))
    return EntryPayload(*head, tuple(draw(st.lists(row_changes(), max_size=6))))
