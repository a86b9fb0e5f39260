"""Cutting an encoded entry into store-sized pieces, and the entry size limits.

Cassandra handles large cells badly (a single huge mutation strains the
commit log and the coordinator), so the store writes a large entry as
several chunk rows. Chunks carry no checksum of their own: the envelope's
CRC covers the whole entry, so a missing, duplicated or reordered chunk is
caught when ``decode`` checks the joined bytes.

Two limits apply to one transaction, and both are 64 MiB:

- ``MAX_BODY_BYTES``, on the *uncompressed* body (the row images and the
  statement): what the owner's MariaDB wrote and what every replica must
  decode, hold in memory and apply. Checked by ``encode`` before it spends
  time compressing, so 70 MiB of one repeated byte (a few KiB compressed) is
  refused like 70 MiB of noise.
- ``MAX_ENTRY_BYTES``, on the *stored* bytes (framed, maybe compressed):
  what the store keeps. Checked by ``encode`` on its result and again by
  ``check_size``, which every store backend calls before it writes.

Either error is raised before anything is written: nothing reaches the log,
and the front end rolls the local transaction back.
"""

from __future__ import annotations

from collections.abc import Sequence

from mdbc_py.errors import EntryTooLargeError

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_ENTRY_BYTES",
    "STORED",
    "UNCOMPRESSED",
    "check_size",
    "join",
    "split",
    "too_large",
]

MAX_ENTRY_BYTES = 64 * 1024 * 1024
"""Largest stored entry (framed, after compression) the store accepts."""
MAX_BODY_BYTES = 64 * 1024 * 1024
"""Largest uncompressed body of one transaction: what MariaDB and every replica handle."""

UNCOMPRESSED = "uncompressed"
STORED = "stored"
_WHAT = {
    UNCOMPRESSED: (
        "the transaction's uncompressed log entry body",
        "the uncompressed size of one transaction (what MariaDB and every replica must handle)",
    ),
    STORED: (
        "the stored log entry",
        "the stored (framed and compressed) size of one log entry (what the store keeps)",
    ),
}


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


def _mib(n: int) -> str:
    return f"{n / 1048576:.1f} MiB"


def too_large(which: str, size: int, limit: int) -> EntryTooLargeError:
    """The error for an entry of ``size`` bytes over the ``which`` limit of ``limit`` bytes.

    It says which limit, by how much, and that nothing was written, so the
    application knows the transaction is gone and what to change.
    """
    what, limit_name = _WHAT[which]
    over = size - limit
    return EntryTooLargeError(
        f"{what} is {size} bytes ({_mib(size)}), {over} bytes ({_mib(over)}) over the limit "
        f"of {limit} bytes ({_mib(limit)}) on {limit_name}; nothing was written to the log "
        "and nothing was committed: split the transaction or store less per row",
        size=size,
        limit=limit,
        which=which,
    )


def check_size(data: bytes | bytearray | memoryview, limit: int = MAX_ENTRY_BYTES) -> None:
    """Raise ``EntryTooLargeError`` (``which="stored"``) if ``data`` is longer than ``limit``.

    Called before anything is written, so an oversized transaction fails
    cleanly: the log and the local database stay unchanged.
    """
    size = memoryview(data).nbytes
    if size > limit:
        raise too_large(STORED, size, limit)
