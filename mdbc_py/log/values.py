"""Type-exact encoding of one column value: one tag byte, then a fixed layout.

Replicas must converge byte for byte, so a value must come back as the same
Python type with the same value: ``Decimal('1.10')`` keeps its exponent,
``-0.0`` and NaN payloads keep their bits, ``True`` does not turn into ``1``,
a ``frozenset`` does not turn into a ``set``. Dispatch is therefore on the
*exact* type: a subclass (say an ``IntEnum``) is refused rather than stored
as its base class and silently returned as something else.

Tags (format version 1; a tag's meaning never changes within a version):

====  ============  ==========================================================
tag   type          layout after the tag
====  ============  ==========================================================
0x00  None          (nothing)
0x01  bool False    (nothing)
0x02  bool True     (nothing)
0x03  int           int64, little-endian (the common case: one struct call)
0x04  int           varint n, then n bytes two's complement little-endian
                    (any size, e.g. BIGINT UNSIGNED 2**64-1)
0x05  float         IEEE 754 binary64, little-endian, bit for bit
0x06  Decimal       varint n, then n ASCII bytes of ``str(value)``, which
                    Python defines to round-trip exactly (sign, digits,
                    exponent, NaN/Infinity)
0x07  str           varint n, then n bytes of strict UTF-8
0x08  bytes         varint n, then n raw bytes
0x09  datetime      year u16, month u8 (bit 7: fold), day, hour, minute,
                    second u8, microsecond u32; naive only
0x0A  date          year u16, month u8, day u8
0x0B  timedelta     days i32, seconds u32, microseconds u32 (Python's
                    normalised form, so negative and > 24 h TIME values fit)
0x0C  time          hour u8 (bit 7: fold), minute u8, second u8,
                    microsecond u32; naive only
0x0D  set[str]      varint count, then each member as varint n + UTF-8,
                    sorted so equal sets give equal bytes
0x0E  frozenset     as 0x0D
====  ============  ==========================================================
"""

from __future__ import annotations

import datetime
import decimal
import struct
from collections.abc import Callable
from typing import Any

from mdbc_py.log.errors import LogEncodeError, UnsupportedValueTypeError
from mdbc_py.log.model import Value
from mdbc_py.log.wire import Reader, varint

__all__ = ["decode_value", "encode_value", "read_value", "write_value"]

T_NONE = 0x00
T_FALSE = 0x01
T_TRUE = 0x02
T_INT64 = 0x03
T_BIGINT = 0x04
T_FLOAT = 0x05
T_DECIMAL = 0x06
T_STR = 0x07
T_BYTES = 0x08
T_DATETIME = 0x09
T_DATE = 0x0A
T_TIMEDELTA = 0x0B
T_TIME = 0x0C
T_SET = 0x0D
T_FROZENSET = 0x0E

_TAG_INT64 = struct.Struct("<Bq")
_TAG_FLOAT = struct.Struct("<Bd")
_TAG_DATETIME = struct.Struct("<BHBBBBBI")
_TAG_DATE = struct.Struct("<BHBB")
_TAG_TIMEDELTA = struct.Struct("<BiII")
_TAG_TIME = struct.Struct("<BBBBI")

_INT64 = struct.Struct("<q")
_FLOAT = struct.Struct("<d")
_DATETIME = struct.Struct("<HBBBBBI")
_DATE = struct.Struct("<HBB")
_TIMEDELTA = struct.Struct("<iII")
_TIME = struct.Struct("<BBBI")

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_FOLD = 0x80

_NONE_BYTES = bytes((T_NONE,))
_FALSE_BYTES = bytes((T_FALSE,))
_TRUE_BYTES = bytes((T_TRUE,))


def utf8(text: str, what: str) -> bytes:
    """Encode ``text`` as strict UTF-8, or explain why it has no UTF-8 form.

    Python strings may hold lone surrogates (from ``surrogateescape`` or bad
    JSON); MariaDB cannot store them and UTF-8 cannot express them, so they
    are refused instead of being replaced, which would corrupt the value.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise LogEncodeError(
            f"{what} contains a lone surrogate U+{ord(bad):04X} at index {exc.start}, "
            "which has no UTF-8 form and cannot be stored"
        ) from None


def _w_none(buf: bytearray, v: Any) -> None:
    buf += _NONE_BYTES


def _w_bool(buf: bytearray, v: bool) -> None:
    buf += _TRUE_BYTES if v else _FALSE_BYTES


def _w_int(buf: bytearray, v: int) -> None:
    if _INT64_MIN <= v <= _INT64_MAX:
        buf += _TAG_INT64.pack(T_INT64, v)
        return
    raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
    buf.append(T_BIGINT)
    buf += varint(len(raw))
    buf += raw


def _w_float(buf: bytearray, v: float) -> None:
    buf += _TAG_FLOAT.pack(T_FLOAT, v)


def _w_decimal(buf: bytearray, v: decimal.Decimal) -> None:
    raw = str(v).encode("ascii")
    buf.append(T_DECIMAL)
    buf += varint(len(raw))
    buf += raw


def _w_str(buf: bytearray, v: str) -> None:
    raw = utf8(v, "str value")
    buf.append(T_STR)
    buf += varint(len(raw))
    buf += raw


def _w_bytes(buf: bytearray, v: bytes) -> None:
    buf.append(T_BYTES)
    buf += varint(len(v))
    buf += v


def _naive(v: datetime.datetime | datetime.time) -> None:
    if v.tzinfo is not None:
        raise LogEncodeError(
            f"{type(v).__name__} value {v!r} has a tzinfo; MariaDB columns hold naive "
            "values, so an aware one would not come back unchanged"
        )


def _w_datetime(buf: bytearray, v: datetime.datetime) -> None:
    _naive(v)
    month = v.month | (_FOLD if v.fold else 0)
    buf += _TAG_DATETIME.pack(
        T_DATETIME, v.year, month, v.day, v.hour, v.minute, v.second, v.microsecond
    )


def _w_date(buf: bytearray, v: datetime.date) -> None:
    buf += _TAG_DATE.pack(T_DATE, v.year, v.month, v.day)


def _w_timedelta(buf: bytearray, v: datetime.timedelta) -> None:
    buf += _TAG_TIMEDELTA.pack(T_TIMEDELTA, v.days, v.seconds, v.microseconds)


def _w_time(buf: bytearray, v: datetime.time) -> None:
    _naive(v)
    hour = v.hour | (_FOLD if v.fold else 0)
    buf += _TAG_TIME.pack(T_TIME, hour, v.minute, v.second, v.microsecond)


def _w_members(buf: bytearray, tag: int, v: set[str] | frozenset[str]) -> None:
    for member in v:
        if type(member) is not str:
            raise UnsupportedValueTypeError(
                f"{type(v).__name__} members must be str (MySQL SET), "
                f"got {type(member).__name__} {member!r}"
            )
    buf.append(tag)
    buf += varint(len(v))
    for member in sorted(v):
        raw = utf8(member, "SET member")
        buf += varint(len(raw))
        buf += raw


def _w_set(buf: bytearray, v: set[str]) -> None:
    _w_members(buf, T_SET, v)


def _w_frozenset(buf: bytearray, v: frozenset[str]) -> None:
    _w_members(buf, T_FROZENSET, v)


_WRITERS: dict[type, Callable[[bytearray, Any], None]] = {
    type(None): _w_none,
    bool: _w_bool,
    int: _w_int,
    float: _w_float,
    decimal.Decimal: _w_decimal,
    str: _w_str,
    bytes: _w_bytes,
    datetime.datetime: _w_datetime,
    datetime.date: _w_date,
    datetime.timedelta: _w_timedelta,
    datetime.time: _w_time,
    set: _w_set,
    frozenset: _w_frozenset,
}

SUPPORTED_TYPES: tuple[type, ...] = tuple(_WRITERS)
"""The exact types ``write_value`` accepts (subclasses are refused)."""


def write_value(buf: bytearray, value: Value) -> None:
    """Append the tagged encoding of ``value`` to ``buf``.

    Raises ``UnsupportedValueTypeError`` (a ``TypeError``) for a type with no
    exact encoding and ``LogEncodeError`` for a value that has none.
    """
    writer = _WRITERS.get(type(value))
    if writer is None:
        kind = type(value)
        raise UnsupportedValueTypeError(
            f"unsupported value type {kind.__module__}.{kind.__qualname__} ({value!r:.80}); "
            "supported: " + ", ".join(t.__name__ for t in SUPPORTED_TYPES)
        )
    writer(buf, value)


def encode_value(value: Value) -> bytes:
    """Return the tagged encoding of one value (mainly for tests and tools)."""
    buf = bytearray()
    write_value(buf, value)
    return bytes(buf)


def _r_none(r: Reader) -> None:
    return None


def _r_false(r: Reader) -> bool:
    return False


def _r_true(r: Reader) -> bool:
    return True


def _r_int64(r: Reader) -> int:
    value: int = r.unpack(_INT64)[0]
    return value


def _r_bigint(r: Reader) -> int:
    n = r.varint()
    return int.from_bytes(r.take(n), "little", signed=True)


def _r_float(r: Reader) -> float:
    value: float = r.unpack(_FLOAT)[0]
    return value


def _r_decimal(r: Reader) -> decimal.Decimal:
    start = r.pos
    n = r.varint()
    raw = r.take(n)
    try:
        return decimal.Decimal(str(raw, "ascii"))
    except (UnicodeDecodeError, decimal.InvalidOperation):
        raise r.fail(f"invalid Decimal text {bytes(raw)[:80]!r}", start) from None


def _r_str(r: Reader) -> str:
    return r.text()


def _r_bytes(r: Reader) -> bytes:
    n = r.varint()
    return bytes(r.take(n))


def _r_datetime(r: Reader) -> datetime.datetime:
    start = r.pos
    year, month, day, hour, minute, second, micro = r.unpack(_DATETIME)
    try:
        return datetime.datetime(
            year,
            month & ~_FOLD,
            day,
            hour,
            minute,
            second,
            micro,
            fold=1 if month & _FOLD else 0,
        )
    except (ValueError, OverflowError) as exc:
        # OverflowError: a u32 microsecond past C int range (damaged bytes).
        raise r.fail(f"invalid datetime: {exc}", start) from None


def _r_date(r: Reader) -> datetime.date:
    start = r.pos
    year, month, day = r.unpack(_DATE)
    try:
        return datetime.date(year, month, day)
    except (ValueError, OverflowError) as exc:
        # OverflowError: a u32 microsecond past C int range (damaged bytes).
        raise r.fail(f"invalid date: {exc}", start) from None


def _r_timedelta(r: Reader) -> datetime.timedelta:
    start = r.pos
    days, seconds, micro = r.unpack(_TIMEDELTA)
    if seconds >= 86400 or micro >= 1_000_000:
        raise r.fail("timedelta seconds/microseconds not normalised", start)
    try:
        return datetime.timedelta(days=days, seconds=seconds, microseconds=micro)
    except OverflowError as exc:
        raise r.fail(f"invalid timedelta: {exc}", start) from None


def _r_time(r: Reader) -> datetime.time:
    start = r.pos
    hour, minute, second, micro = r.unpack(_TIME)
    try:
        return datetime.time(hour & ~_FOLD, minute, second, micro, fold=1 if hour & _FOLD else 0)
    except (ValueError, OverflowError) as exc:
        # OverflowError: a u32 microsecond past C int range (damaged bytes).
        raise r.fail(f"invalid time: {exc}", start) from None


def _r_members(r: Reader) -> list[str]:
    count = r.varint()
    if count > r.end - r.pos:
        # Every member takes at least one byte; refuse before allocating.
        raise r.fail(f"set claims {count} members but only {r.end - r.pos} bytes remain")
    return [r.text() for _ in range(count)]


def _r_set(r: Reader) -> set[str]:
    return set(_r_members(r))


def _r_frozenset(r: Reader) -> frozenset[str]:
    return frozenset(_r_members(r))


READERS: list[Callable[[Reader], Any] | None] = [None] * 256
"""Value reader per tag byte (``None`` = unknown tag); indexed for speed by the body decoder."""
for _tag, _reader in (
    (T_NONE, _r_none),
    (T_FALSE, _r_false),
    (T_TRUE, _r_true),
    (T_INT64, _r_int64),
    (T_BIGINT, _r_bigint),
    (T_FLOAT, _r_float),
    (T_DECIMAL, _r_decimal),
    (T_STR, _r_str),
    (T_BYTES, _r_bytes),
    (T_DATETIME, _r_datetime),
    (T_DATE, _r_date),
    (T_TIMEDELTA, _r_timedelta),
    (T_TIME, _r_time),
    (T_SET, _r_set),
    (T_FROZENSET, _r_frozenset),
):
    READERS[_tag] = _reader
del _tag, _reader


def read_value(r: Reader) -> Value:
    """Read one tagged value at the reader's cursor."""
    start = r.pos
    tag = r.u8()
    reader = READERS[tag]
    if reader is None:
        raise r.fail(f"unknown value tag 0x{tag:02X}", start)
    value: Value = reader(r)
    return value


def decode_value(data: bytes | bytearray | memoryview) -> Value:
    """Decode exactly one value produced by ``encode_value``.

    Raises ``LogFormatError`` for unknown tags, truncation or trailing bytes.
    """
    r = Reader(memoryview(data).cast("B"), "value")
    value = read_value(r)
    r.expect_end()
    return value
