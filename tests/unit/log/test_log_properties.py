"""Property tests: every generated entry and value comes back exactly.

The example tests in ``test_log_entry`` and ``test_log_values`` pin known
edge cases; these let hypothesis search the space between them (unbounded
ints, NaN payloads, Decimal exponents, ``fold``, non-ASCII names, sets) with
a bounded number of examples so the suite stays fast.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdbc_py.log import EntryPayload, decode, decode_value, encode, encode_value
from mdbc_py.log.model import Value
from mdbc_py.log.values import SUPPORTED_TYPES
from tests.exact import same_value
from tests.unit.log.conftest import same_payload
from tests.unit.log.strategies import VALUE_TYPES, entries, values

BOUNDED = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_strategies_cover_every_supported_type() -> None:
    # A type the codec gains without a strategy would never be generated.
    assert set(VALUE_TYPES) == set(SUPPORTED_TYPES)


@BOUNDED
@given(values)
def test_every_value_round_trips_exactly(value: Value) -> None:
    assert same_value(value, decode_value(encode_value(value)))


@BOUNDED
@given(entries(), st.booleans())
def test_every_entry_round_trips_exactly(payload: EntryPayload, compress: bool) -> None:
    data = encode(payload, compress=compress)
    assert same_payload(payload, decode(data))


@BOUNDED
@given(entries())
def test_encoding_is_deterministic(payload: EntryPayload) -> None:
    # Equal entries give equal bytes (sets are sorted), so a stored entry can be compared.
    assert encode(payload) == encode(payload)
