"""Round trips and refusals of single column values (``encode_value``/``decode_value``)."""

from __future__ import annotations

import datetime as dt
import enum
import math
import struct
from decimal import Decimal
from typing import Any

import pytest

from mdbc_py.errors import DataError, MdbcError
from mdbc_py.log import (
    LogEncodeError,
    LogFormatError,
    UnsupportedValueTypeError,
    decode_value,
    encode_value,
)


def _float_bits(bits: int) -> float:
    value: float = struct.unpack("<d", struct.pack("<Q", bits))[0]
    return value


NAN_WITH_PAYLOAD = _float_bits(0xFFF8_0000_DEAD_BEEF)  # negative quiet NaN with a payload

FORTY_FIVE_DIGITS = "123456789012345678901234567890123456789012345"

ROUND_TRIP: list[tuple[str, Any]] = [
    ("none", None),
    ("false", False),
    ("true", True),
    ("int-zero", 0),
    ("int-one", 1),
    ("int-minus-one", -1),
    ("int64-max", 2**63 - 1),
    ("int64-min", -(2**63)),
    ("int64-max-plus-one", 2**63),
    ("bigint-unsigned-max", 2**64 - 1),
    ("beyond-64-bits", 2**64),
    ("below-int64-min", -(2**63) - 1),
    ("huge-positive", 10**100),
    ("huge-negative", -(10**100) + 7),
    ("float-zero", 0.0),
    ("float-negative-zero", -0.0),
    ("float-plain", 1.5),
    ("float-pi", math.pi),
    ("float-inf", math.inf),
    ("float-minus-inf", -math.inf),
    ("float-nan", math.nan),
    ("float-nan-payload", NAN_WITH_PAYLOAD),
    ("float-subnormal", 5e-324),
    ("float-max", 1.7976931348623157e308),
    ("decimal-zero", Decimal("0")),
    ("decimal-keeps-exponent", Decimal("1.10")),
    ("decimal-negative", Decimal("-12.345")),
    ("decimal-negative-zero", Decimal("-0.00")),
    ("decimal-exponent-positive", Decimal("1E+3")),
    ("decimal-exponent-negative", Decimal("1.23E-10")),
    ("decimal-65-digits", Decimal("12345678901234567890." + FORTY_FIVE_DIGITS)),
    ("decimal-65-digits-negative", Decimal("-" + FORTY_FIVE_DIGITS + "." + "9" * 20)),
    ("decimal-65-nines", Decimal("9" * 35 + "." + "9" * 30)),
    ("decimal-nan", Decimal("NaN")),
    ("decimal-infinity", Decimal("-Infinity")),
    ("str-empty", ""),
    ("str-ascii", "IN_PROGRESS"),
    ("str-latin1", "Grüße, café"),
    ("str-3-byte", "€ 中文"),
    ("str-4-byte", "emoji 😀 and 𝄞"),
    ("str-nul", "a\x00b"),
    ("str-json", '{"a": [1, 2.5, null], "b": "\\u00e9"}'),
    ("str-1mib", "xé😀" * 150_000),
    ("bytes-empty", b""),
    ("bytes-nul", b"\x00"),
    ("bytes-nuls", b"\x00" * 17),
    ("bytes-bit1", b"\x01"),
    ("bytes-all-values", bytes(range(256))),
    ("bytes-invalid-utf8", b"\xff\xfe\xc3"),
    ("bytes-1mib", bytes(range(256)) * 4096),
    ("datetime-min", dt.datetime.min),
    ("datetime-max", dt.datetime.max),
    ("datetime-millis", dt.datetime(2024, 2, 29, 13, 14, 15, 123000)),
    ("datetime-micros", dt.datetime(1970, 1, 1, 0, 0, 0, 1)),
    ("datetime-fold", dt.datetime(2023, 10, 29, 2, 30, fold=1)),
    ("date-min", dt.date.min),
    ("date-max", dt.date.max),
    ("date-leap", dt.date(2000, 2, 29)),
    ("time-delta-zero", dt.timedelta(0)),
    ("time-delta-minus-1us", dt.timedelta(microseconds=-1)),
    ("time-delta-mysql-min", -dt.timedelta(hours=838, minutes=59, seconds=59)),
    ("time-delta-mysql-max", dt.timedelta(hours=838, minutes=59, seconds=59)),
    ("time-delta-25h", dt.timedelta(hours=25, microseconds=5)),
    ("time-delta-negative-fraction", -dt.timedelta(hours=1, microseconds=500000)),
    ("time-delta-min", dt.timedelta.min),
    ("time-delta-max", dt.timedelta.max),
    ("time-midnight", dt.time(0)),
    ("time-max", dt.time.max),
    ("time-fold", dt.time(1, 2, 3, 4, fold=1)),
    ("set-empty", set()),
    ("set-one", {"a"}),
    ("set-many", {"read", "write", "admin"}),
    ("set-empty-member", {""}),
    ("set-unicode", {"é", "😀"}),
    ("frozenset-empty", frozenset()),
    ("frozenset-many", frozenset({"x", "y"})),
]


@pytest.mark.parametrize(("value",), [(v,) for _, v in ROUND_TRIP], ids=[n for n, _ in ROUND_TRIP])
def test_value_round_trips_with_type_and_value(value: Any, same: Any) -> None:
    decoded = decode_value(encode_value(value))
    assert type(decoded) is type(value)
    assert same(value, decoded)


def test_same_helper_can_tell_values_apart(same: Any) -> None:
    # The round-trip test is only as strong as this comparison.
    assert not same(1, True)
    assert not same(0.0, -0.0)
    assert not same(math.nan, NAN_WITH_PAYLOAD)
    assert not same(Decimal("1.1"), Decimal("1.10"))
    assert not same({"a"}, frozenset({"a"}))
    assert not same(dt.datetime(2023, 1, 1), dt.datetime(2023, 1, 1, fold=1))
    assert not same(dt.datetime(2023, 1, 1), dt.date(2023, 1, 1))
    assert same(math.nan, math.nan)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "00"),
        (False, "01"),
        (True, "02"),
        (1, "03" + "0100000000000000"),
        (-2, "03" + "feffffffffffffff"),
        (2**64 - 1, "04" + "09" + "ffffffffffffffff00"),
        (-0.0, "05" + "0000000000000080"),
        (Decimal("1.10"), "06" + "04" + b"1.10".hex()),
        ("é", "07" + "02" + "c3a9"),
        (b"\x00\x01", "08" + "02" + "0001"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 6), "09" + "e807" + "0102030405" + "06000000"),
        (dt.date(2024, 1, 2), "0a" + "e807" + "0102"),
        # -1 h is normalised by Python to days=-1, seconds=82800.
        (dt.timedelta(hours=-1), "0b" + "ffffffff" + "70430100" + "00000000"),
        (dt.time(1, 2, 3, 4), "0c" + "010203" + "04000000"),
        ({"b", "a"}, "0d" + "02" + "0161" + "0162"),
        (frozenset({"a"}), "0e" + "01" + "0161"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else None,
)
def test_encoding_is_the_documented_version_1_layout(value: Any, expected: str) -> None:
    # Stored entries outlive releases: version 1 bytes must never change meaning.
    assert encode_value(value).hex() == expected


def test_set_encoding_does_not_depend_on_iteration_order() -> None:
    members = [f"m{i}" for i in range(50)]
    forward = set(members)
    backward: set[str] = set()
    for member in reversed(members):
        backward.add(member)
    assert encode_value(forward) == encode_value(backward)


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ([1, 2], "list"),
        ({"a": 1}, "dict"),
        ((1,), "tuple"),
        (bytearray(b"x"), "bytearray"),
        (memoryview(b"x"), "memoryview"),
        (1j, "complex"),
        (object(), "object"),
        (Colour.RED, "Colour"),
        (Name("x"), "Name"),
    ],
    ids=lambda v: v if isinstance(v, str) and not isinstance(v, Name) else None,
)
def test_unsupported_type_raises_type_error_naming_it(value: Any, type_name: str) -> None:
    with pytest.raises(UnsupportedValueTypeError, match=rf"\b{type_name}\b") as info:
        encode_value(value)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("\ud800", "lone surrogate U\\+D800 at index 0"),
        ("ok\udfff", "lone surrogate U\\+DFFF at index 2"),
        ("\udbff\udfff", "lone surrogate"),
        ({"fine", "bad\udc80"}, "SET member contains a lone surrogate"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "tzinfo"),
        (dt.time(1, tzinfo=dt.timezone(dt.timedelta(hours=2))), "tzinfo"),
    ],
    ids=["lone-high", "lone-low-late", "surrogate-pair-chars", "set-member", "aware-dt", "aware-t"],
)
def test_value_without_exact_encoding_raises_value_error(value: Any, message: str) -> None:
    with pytest.raises(LogEncodeError, match=message) as info:
        encode_value(value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, DataError)
    assert isinstance(info.value, MdbcError)


@pytest.mark.parametrize("member", [1, b"a", None])
def test_set_with_non_str_member_is_refused(member: Any) -> None:
    with pytest.raises(UnsupportedValueTypeError, match="members must be str"):
        encode_value({"a", member})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated"),
        (b"\xff", "unknown value tag 0xFF"),
        (b"\x0f", "unknown value tag 0x0F"),
        (b"\x03\x01\x00", "truncated: need 8 bytes, 2 left"),
        (b"\x04\x05\x01", "truncated: need 5 bytes, 1 left"),
        (b"\x05\x00\x00", "truncated"),
        (b"\x07\x03ab", "truncated: need 3 bytes, 2 left"),
        (b"\x07\x02\xc3\x28", "invalid UTF-8"),
        (b"\x07\x03\xed\xa0\x80", "invalid UTF-8"),  # an encoded surrogate
        (b"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", "varint longer than 10 bytes"),
        (b"\x08\x05abc", "truncated"),
        (b"\x06\x03abc", "invalid Decimal"),
        (b"\x09" + bytes.fromhex("e8070d0102030406000000"), "invalid datetime"),
        (b"\x0a" + bytes.fromhex("e8070230"), "invalid date"),
        (b"\x0a" + bytes.fromhex("00000101"), "invalid date"),
        (b"\x0b" + bytes.fromhex("00000000" + "80510100" + "00000000"), "not normalised"),
        (b"\x0c" + bytes.fromhex("18000000000000"), "invalid time"),
        (b"\x0d\x05\x01a", "set claims 5 members"),
        (b"\x00\x00", "1 unexpected trailing bytes"),
    ],
)
def test_malformed_value_bytes_raise_log_format_error(data: bytes, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        decode_value(data)


def test_decode_value_accepts_any_buffer() -> None:
    encoded = encode_value("abc")
    assert decode_value(bytearray(encoded)) == "abc"
    assert decode_value(memoryview(encoded)) == "abc"
