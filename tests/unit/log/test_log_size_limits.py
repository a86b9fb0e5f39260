"""The two entry size limits: the uncompressed body and the stored bytes, both enforced by encode.

70 MiB of one repeated byte compresses to a few KiB, yet MariaDB and every
replica must handle all 70 MiB: it is refused on its uncompressed size,
before any time is spent compressing it.
"""

from __future__ import annotations

import os

import pytest

from mdbc_py.errors import DataError, EntryTooLargeError, MdbcError
from mdbc_py.log import (
    MAX_BODY_BYTES,
    MAX_ENTRY_BYTES,
    EntryPayload,
    Op,
    RowChange,
    check_size,
    decode,
    encode,
)
from mdbc_py.log.envelope import HEADER_SIZE, TRAILER_SIZE

MIB = 1024 * 1024


def _payload(blob: bytes) -> EntryPayload:
    change = RowChange("db.t", Op.INSERT, (("id", 1),), (("id", 1), ("v", blob)))
    return EntryPayload("tx-big", 1_700_000_000_000_000, "dc1", "db", (change,))


def _body_size(payload: EntryPayload) -> int:
    return len(encode(payload, compress=False)) - HEADER_SIZE - TRAILER_SIZE


def test_both_limits_are_64_mib() -> None:
    assert MAX_BODY_BYTES == MAX_ENTRY_BYTES == 64 * MIB


def test_70_mib_of_one_repeated_byte_is_refused_on_its_uncompressed_size() -> None:
    payload = _payload(b"\x07" * (70 * MIB))
    with pytest.raises(EntryTooLargeError) as info:
        encode(payload)
    err = info.value
    assert isinstance(err, DataError) and isinstance(err, MdbcError)
    assert err.which == "uncompressed"
    assert err.limit == MAX_BODY_BYTES
    assert err.size is not None and err.size > 70 * MIB
    message = str(err)
    assert "uncompressed" in message
    assert f"{err.size - MAX_BODY_BYTES} bytes (6.0 MiB) over the limit of {MAX_BODY_BYTES}" in (
        message
    )
    assert "nothing was written" in message and "nothing was committed" in message


def test_a_compressible_body_under_the_limit_is_stored_compressed() -> None:
    payload = _payload(b"\x07" * (8 * MIB))
    data = encode(payload)
    assert len(data) < MIB
    check_size(data)
    assert decode(data) == payload


def test_the_uncompressed_limit_is_exact() -> None:
    payload = _payload(b"x" * 5000)
    body = _body_size(payload)
    encode(payload, max_body=body)
    with pytest.raises(EntryTooLargeError) as info:
        encode(payload, max_body=body - 1)
    assert (info.value.which, info.value.size, info.value.limit) == ("uncompressed", body, body - 1)
    assert "1 bytes (0.0 MiB) over the limit" in str(info.value)


def test_the_stored_limit_applies_to_the_framed_bytes_after_compression() -> None:
    noise = _payload(os.urandom(5000))  # does not compress: stored = body + frame
    stored = len(encode(noise))
    encode(noise, max_stored=stored)
    with pytest.raises(EntryTooLargeError) as info:
        encode(noise, max_stored=stored - 1)
    assert (info.value.which, info.value.size, info.value.limit) == ("stored", stored, stored - 1)
    assert "stored" in str(info.value)

    repeated = _payload(b"y" * 5000)  # compresses: passes a stored limit below its body size
    assert len(encode(repeated, max_stored=200)) <= 200


def test_check_size_says_which_limit_and_by_how_much() -> None:
    with pytest.raises(EntryTooLargeError) as info:
        check_size(bytes(3 * MIB), limit=2 * MIB)
    err = info.value
    assert (err.which, err.size, err.limit) == ("stored", 3 * MIB, 2 * MIB)
    assert f"{MIB} bytes (1.0 MiB) over the limit of {2 * MIB} bytes" in str(err)
    assert "nothing was written" in str(err)


def test_an_error_without_facts_still_works() -> None:
    err = EntryTooLargeError("too large")
    assert (err.size, err.limit, err.which, str(err)) == (None, None, None, "too large")
