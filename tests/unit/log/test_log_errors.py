"""The one error class for damaged entries, and the facts it carries.

Replay and ``mdbc log`` catch ``LogFormatError`` to stop at a damaged entry
and report it; these tests pin what such a report can rely on: a stable
``kind``, the range and sequence number when the caller gave them, the
byte offset, and that a message never copies row data out of the entry.
"""

from __future__ import annotations

import pickle
import struct
import zlib

import pytest

from mdbc_py.errors import DataError, MdbcError
from mdbc_py.log import (
    FORMAT_VERSION,
    MAGIC,
    EntryPayload,
    LogFormatError,
    Op,
    RowChange,
    decode,
    encode,
)

_HEADER = struct.Struct(">4sBBII")

ENTRY = EntryPayload(
    "tx-9",
    1_700_000_000_000_000,
    "dc1",
    "requestdb",
    (
        RowChange(
            "requestdb.t",
            Op.INSERT,
            (("id", 1),),
            (("id", 1), ("secret_note", "card 4111-1111-1111-1111")),
        ),
    ),
)

# Bytes of ENTRY written by format version 1 (compress=False). Entries already in
# a store must stay readable: if this fails, the format changed without a new version.
GOLDEN_V1 = bytes.fromhex(
    "4d44424c01000000006d0000006d0474782d3900401e18240a06000364633109"
    "726571756573746462030b7265717565737464622e740269640b736563726574"
    "5f6e6f7465000100010101030100000000000000010201030100000000000000"
    "0207186361726420343131312d313131312d313131312d31313131f5945dc3"
)


def _frame(body: bytes) -> bytes:
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(body), len(body))
    return head + body + struct.pack(">I", zlib.crc32(head + body))


def test_it_is_a_dbapi_data_error_of_mdbc() -> None:
    assert issubclass(LogFormatError, DataError)
    assert issubclass(LogFormatError, MdbcError)


def test_a_located_error_names_range_and_sequence_number() -> None:
    data = bytearray(encode(ENTRY))
    data[20] ^= 0x01
    with pytest.raises(LogFormatError) as info:
        decode(bytes(data), range_name="requestdb", seq=42)
    exc = info.value
    assert (exc.kind, exc.range_name, exc.seq, exc.size) == ("checksum", "requestdb", 42, len(data))
    assert str(exc).startswith("log entry 42 of range 'requestdb' cannot be read: ")
    assert "checksum mismatch" in exc.reason


def test_without_location_the_message_is_the_reason() -> None:
    with pytest.raises(LogFormatError) as info:
        decode(encode(ENTRY)[:-1])
    assert info.value.kind == "truncated"
    assert (info.value.range_name, info.value.seq) == (None, None)
    assert str(info.value) == info.value.reason


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "truncated"),
        (b"NOPE" + bytes(20), "foreign"),
        (MAGIC + b"\x09" + bytes(20), "version"),
        (MAGIC + b"\x01\x40" + bytes(12), "flags"),
        (_frame(b"\x01t" + bytes(8) + b"\x01s\x01r\x00\x00\x00") + b"x", "trailing"),
        (_frame(b"\x01t" + bytes(8) + b"\x01s\x01r\x00\x00\x09"), "malformed"),
    ],
)
def test_each_kind_of_damage_has_its_kind(data: bytes, kind: str) -> None:
    with pytest.raises(LogFormatError) as info:
        decode(data, seq=1)
    assert info.value.kind == kind
    assert info.value.seq == 1


def test_malformed_body_reports_the_offset() -> None:
    body = b"\x01t" + bytes(8) + b"\x01s\x01r\x00\x00\x09"
    with pytest.raises(LogFormatError) as info:
        decode(_frame(body))
    assert info.value.offset == len(body)
    assert f"at offset {len(body)}" in str(info.value)


def test_the_message_never_copies_row_values() -> None:
    # Damage inside a row value behind a valid CRC: the reason says where, not what.
    good = encode(ENTRY, compress=False)
    body = bytearray(good[14:-4])
    at = body.index(b"card")
    body[at - 1] = 0xFF  # the value's length varint now claims far more bytes
    with pytest.raises(LogFormatError) as info:
        decode(_frame(bytes(body)))
    assert "4111" not in str(info.value)


def test_datetime_with_an_out_of_range_microsecond_is_a_format_error() -> None:
    # A u32 microsecond past C int range made datetime() raise OverflowError.
    value = b"\x09" + struct.pack("<HBBBBBI", 2024, 1, 2, 3, 4, 5, 0xFFFFFFFF)
    body = b"\x01t" + bytes(8) + b"\x01s\x01r" + b"\x01\x01t\x00" + b"\x01\x00\x03\x01\x00" + value
    with pytest.raises(LogFormatError, match="invalid datetime"):
        decode(_frame(body + b"\x00"))


def test_time_with_an_out_of_range_microsecond_is_a_format_error() -> None:
    value = b"\x0c" + struct.pack("<BBBI", 1, 2, 3, 0xFFFFFFFF)
    body = b"\x01t" + bytes(8) + b"\x01s\x01r" + b"\x01\x01t\x00" + b"\x01\x00\x03\x01\x00" + value
    with pytest.raises(LogFormatError, match="invalid time"):
        decode(_frame(body + b"\x00"))


def test_the_error_pickles_with_its_facts() -> None:
    exc = LogFormatError("bad", kind="checksum", offset=3, size=9, range_name="r", seq=5)
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is LogFormatError
    assert (back.kind, back.offset, back.size, back.range_name, back.seq) == (
        "checksum",
        3,
        9,
        "r",
        5,
    )
    assert str(back) == str(exc)


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown LogFormatError kind"):
        LogFormatError("x", kind="weird")


def test_a_version_1_entry_written_earlier_still_decodes() -> None:
    assert decode(GOLDEN_V1) == ENTRY
