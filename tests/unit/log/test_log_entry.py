"""Whole log entries: round trips, the framing, compression and damaged input."""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from mdbc_py.errors import DataError, MdbcError
from mdbc_py.log import (
    COMPRESS_THRESHOLD,
    FLAG_ZLIB,
    FORMAT_VERSION,
    MAGIC,
    DdlStatement,
    EntryPayload,
    LogEncodeError,
    LogFormatError,
    Op,
    RowChange,
    UnsupportedValueTypeError,
    decode,
    encode,
)

Same = Callable[[EntryPayload, EntryPayload], bool]

HEADER = struct.Struct(">4sBBII")


def _payload(*changes: RowChange, ddl: DdlStatement | None = None) -> EntryPayload:
    return EntryPayload("tx-1", 1_700_000_000_000_000, "dc1", "requestdb", changes, ddl)


SMALL = _payload(
    RowChange(
        "requestdb.t",
        Op.UPDATE,
        (("id", 7),),
        (
            ("id", 7),
            ("name", "é"),
            ("d", Decimal("1.10")),
            ("at", dt.datetime(2024, 1, 2, 3, 4, 5, 6)),
            ("b", b"\x00\x01"),
            ("n", None),
        ),
    ),
    RowChange("requestdb.t", Op.DELETE, (("id", 8),), None),
)

# SMALL as written by format version 1. If this test fails, the format changed:
# bump FORMAT_VERSION and keep a reader for version 1 instead of editing this.
SMALL_V1_HEX = (
    "4d44424c010000000082000000820474782d3100401e18240a06000364633109726571756573746462070b"
    "7265717565737464622e74026964046e616d6501640261740162016e00020002010103070000000000000001"
    "0601030700000000000000020702c3a9030604312e31300409e807010203040506000000050802000106000003"
    "010103080000000000000000a63180b2"
)


def _frame(body: bytes, *, version: int = FORMAT_VERSION, flags: int = 0, raw: int = -1) -> bytes:
    """Frame ``body`` with a valid CRC, to reach the checks behind the CRC."""
    header = HEADER.pack(MAGIC, version, flags, len(body), len(body) if raw < 0 else raw)
    return header + body + struct.pack(">I", zlib.crc32(header + body))


def _body(data: bytes) -> bytes:
    return data[HEADER.size : -4]


# --- round trips --------------------------------------------------------------------


def test_small_entry_round_trips(same_entry: Same) -> None:
    decoded = decode(encode(SMALL))
    assert decoded == SMALL
    assert same_entry(SMALL, decoded)


def test_version_1_bytes_are_stable() -> None:
    assert encode(SMALL).hex() == SMALL_V1_HEX
    assert decode(bytes.fromhex(SMALL_V1_HEX)) == SMALL


@pytest.mark.parametrize(
    "payload",
    [
        _payload(),
        _payload(ddl=DdlStatement("catalogdb", "ALTER TABLE t ADD c INT")),
        _payload(ddl=DdlStatement(None, "CREATE DATABASE x")),
        _payload(ddl=DdlStatement("é", "CREATE TABLE `😀` (id INT PRIMARY KEY)")),
        _payload(RowChange("a.t", Op.INSERT, (("id", 1),), (("id", 1),))),
        _payload(RowChange("a.t", Op.DELETE, (("id", 1),), (("id", 1), ("v", b"")))),
        _payload(
            RowChange("a.t", Op.INSERT, (("k1", "x"), ("k2", 2)), (("k1", "x"), ("k2", 2))),
            RowChange("b.u", Op.UPDATE, (("id", 2**64 - 1),), (("id", 2**64 - 1),)),
            RowChange("a.t", Op.DELETE, (("k1", "x"), ("k2", 2)), None),
        ),
        EntryPayload("", -1, "", "", ()),
        EntryPayload("t" * 300, 2**63 - 1, "site-😀", "r" * 200, ()),
        EntryPayload("t", -(2**63), "s", "r", ()),
    ],
    ids=[
        "empty",
        "ddl",
        "ddl-no-db",
        "ddl-unicode",
        "insert",
        "delete-with-image",
        "multi-table",
        "empty-strings",
        "long-names",
        "min-time",
    ],
)
def test_entry_shapes_round_trip(payload: EntryPayload, same_entry: Same) -> None:
    for compress in (True, False):
        assert same_entry(payload, decode(encode(payload, compress=compress)))


def test_many_columns_use_multi_byte_name_refs(same_entry: Same) -> None:
    # More than 127 distinct names needs two-byte refs: the slow path of the decoder.
    row = tuple((f"c{i}", i) for i in range(300))
    payload = _payload(RowChange("db.wide", Op.INSERT, (("c0", 0),), row))
    assert same_entry(payload, decode(encode(payload)))


@pytest.mark.parametrize("commit_time_us", [2**63, -(2**63) - 1])
def test_commit_time_outside_int64_is_refused(commit_time_us: int) -> None:
    with pytest.raises(ValueError, match="does not fit in 64 bits"):
        EntryPayload("t", commit_time_us, "s", "r", ())


def test_encoding_is_deterministic_and_decode_encode_is_identity() -> None:
    data = encode(SMALL)
    assert encode(SMALL) == data
    assert encode(decode(data)) == data


def test_decode_accepts_bytearray_and_memoryview() -> None:
    data = encode(SMALL)
    assert decode(bytearray(data)) == SMALL
    assert decode(memoryview(data)) == SMALL


def test_decoded_rows_share_column_name_objects() -> None:
    rows = tuple(
        RowChange("db.t", Op.INSERT, (("id", i),), (("id", i), ("v", "x"))) for i in range(3)
    )
    decoded = decode(encode(_payload(*rows)))
    assert decoded.changes[0].row is not None and decoded.changes[2].row is not None
    assert decoded.changes[0].row[1][0] is decoded.changes[2].row[1][0]


# --- values inside entries ----------------------------------------------------------


def test_unsupported_value_names_type_table_and_column() -> None:
    bad = _payload(RowChange("db.t", Op.INSERT, (("id", 1),), (("id", 1), ("tags", [1]))))
    with pytest.raises(UnsupportedValueTypeError, match=r"table db\.t, row column 'tags'.*list"):
        encode(bad)


def test_bad_key_value_names_the_key_column() -> None:
    bad = _payload(RowChange("db.t", Op.DELETE, (("k", bytearray(b"x")),), None))
    with pytest.raises(TypeError, match=r"table db\.t, pk column 'k'.*bytearray"):
        encode(bad)


def test_lone_surrogate_in_a_row_is_refused_with_its_column() -> None:
    bad = _payload(RowChange("db.t", Op.INSERT, (("id", 1),), (("id", 1), ("s", "a\ud800"))))
    with pytest.raises(LogEncodeError, match=r"column 's'.*lone surrogate U\+D800"):
        encode(bad)


@pytest.mark.parametrize(
    "payload",
    [
        EntryPayload("tx\udc00", 1, "s", "r", ()),
        EntryPayload("t", 1, "s", "r", (), DdlStatement(None, "DROP TABLE \ud800")),
        _payload(RowChange("db.\ud800", Op.DELETE, (("id", 1),), None)),
        _payload(RowChange("db.t", Op.DELETE, (("\ud800", 1),), None)),
    ],
    ids=["txid", "ddl", "table", "column"],
)
def test_lone_surrogate_in_names_is_refused(payload: EntryPayload) -> None:
    with pytest.raises(LogEncodeError, match="lone surrogate"):
        encode(payload)


def test_encode_refuses_what_is_not_a_payload() -> None:
    with pytest.raises(TypeError, match="EntryPayload"):
        encode(SMALL.changes[0])  # type: ignore[arg-type]


# --- property-style: random payloads -------------------------------------------------

_WORDS = ["", "a", "IN_PROGRESS", "é", "€uro", "😀", "x\x00y", "中文", "COMPLETE"]


def _random_value(rng: random.Random) -> Any:
    kind = rng.randrange(15)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-(2**63), 2**63 - 1)
    if kind == 3:
        return rng.choice([0, 1, -1, 2**64 - 1, 2**63, -(2**63) - 1, rng.getrandbits(200)])
    if kind == 4:
        return struct.unpack("<d", rng.randbytes(8))[0]  # any bit pattern, NaNs included
    if kind == 5:
        return rng.choice([0.0, -0.0, math.inf, -math.inf, math.nan, 1e-310])
    if kind == 6:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 65)))
        cut = rng.randint(0, len(digits))
        text = digits[:cut] + "." + digits[cut:] if 0 < cut < len(digits) else digits
        return Decimal(rng.choice(["", "-"]) + text + rng.choice(["", "E+5", "E-7"]))
    if kind == 7:
        return "".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 6)))
    if kind == 8:
        return "".join(
            chr(rng.choice([rng.randint(32, 0xD7FF), rng.randint(0xE000, 0x10FFFF)]))
            for _ in range(rng.randint(0, 20))
        )
    if kind == 9:
        return rng.randbytes(rng.choice([0, 1, 2, 50, 3000]))
    if kind == 10:
        return dt.datetime(
            rng.randint(1, 9999),
            rng.randint(1, 12),
            rng.randint(1, 28),
            rng.randint(0, 23),
            rng.randint(0, 59),
            rng.randint(0, 59),
            rng.randint(0, 999_999),
            fold=rng.randint(0, 1),
        )
    if kind == 11:
        return dt.date(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28))
    if kind == 12:
        return dt.timedelta(microseconds=rng.randint(-(10**15), 10**15))
    if kind == 13:
        return dt.time(
            rng.randint(0, 23),
            rng.randint(0, 59),
            rng.randint(0, 59),
            rng.randint(0, 999_999),
            fold=rng.randint(0, 1),
        )
    members = {rng.choice(_WORDS) for _ in range(rng.randint(0, 4))}
    return members if rng.random() < 0.5 else frozenset(members)


def _random_payload(rng: random.Random) -> EntryPayload:
    if rng.random() < 0.1:
        ddl = DdlStatement(rng.choice([None, "db"]), "ALTER TABLE t ADD c" + str(rng.random()))
        return EntryPayload(str(rng.random()), rng.randint(0, 2**62), "dc1", "db", (), ddl)
    changes = []
    for _ in range(rng.randint(0, 12)):
        table = rng.choice(["db.a", "db.b", "other.c😀"])
        columns = [f"c{i}" for i in range(rng.randint(1, 10))]
        pk = tuple((c, _random_value(rng)) for c in columns[: rng.randint(1, 2)])
        op = rng.choice(list(Op))
        row = tuple((c, _random_value(rng)) for c in columns)
        if op is Op.DELETE and rng.random() < 0.5:
            changes.append(RowChange(table, op, pk, None))
        else:
            changes.append(RowChange(table, op, pk, row))
    return EntryPayload(
        f"tx-{rng.getrandbits(64):x}", rng.randint(-(2**63), 2**63 - 1), "dc2", "db", tuple(changes)
    )


def test_random_payloads_round_trip_exactly(same_entry: Same) -> None:
    rng = random.Random(20240229)
    compressed = 0
    for _ in range(400):
        payload = _random_payload(rng)
        data = encode(payload)
        compressed += data[5] & FLAG_ZLIB
        decoded = decode(data)
        assert same_entry(payload, decoded), payload
        assert encode(decoded) == data
    assert compressed > 0  # both framing paths were exercised


def test_random_single_byte_damage_never_passes_silently() -> None:
    rng = random.Random(7)
    for _ in range(50):
        data = bytearray(encode(_random_payload(rng)))
        where = rng.randrange(len(data))
        data[where] ^= rng.randint(1, 255)
        with pytest.raises(LogFormatError):
            decode(bytes(data))


# --- compression ---------------------------------------------------------------------


def _rows(n: int) -> EntryPayload:
    return _payload(
        *(
            RowChange(
                "requestdb.infra_active_requests",
                Op.INSERT,
                (("id", i),),
                (("id", i), ("status", "IN_PROGRESS"), ("blob", b"\x00" * 64)),
            )
            for i in range(n)
        )
    )


def test_small_body_is_not_compressed() -> None:
    data = encode(SMALL)
    assert len(data) < COMPRESS_THRESHOLD
    assert data[5] == 0


def test_large_repetitive_body_is_compressed(same_entry: Same) -> None:
    payload = _rows(200)
    packed, plain = encode(payload), encode(payload, compress=False)
    assert packed[5] == FLAG_ZLIB and plain[5] == 0
    assert len(packed) < len(plain) // 4
    assert same_entry(payload, decode(packed))
    assert same_entry(payload, decode(plain))


@pytest.mark.parametrize("size", [4 * 1024, 200 * 1024, 2 * 1024 * 1024], ids=str)
def test_incompressible_body_is_stored_plain(size: int, same_entry: Same) -> None:
    payload = _payload(RowChange("db.t", Op.INSERT, (("id", 1),), (("b", os.urandom(size)),)))
    data = encode(payload)
    assert data[5] == 0
    assert same_entry(payload, decode(data))


def test_large_body_with_compressible_part_is_compressed() -> None:
    blob = os.urandom(512 * 1024) + b"\x00" * (1536 * 1024)
    payload = _payload(RowChange("db.t", Op.INSERT, (("id", 1),), (("b", blob),)))
    data = encode(payload)
    assert data[5] == FLAG_ZLIB
    assert len(data) < len(blob) // 2
    assert decode(data) == payload


def _text(n: int) -> EntryPayload:
    return _payload(RowChange("db.t", Op.INSERT, (("id", 1),), (("s", "a" * n),)))


def _body_len(payload: EntryPayload) -> int:
    return len(encode(payload, compress=False)) - HEADER.size - 4


def test_compression_starts_just_above_the_threshold() -> None:
    # Lengths above 127 keep the string's length prefix at two bytes on both sides.
    n = COMPRESS_THRESHOLD - (_body_len(_text(200)) - 200)
    assert _body_len(_text(n)) == COMPRESS_THRESHOLD
    assert encode(_text(n))[5] == 0
    assert _body_len(_text(n + 1)) == COMPRESS_THRESHOLD + 1
    assert encode(_text(n + 1))[5] == FLAG_ZLIB


# --- 16 MiB --------------------------------------------------------------------------


def test_16_mib_blob_round_trips_with_few_copies() -> None:
    blob = os.urandom(16 * 1024 * 1024 - 1) + b"\x00"
    payload = _payload(RowChange("db.t", Op.UPDATE, (("id", 1),), (("id", 1), ("b", blob))))
    data = encode(payload)
    tracemalloc.start()
    try:
        decoded = decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded.changes[0].row is not None
    value = decoded.changes[0].row[1][1]
    assert type(value) is bytes and value == blob
    # One copy of the value is unavoidable; quadratic or repeated copying is not.
    assert peak < 1.5 * len(blob)


def test_16_mib_compressible_blob_round_trips() -> None:
    blob = bytes(range(256)) * (16 * 1024 * 1024 // 256)
    payload = _payload(RowChange("db.t", Op.INSERT, (("id", 1),), (("b", blob),)))
    data = encode(payload)
    assert data[5] == FLAG_ZLIB and len(data) < len(blob) // 10
    assert decode(data) == payload


# --- damaged input -------------------------------------------------------------------


def test_log_format_error_is_a_data_error() -> None:
    assert issubclass(LogFormatError, MdbcError)
    assert issubclass(LogFormatError, DataError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated log entry: 0 bytes"),
        (b"MDB", "truncated log entry: 3 bytes"),
        (b"MDBL", "shorter than header"),
        (b"MDBL\x01", "shorter than header"),
        (b"XXXX\x01" + bytes(20), r"not a log entry: magic is b'XXXX'"),
        (b"\x00" * 40, "not a log entry"),
        (b"PK\x03\x04" + bytes(20), "not a log entry"),
    ],
    ids=["empty", "3-bytes", "magic-only", "magic-version", "wrong-magic", "zeros", "zip"],
)
def test_short_or_foreign_data_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        decode(data)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unknown_version_is_refused_before_anything_else(version: int) -> None:
    data = bytearray(encode(SMALL))
    data[4] = version
    with pytest.raises(LogFormatError, match=f"unknown log format version {version}"):
        decode(bytes(data))
    with pytest.raises(LogFormatError, match=f"unknown log format version {version}"):
        decode(MAGIC + bytes([version]))


@pytest.mark.parametrize("flags", [0x02, 0x80, 0xFF])
def test_unknown_flags_are_refused(flags: int) -> None:
    with pytest.raises(LogFormatError, match="unknown log entry flags"):
        decode(_frame(_body(encode(SMALL)), flags=flags))


def test_every_truncation_is_refused() -> None:
    data = encode(SMALL)
    for length in range(len(data)):
        with pytest.raises(LogFormatError, match=r"truncated|shorter"):
            decode(data[:length])


def test_truncated_compressed_entry_is_refused() -> None:
    data = encode(_rows(100))
    assert data[5] == FLAG_ZLIB
    for length in (len(data) - 1, len(data) - 5, len(data) // 2, 20):
        with pytest.raises(LogFormatError, match="truncated"):
            decode(data[:length])


def test_trailing_bytes_are_refused() -> None:
    with pytest.raises(LogFormatError, match="1 trailing bytes"):
        decode(encode(SMALL) + b"\x00")


@pytest.mark.parametrize("payload", [SMALL, _rows(50)], ids=["plain", "compressed"])
def test_every_single_bit_flip_is_detected(payload: EntryPayload) -> None:
    data = encode(payload)
    for index in range(len(data)):
        for bit in range(8):
            damaged = bytearray(data)
            damaged[index] ^= 1 << bit
            with pytest.raises(LogFormatError):
                decode(bytes(damaged))


def test_checksum_mismatch_is_reported_as_such() -> None:
    data = bytearray(encode(SMALL))
    data[20] ^= 0x10
    with pytest.raises(LogFormatError, match="checksum mismatch"):
        decode(bytes(data))


# Damage behind a valid CRC: what a buggy writer (not a bad disk) could produce.


def test_compressed_flag_on_garbage_is_refused() -> None:
    with pytest.raises(LogFormatError, match="does not decompress"):
        decode(_frame(b"not zlib at all", flags=FLAG_ZLIB, raw=100))


@pytest.mark.parametrize("delta", [-1, 1, 1000])
def test_compressed_body_of_the_wrong_declared_size_is_refused(delta: int) -> None:
    body = _body(encode(SMALL))
    packed = zlib.compress(body, 1)
    with pytest.raises(LogFormatError, match="different size"):
        decode(_frame(packed, flags=FLAG_ZLIB, raw=len(body) + delta))


def test_compressed_body_with_junk_after_the_stream_is_refused() -> None:
    body = _body(encode(SMALL))
    with pytest.raises(LogFormatError, match="after the end of its zlib stream"):
        decode(_frame(zlib.compress(body) + b"junk", flags=FLAG_ZLIB, raw=len(body)))


def test_compressed_body_decodes_when_framed_correctly() -> None:
    # Positive control for the tests above: the helper itself makes valid entries.
    body = _body(encode(SMALL))
    assert decode(_frame(zlib.compress(body), flags=FLAG_ZLIB, raw=len(body))) == SMALL
    assert decode(_frame(body)) == SMALL


def test_plain_body_with_wrong_raw_length_is_refused() -> None:
    body = _body(encode(SMALL))
    with pytest.raises(LogFormatError, match="raw length"):
        decode(_frame(body, raw=len(body) + 1))


def _tx_head() -> bytes:
    # txid "t", commit time 0, origin "s", range "r"
    return b"\x01t" + bytes(8) + b"\x01s" + b"\x01r"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_tx_head() + b"\x00\x00\x00" + b"x", "1 unexpected trailing bytes"),
        (_tx_head() + b"\x00\x02\x00", "bad DDL flag 2"),
        (_tx_head() + b"\x00\x00\x05", "change count 5 exceeds"),
        (_tx_head() + b"\x09", "name table claims 9 names"),
        (_tx_head() + b"\x01\x01t\x00\x01\x01\x01", "change #0: table ref 1 outside name table"),
        (_tx_head() + b"\x01\x01t\x00\x01\x00\x07\x00\x00", "unknown op code 7"),
        (
            _tx_head() + b"\x01\x01t\x00\x01\x00\x03\x01\x00\x03" + bytes(8) + b"\x02",
            "bad presence flag 2",
        ),
        (_tx_head() + b"\x01\x01t\x00\x01\x00\x03\x00\x00", "empty primary key"),
        (_tx_head() + b"\x01\x01t\x00\x01\x00\x01\x01\x00\x00\x00", "INSERT without a row"),
        (_tx_head() + b"\x01\x01t\x00\x01\x00\x03\x01\x05\x00\x00", "column name ref 5"),
        (_tx_head() + b"\x01\x01t\x00\x01\x00\x03\x01\x00\xee\x00", "unknown value tag 0xEE"),
        (_tx_head() + b"\x01\x01t\x00\x01\x00\x03\x09\x00\x00", "pair count 9 exceeds"),
        (_tx_head() + b"\x01\x01t\x00\x01\x00\x03\x01\x00", "pair count 1 exceeds"),
        # Second key pair cut after its name ref: the decoder's slow path must notice.
        (
            _tx_head() + b"\x01\x01t\x00\x01\x00\x03\x02" + b"\x00\x07\x01a" + b"\x00",
            "truncated: need 1 byte, 0 left",
        ),
        (_tx_head() + b"\x01\x01t\x01\x00\x00\x00", "DdlStatement.sql"),
        (b"\x01\xff" + bytes(8), "invalid UTF-8"),
    ],
)
def test_malformed_body_behind_a_valid_crc_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        decode(_frame(body))


def test_well_formed_hand_made_body_decodes() -> None:
    # Positive control: the hand-made prefix above is a valid version 1 body.
    body = _tx_head() + b"\x01\x01t\x00\x01\x00\x03\x01\x00\x00\x00"
    assert decode(_frame(body)) == EntryPayload(
        "t", 0, "s", "r", (RowChange("t", Op.DELETE, (("t", None),), None),)
    )
