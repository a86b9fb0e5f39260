"""Cutting an encoded entry into store-sized pieces, and the entry size limit.

Cassandra handles large cells badly (a single huge mutation strains the
commit log and the coordinator), so the store writes a large entry as
several chunk rows. Chunks carry no checksum of their own: the envelope's
CRC covers the whole entry, so a missing, duplicated or reordered chunk is
caught when ``decode`` checks the joined bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from mdbc_py.errors import EntryTooLargeError

__all__ = ["MAX_ENTRY_BYTES", "check_size", "join", "split"]

MAX_ENTRY_BYTES = 64 * 1024 * 1024
"""Largest encoded entry the store accepts: bigger ones are refused up front."""


def split(data: bytes | bytearray | memoryview, chunk_size: int) -> list[bytes]:
    """Cut ``data`` into consecutive chunks of ``chunk_size`` bytes (the last may be shorter).

    Always returns at least one chunk (``[b""]`` for empty data) so a stored
    entry always has a first chunk to find, and ``join(split(d, n)) == d``.
    """
    if type(chunk_size) is not int or chunk_size <= 0:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    view = memoryview(data).cast("B")
    if len(view) == 0:
        return [b""]
    return [bytes(view[i : i + chunk_size]) for i in range(0, len(view), chunk_size)]


def join(chunks: Sequence[bytes | bytearray | memoryview]) -> bytes:
    """Concatenate chunks in order (the inverse of ``split``), copying once."""
    return b"".join(chunks)


def check_size(data: bytes | bytearray | memoryview, limit: int = MAX_ENTRY_BYTES) -> None:
    """Raise ``EntryTooLargeError`` if ``data`` is longer than ``limit`` bytes.

    Called before anything is written, so an oversized transaction fails
    cleanly: the log and the local database stay unchanged.
    """
    size = memoryview(data).nbytes
    if size > limit:
        raise EntryTooLargeError(
            f"log entry is {size} bytes ({size / 1048576:.1f} MiB), over the limit of "
            f"{limit} bytes ({limit / 1048576:.1f} MiB); split the transaction or "
            "store less per row"
        )
