"""Byte-level primitives shared by the value and body codecs.

Two things only: unsigned LEB128 varints for lengths and counts (most are
tiny, so one byte instead of four), and a bounds-checked ``Reader`` over a
``memoryview``. Every read goes through the reader so that truncated or
hostile input surfaces as ``LogFormatError`` with an offset, never as an
``IndexError`` or a silently short slice; slicing a ``memoryview`` also means
a 16 MiB value is copied once, when it becomes its final ``bytes`` object.
"""

from __future__ import annotations

import struct
from typing import Any

from mdbc_py.log.errors import LogFormatError

__all__ = ["MAX_VARINT_BYTES", "Reader", "varint"]

MAX_VARINT_BYTES = 10
"""A varint longer than this (more than 64 bits) is corrupt, not a big length."""

_ONE_BYTE = tuple(bytes((i,)) for i in range(0x80))


def varint(n: int) -> bytes:
    """Return the unsigned LEB128 encoding of ``n`` (``0 <= n < 2**64``)."""
    if 0 <= n < 0x80:
        return _ONE_BYTE[n]
    if n < 0 or n >= 1 << 64:
        raise ValueError(f"varint out of range: {n}")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class Reader:
    """A cursor over a ``memoryview`` whose every read is bounds-checked.

    ``what`` names the region being read ("body", "value") so that error
    messages say where the damage is.
    """

    __slots__ = ("buf", "end", "pos", "what")

    def __init__(self, buf: memoryview, what: str = "body") -> None:
        self.buf = buf
        self.pos = 0
        self.end = len(buf)
        self.what = what

    def fail(self, message: str, at: int | None = None) -> LogFormatError:
        """Build (not raise) a ``LogFormatError`` located at ``at`` or the cursor."""
        where = self.pos if at is None else at
        return LogFormatError(
            f"malformed {self.what} at offset {where}: {message}", kind="malformed", offset=where
        )

    def take(self, n: int) -> memoryview:
        """Return the next ``n`` bytes as a view (no copy) and advance."""
        p = self.pos
        q = p + n
        if q > self.end:
            raise self.fail(f"truncated: need {n} bytes, {self.end - p} left")
        self.pos = q
        return self.buf[p:q]

    def u8(self) -> int:
        """Read one unsigned byte."""
        p = self.pos
        if p >= self.end:
            raise self.fail("truncated: need 1 byte, 0 left")
        self.pos = p + 1
        return self.buf[p]

    def unpack(self, st: struct.Struct) -> tuple[Any, ...]:
        """Read a fixed-size ``struct`` record."""
        p = self.pos
        q = p + st.size
        if q > self.end:
            raise self.fail(f"truncated: need {st.size} bytes, {self.end - p} left")
        self.pos = q
        return st.unpack_from(self.buf, p)

    def varint(self) -> int:
        """Read an unsigned LEB128 varint of at most ``MAX_VARINT_BYTES`` bytes."""
        start = self.pos
        b = self.u8()
        if b < 0x80:
            return b
        result = b & 0x7F
        shift = 7
        while True:
            if self.pos - start >= MAX_VARINT_BYTES:
                raise self.fail("varint longer than 10 bytes", start)
            b = self.u8()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7

    def text(self) -> str:
        """Read a varint length and that many bytes of strict UTF-8."""
        start = self.pos
        n = self.varint()
        raw = self.take(n)
        try:
            return str(raw, "utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(f"invalid UTF-8 in string: {exc.reason}", start) from None

    def expect_end(self) -> None:
        """Fail if bytes remain: trailing garbage means the writer and reader disagree."""
        if self.pos != self.end:
            raise self.fail(f"{self.end - self.pos} unexpected trailing bytes")
