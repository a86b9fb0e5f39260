"""The body of a format-version-1 entry: an ``EntryPayload`` as bytes.

Layout (all strings are varint length + UTF-8; ``ref`` is a varint index
into the name table)::

    txid: str, commit_time_us: int64 LE, origin_site: str, range_name: str
    name table: varint count, then count x str
    ddl: u8 0 | u8 1, (u8 0 | u8 1, database: str), sql: str
    changes: varint count, then per change:
        table: ref, op: u8 (1 INSERT, 2 UPDATE, 3 DELETE)
        pk: varint count, then count x (column: ref, value)
        row: u8 0 (None) | u8 1, varint count, then count x (column: ref, value)

Table and column names go into a name table once per entry instead of once
per row: a 1000-row entry of one table then names each column once, which
makes encoding faster (each name is UTF-8 encoded once), keeps the
uncompressed body small, and lets decoded rows share one ``str`` per name.
"""

from __future__ import annotations

import struct
from typing import TypeVar

from mdbc_py.log.errors import LogEncodeError, LogFormatError
from mdbc_py.log.model import (
    Column,
    DdlStatement,
    EntryPayload,
    Op,
    row_change_unchecked,
)
from mdbc_py.log.values import READERS, utf8, write_value
from mdbc_py.log.wire import Reader, varint

__all__ = ["decode_body", "encode_body"]

T = TypeVar("T")

_INT64 = struct.Struct("<q")
_OP_CODE = {Op.INSERT: 1, Op.UPDATE: 2, Op.DELETE: 3}
_CODE_OP: dict[int, Op] = {code: op for op, code in _OP_CODE.items()}


def _str(text: str, what: str) -> bytes:
    raw = utf8(text, what)
    return varint(len(raw)) + raw


class _Names:
    """Assigns each distinct table/column name an index, in first-use order."""

    __slots__ = ("index", "order")

    def __init__(self) -> None:
        self.index: dict[str, bytes] = {}
        self.order: list[str] = []

    def ref(self, name: str) -> bytes:
        ref = self.index.get(name)
        if ref is None:
            ref = varint(len(self.order))
            self.index[name] = ref
            self.order.append(name)
        return ref


def _write_pairs(
    buf: bytearray, names: _Names, pairs: tuple[Column, ...], table: str, part: str
) -> None:
    buf += varint(len(pairs))
    for column, value in pairs:
        buf += names.ref(column)
        try:
            write_value(buf, value)
        except LogEncodeError as exc:
            # Re-raise the same class (it may also be a TypeError) with the location.
            raise type(exc)(f"table {table}, {part} column {column!r}: {exc}") from None


def encode_body(payload: EntryPayload) -> list[bytes | bytearray]:
    """Return the version-1 body of ``payload`` as parts to be concatenated.

    Parts rather than one ``bytes`` so that the envelope can checksum,
    compress and assemble them without first copying a large row image into
    an intermediate buffer.
    """
    if type(payload) is not EntryPayload:
        raise TypeError(f"encode() needs an EntryPayload, got {type(payload).__name__}")
    names = _Names()
    changes = bytearray(varint(len(payload.changes)))
    for change in payload.changes:
        table = change.table
        changes += names.ref(table)
        changes.append(_OP_CODE[change.op])
        _write_pairs(changes, names, change.pk, table, "pk")
        if change.row is None:
            changes.append(0)
        else:
            changes.append(1)
            _write_pairs(changes, names, change.row, table, "row")

    head = bytearray()
    head += _str(payload.txid, "txid")
    head += _INT64.pack(payload.commit_time_us)
    head += _str(payload.origin_site, "origin_site")
    head += _str(payload.range_name, "range_name")
    head += varint(len(names.order))
    for name in names.order:
        head += _str(name, f"table/column name {name!r}")
    ddl = payload.ddl
    if ddl is None:
        head.append(0)
    else:
        head.append(1)
        if ddl.database is None:
            head.append(0)
        else:
            head.append(1)
            head += _str(ddl.database, "DDL database")
        head += _str(ddl.sql, "DDL statement")
    return [head, changes]


def _read_pairs(r: Reader, names: list[str]) -> tuple[Column, ...]:
    count = r.varint()
    if 2 * count > r.end - r.pos:
        # Every pair takes at least two bytes; refuse before looping on garbage.
        raise r.fail(f"pair count {count} exceeds the remaining {r.end - r.pos} bytes")
    buf = r.buf
    end = r.end
    n_names = len(names)
    out = []
    for _ in range(count):
        # Fast path (inlined): a one-byte name ref followed by the value's tag.
        at = r.pos
        if at + 2 <= end and buf[at] < 0x80:
            ref = buf[at]
            tag = buf[at + 1]
            r.pos = at + 2
        else:
            ref = r.varint()
            tag = r.u8()
        if ref >= n_names:
            raise r.fail(f"column name ref {ref} outside name table of {n_names}", at)
        reader = READERS[tag]
        if reader is None:
            raise r.fail(f"unknown value tag 0x{tag:02X}", r.pos - 1)
        out.append((names[ref], reader(r)))
    return tuple(out)


def decode_body(body: memoryview) -> EntryPayload:
    """Parse a version-1 body; any inconsistency raises ``LogFormatError``."""
    r = Reader(body, "body")
    txid = r.text()
    (commit_time_us,) = r.unpack(_INT64)
    origin_site = r.text()
    range_name = r.text()

    count = r.varint()
    if count > r.end - r.pos:
        raise r.fail(f"name table claims {count} names, only {r.end - r.pos} bytes remain")
    names = [r.text() for _ in range(count)]

    ddl: DdlStatement | None = None
    flag = r.u8()
    if flag == 1:
        database = r.text() if _flag(r) else None
        sql = r.text()
        ddl = _build(r, DdlStatement, database, sql)
    elif flag != 0:
        raise r.fail(f"bad DDL flag {flag}", r.pos - 1)

    count = r.varint()
    if count > r.end - r.pos:
        raise r.fail(f"change count {count} exceeds the remaining {r.end - r.pos} bytes")
    changes = []
    for index in range(count):
        at = r.pos
        ref = r.varint()
        if ref >= len(names):
            raise r.fail(f"change #{index}: table ref {ref} outside name table", at)
        code = r.u8()
        op = _CODE_OP.get(code)
        if op is None:
            raise r.fail(f"change #{index}: unknown op code {code}", r.pos - 1)
        pk = _read_pairs(r, names)
        if not pk:
            raise r.fail(f"change #{index}: empty primary key")
        row = _read_pairs(r, names) if _flag(r) else None
        if row is None and op is not Op.DELETE:
            raise r.fail(f"change #{index}: {op.value} without a row image")
        changes.append(row_change_unchecked(names[ref], op, pk, row))
    r.expect_end()
    return _build(
        r, EntryPayload, txid, commit_time_us, origin_site, range_name, tuple(changes), ddl
    )


def _flag(r: Reader) -> bool:
    flag = r.u8()
    if flag > 1:
        raise r.fail(f"bad presence flag {flag}", r.pos - 1)
    return flag == 1


def _build(r: Reader, cls: type[T], *args: object) -> T:
    """Construct a model object; its own validation failing means corrupt data."""
    try:
        return cls(*args)
    except (TypeError, ValueError) as exc:
        raise LogFormatError(
            f"malformed body before offset {r.pos}: {exc}", kind="malformed", offset=r.pos
        ) from None
