"""The framed form of a log entry: what the store keeps for one transaction.

Layout (integers big-endian)::

    offset  size  field
    0       4     magic b"MDBL", so foreign bytes are recognised at once
    4       1     format version (1); a reader refuses versions it does not know
    5       1     flags: bit 0 = body is zlib-compressed; other bits must be 0
    6       4     stored body length (after compression)
    10      4     raw body length (before compression)
    14      n     body (see ``mdbc_py.log.body``)
    14+n    4     CRC-32 of bytes [0, 14+n): header and stored body

The CRC covers the header as well as the body so that a flipped flag or
length bit is caught too, not only damage inside the body. Every entry of
format version 1 carries it (the format has had it from its first release),
so there is no checksum-less variant to accept; a future version that
changes the checksum gets a new version byte and this reader keeps reading
version 1.

Why CRC-32 (zlib's, the IEEE polynomial) rather than CRC-32C: both detect
every burst up to 32 bits and every 1-3 bit error in entries of this size,
which is what a checksum is for here (bad disks, truncated chunks, a buggy
writer). zlib's runs in C at memory speed and is in the standard library;
CRC-32C would need a binary wheel (``crc32c``/``google-crc32c``) or pure
Python, which checks 64 MiB in seconds instead of milliseconds. Neither is
authentication: someone who can write to the store can forge a matching
CRC, which is why the store takes credentials and TLS (see
``mdbc_py.config``). Both lengths are
stored so that truncation is reported as such (not as a CRC mismatch) and so
that decompression can be bounded by the size the writer declared.

Compression uses stdlib zlib at level 1 (fast; row images are repetitive)
and only when the body is larger than ``COMPRESS_THRESHOLD`` and actually
shrinks, so small entries and already-compressed blobs cost nothing. For
bodies over ``PROBE_ABOVE`` a few slices spread over the body are compressed
first, and the whole body only if they shrink: deflating 16 MiB of JPEG or
random bytes just to throw the result away would cost half a second.
"""

from __future__ import annotations

import struct
import zlib

from mdbc_py.log.body import decode_body, encode_body
from mdbc_py.log.chunks import MAX_BODY_BYTES, MAX_ENTRY_BYTES, STORED, UNCOMPRESSED, too_large
from mdbc_py.log.errors import LogFormatError
from mdbc_py.log.model import EntryPayload

__all__ = [
    "COMPRESS_THRESHOLD",
    "FLAG_ZLIB",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "MAGIC",
    "TRAILER_SIZE",
    "decode",
    "encode",
]

MAGIC = b"MDBL"
FORMAT_VERSION = 1
FLAG_ZLIB = 0x01
_KNOWN_FLAGS = FLAG_ZLIB
COMPRESS_THRESHOLD = 1024
"""Bodies of at most this many bytes are never compressed: too little to gain."""
ZLIB_LEVEL = 1
PROBE_ABOVE = 256 * 1024
"""Bodies larger than this are sampled before being compressed as a whole."""
_PROBE_SLICES = 8
_PROBE_SLICE_BYTES = 8192
_PROBE_MIN_GAIN = 1 / 32

_HEADER = struct.Struct(">4sBBII")
_CRC = struct.Struct(">I")
HEADER_SIZE = _HEADER.size
TRAILER_SIZE = _CRC.size
_MAX_BODY = (1 << 32) - 1


def encode(
    payload: EntryPayload,
    *,
    compress: bool = True,
    max_body: int = MAX_BODY_BYTES,
    max_stored: int = MAX_ENTRY_BYTES,
) -> bytes:
    """Return the framed, checksummed (and maybe compressed) bytes of ``payload``.

    ``compress=False`` forces an uncompressed body, for debugging and tests.
    Raises ``UnsupportedValueTypeError`` / ``LogEncodeError`` for values that
    cannot be stored exactly, and ``EntryTooLargeError`` when the body is
    over ``max_body`` bytes before compression (checked first, so nothing is
    compressed in vain) or the result is over ``max_stored`` bytes (see
    ``mdbc_py.log.chunks`` for why both limits exist).
    """
    parts = encode_body(payload)
    raw_len = sum(len(p) for p in parts)
    if raw_len > min(max_body, _MAX_BODY):
        raise too_large(UNCOMPRESSED, raw_len, min(max_body, _MAX_BODY))
    flags = 0
    if compress and raw_len > COMPRESS_THRESHOLD and _looks_compressible(parts, raw_len):
        compressor = zlib.compressobj(ZLIB_LEVEL)
        packed = b"".join([*(compressor.compress(p) for p in parts), compressor.flush()])
        if len(packed) < raw_len:
            parts = [packed]
            flags |= FLAG_ZLIB
    stored_len = sum(len(p) for p in parts)
    framed_len = HEADER_SIZE + stored_len + TRAILER_SIZE
    if framed_len > max_stored:
        raise too_large(STORED, framed_len, max_stored)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, flags, stored_len, raw_len)
    crc = zlib.crc32(header)
    for part in parts:
        crc = zlib.crc32(part, crc)
    return b"".join([header, *parts, _CRC.pack(crc)])


def _looks_compressible(parts: list[bytes | bytearray], raw_len: int) -> bool:
    """Guess from a sample whether compressing a large body is worth trying.

    Slices are taken at evenly spaced offsets of the whole body, so a large
    blob with a compressible tail (or head) is still noticed. A wrong guess
    only costs size or time, never correctness.
    """
    if raw_len <= PROBE_ABOVE:
        return True
    step = raw_len // _PROBE_SLICES
    sample = bytearray()
    base = 0
    for part in parts:
        view = memoryview(part)
        for target in range(0, raw_len, step):
            if base <= target < base + len(view):
                sample += view[target - base : target - base + _PROBE_SLICE_BYTES]
        base += len(view)
    packed = zlib.compress(sample, ZLIB_LEVEL)
    return len(packed) < len(sample) * (1 - _PROBE_MIN_GAIN)


def decode(
    data: bytes | bytearray | memoryview,
    *,
    range_name: str | None = None,
    seq: int | None = None,
) -> EntryPayload:
    """Check and parse bytes produced by ``encode``.

    Raises ``LogFormatError`` (and nothing else, whatever the bytes) naming
    the problem: wrong magic, unknown version or flags, truncated or trailing
    data, checksum mismatch, bad compression or a malformed body. When the
    caller passes ``range_name`` and ``seq`` (replay, ``mdbc log``) the
    error carries them and its message names the entry. Large values are
    sliced out of a ``memoryview``, so each is copied once.
    """
    view = memoryview(data).cast("B")
    try:
        return _decode(view)
    except LogFormatError as exc:
        raise exc.located(range_name=range_name, seq=seq, size=len(view)) from None


def _decode(view: memoryview) -> EntryPayload:
    size = len(view)
    if size < len(MAGIC):
        raise LogFormatError(
            f"truncated log entry: {size} bytes, shorter than the magic",
            kind="truncated",
            offset=size,
        )
    if view[: len(MAGIC)] != MAGIC:
        raise LogFormatError(
            f"not a log entry: magic is {bytes(view[: len(MAGIC)])!r}, expected {MAGIC!r}",
            kind="foreign",
            offset=0,
        )
    if size > len(MAGIC) and view[len(MAGIC)] != FORMAT_VERSION:
        raise LogFormatError(
            f"unknown log format version {view[len(MAGIC)]}; this mdbc_py reads version "
            f"{FORMAT_VERSION} (was the entry written by a newer release?)",
            kind="version",
            offset=len(MAGIC),
        )
    if size < HEADER_SIZE + TRAILER_SIZE:
        raise LogFormatError(
            f"truncated log entry: {size} bytes, shorter than header and checksum "
            f"({HEADER_SIZE + TRAILER_SIZE})",
            kind="truncated",
            offset=size,
        )
    _, _, flags, stored_len, raw_len = _HEADER.unpack_from(view)
    if flags & ~_KNOWN_FLAGS:
        raise LogFormatError(
            f"unknown log entry flags 0x{flags:02X}", kind="flags", offset=len(MAGIC) + 1
        )
    expected = HEADER_SIZE + stored_len + TRAILER_SIZE
    if size < expected:
        raise LogFormatError(
            f"truncated log entry: header declares {expected} bytes, got {size} (a missing chunk?)",
            kind="truncated",
            offset=size,
        )
    if size > expected:
        raise LogFormatError(
            f"log entry has {size - expected} trailing bytes after its checksum "
            f"(header declares {expected} bytes)",
            kind="trailing",
            offset=expected,
        )
    end = HEADER_SIZE + stored_len
    (stored_crc,) = _CRC.unpack_from(view, end)
    actual_crc = zlib.crc32(view[:end])
    if actual_crc != stored_crc:
        raise LogFormatError(
            f"log entry checksum mismatch: stored CRC-32 0x{stored_crc:08X}, "
            f"computed 0x{actual_crc:08X} (data corrupted)",
            kind="checksum",
            offset=end,
        )
    body = view[HEADER_SIZE:end]
    if flags & FLAG_ZLIB:
        body = memoryview(_inflate(body, raw_len))
    elif raw_len != stored_len:
        raise LogFormatError(
            f"uncompressed log entry declares raw length {raw_len} != stored length {stored_len}",
            kind="malformed",
            offset=10,
        )
    return decode_body(body)


def _inflate(body: memoryview, raw_len: int) -> bytes:
    """Decompress at most ``raw_len`` bytes, refusing anything but an exact fit."""
    inflater = zlib.decompressobj()
    try:
        # One byte of headroom so an over-long stream is seen, not cut silently.
        out = inflater.decompress(body, raw_len + 1)
    except zlib.error as exc:
        raise LogFormatError(
            f"log entry body does not decompress: {exc}", kind="compression", offset=HEADER_SIZE
        ) from None
    if len(out) != raw_len or not inflater.eof or inflater.unconsumed_tail:
        raise LogFormatError(
            f"log entry body decompresses to a different size than the declared {raw_len} bytes",
            kind="compression",
            offset=HEADER_SIZE,
        )
    if inflater.unused_data:
        raise LogFormatError(
            "log entry body has bytes after the end of its zlib stream",
            kind="compression",
            offset=HEADER_SIZE,
        )
    return out
