"""The log entry format: encode, decode and chunk one committed transaction.

``encode`` turns an ``EntryPayload`` into versioned, checksummed bytes that
bring every column value back as the same Python type with the same value;
``decode`` checks and reverses it. ``split``/``join`` cut large entries into
store-sized chunks, and ``check_size`` enforces the entry size limit before
anything is written. Two limits apply (see ``mdbc_py.log.chunks``): the
uncompressed body, checked by ``encode`` before compressing, and the stored
bytes, checked by ``encode`` and by ``check_size``.
"""

from __future__ import annotations

from mdbc_py.log.chunks import MAX_BODY_BYTES, MAX_ENTRY_BYTES, check_size, join, split
from mdbc_py.log.envelope import (
    COMPRESS_THRESHOLD,
    FLAG_ZLIB,
    FORMAT_VERSION,
    MAGIC,
    decode,
    encode,
)
from mdbc_py.log.errors import LogEncodeError, LogFormatError, UnsupportedValueTypeError
from mdbc_py.log.model import Column, DdlStatement, EntryPayload, Op, RowChange, Value
from mdbc_py.log.values import decode_value, encode_value

__all__ = [
    "COMPRESS_THRESHOLD",
    "FLAG_ZLIB",
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_BODY_BYTES",
    "MAX_ENTRY_BYTES",
    "Column",
    "DdlStatement",
    "EntryPayload",
    "LogEncodeError",
    "LogFormatError",
    "Op",
    "RowChange",
    "UnsupportedValueTypeError",
    "Value",
    "check_size",
    "decode",
    "decode_value",
    "encode",
    "encode_value",
    "join",
    "split",
]
