"""Chunking of encoded entries and the entry size limit."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mdbc_py.errors import DataError, EntryTooLargeError, MdbcError
from mdbc_py.log import (
    MAX_ENTRY_BYTES,
    EntryPayload,
    LogFormatError,
    Op,
    RowChange,
    check_size,
    decode,
    encode,
    join,
    split,
)

BOUNDARY_CASES = [
    (size, multiple * size + offset)
    for size in (1, 4, 7)
    for multiple in (0, 1, 2, 3)
    for offset in (-1, 0, 1)
    if multiple * size + offset >= 0
]


@pytest.mark.parametrize(("chunk_size", "length"), BOUNDARY_CASES)
def test_split_around_chunk_boundaries(chunk_size: int, length: int) -> None:
    data = bytes((i * 7 + 3) % 256 for i in range(length))
    chunks = split(data, chunk_size)
    assert len(chunks) == max(1, math.ceil(length / chunk_size))
    assert all(type(c) is bytes for c in chunks)
    assert all(len(c) == chunk_size for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= chunk_size or length == 0
    assert join(chunks) == data


def test_split_of_empty_data_is_one_empty_chunk() -> None:
    assert split(b"", 10) == [b""]
    assert join([b""]) == b""
    assert join([]) == b""


def test_split_keeps_order_and_content() -> None:
    assert split(b"abcdefg", 3) == [b"abc", b"def", b"g"]
    assert split(b"abcdef", 3) == [b"abc", b"def"]
    assert split(b"abc", 10) == [b"abc"]
    assert split(bytearray(b"abcd"), 2) == [b"ab", b"cd"]
    assert split(memoryview(b"abcd"), 3) == [b"abc", b"d"]


def test_join_accepts_any_buffers() -> None:
    assert join([b"ab", bytearray(b"cd"), memoryview(b"ef")]) == b"abcdef"


@pytest.mark.parametrize("chunk_size", [0, -1, 1.5, "4", None, True])
def test_split_refuses_a_bad_chunk_size(chunk_size: Any) -> None:
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        split(b"abc", chunk_size)


def _entry() -> bytes:
    rows = tuple(
        RowChange("db.t", Op.INSERT, (("id", i),), (("id", i), ("v", bytes([i]) * 40)))
        for i in range(60)
    )
    data = encode(EntryPayload("tx", 1, "dc1", "db", rows), compress=False)
    assert len(data) > 2000
    return data


def test_split_entry_joins_back_and_decodes() -> None:
    data = _entry()
    chunks = split(data, 256)
    assert len(chunks) > 5
    assert decode(join(chunks)) == decode(data)


def test_missing_chunk_is_detected_by_decode() -> None:
    chunks = split(_entry(), 256)
    for missing in (0, 3, len(chunks) - 1):
        with pytest.raises(LogFormatError):
            decode(join(chunks[:missing] + chunks[missing + 1 :]))


def test_reordered_or_duplicated_chunks_are_detected_by_decode() -> None:
    chunks = split(_entry(), 256)
    swapped = [chunks[0], chunks[2], chunks[1], *chunks[3:]]
    with pytest.raises(LogFormatError, match="checksum mismatch"):
        decode(join(swapped))
    with pytest.raises(LogFormatError, match="trailing bytes"):
        decode(join([*chunks, chunks[-1]]))


def test_max_entry_bytes_is_64_mib() -> None:
    assert MAX_ENTRY_BYTES == 64 * 1024 * 1024


def test_check_size_accepts_exactly_the_limit() -> None:
    check_size(bytes(MAX_ENTRY_BYTES))
    check_size(b"")


def test_check_size_refuses_one_byte_over_the_limit() -> None:
    too_big = bytes(MAX_ENTRY_BYTES + 1)
    with pytest.raises(EntryTooLargeError) as info:
        check_size(too_big)
    message = str(info.value)
    assert str(MAX_ENTRY_BYTES + 1) in message
    assert str(MAX_ENTRY_BYTES) in message
    assert isinstance(info.value, DataError) and isinstance(info.value, MdbcError)


@pytest.mark.parametrize(("size", "ok"), [(99, True), (100, True), (101, False)])
def test_check_size_with_a_custom_limit(size: int, ok: bool) -> None:
    if ok:
        check_size(bytearray(size), limit=100)
    else:
        with pytest.raises(EntryTooLargeError, match=f"{size} bytes .*limit of 100 bytes"):
            check_size(memoryview(bytes(size)), limit=100)
