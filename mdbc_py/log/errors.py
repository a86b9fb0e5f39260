"""Errors of the log entry format.

They are DB-API ``DataError`` subclasses because every one of them is about the
content of a value or of stored bytes, never about a connection or the server:
an application that already catches ``DataError`` for "this value cannot be
stored" keeps working, and ``MdbcError`` tells it the refusal came from
mdbc_py rather than from MariaDB.
"""

from __future__ import annotations

from mdbc_py.errors import DataError, MdbcError

__all__ = ["LogEncodeError", "LogFormatError", "UnsupportedValueTypeError"]


class LogFormatError(MdbcError, DataError):
    """Stored bytes are not a valid log entry of a format version this code knows.

    This is the one error class for damaged or foreign entry bytes: wrong
    magic, an unknown format version or flag, a checksum mismatch, truncated
    or trailing data, bad compression and any malformed body. ``decode``
    raises nothing else for any input (the fuzz tests hold it to that), so a
    replica can catch exactly this, stop applying the range at that entry
    rather than guess, and report it.

    Facts as attributes, each ``None`` when not known where the error arose:

    - ``kind``: one of ``KINDS`` (``"truncated"``, ``"checksum"``, ...), a
      stable word for metrics and status;
    - ``reason``: what was wrong, without the location prefix;
    - ``offset``: byte offset of the damage (in the entry, or in the
      decompressed body when ``kind`` is ``"malformed"``);
    - ``size``: how many bytes were handed to the decoder;
    - ``range_name`` and ``seq``: which entry, when the caller said so
      (``decode(data, range_name=..., seq=...)``), so the message names it.

    The message never quotes more than a few bytes of the entry: row images
    may hold personal data, and an error line is no place to copy them to.
    """

    KINDS = (
        "truncated",
        "foreign",
        "version",
        "flags",
        "trailing",
        "checksum",
        "compression",
        "malformed",
    )

    def __init__(
        self,
        reason: str,
        *,
        kind: str = "malformed",
        offset: int | None = None,
        size: int | None = None,
        range_name: str | None = None,
        seq: int | None = None,
    ) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown LogFormatError kind {kind!r}")
        self.reason = reason
        self.kind = kind
        self.offset = offset
        self.size = size
        self.range_name = range_name
        self.seq = seq
        super().__init__(self._message())

    def _message(self) -> str:
        if self.range_name is None and self.seq is None:
            return self.reason
        where = "log entry" if self.seq is None else f"log entry {self.seq}"
        if self.range_name is not None:
            where += f" of range {self.range_name!r}"
        return f"{where} cannot be read: {self.reason}"

    def located(
        self, *, range_name: str | None = None, seq: int | None = None, size: int | None = None
    ) -> LogFormatError:
        """Return a copy of this error that also names the entry it is about.

        Used by ``decode`` when its caller knows the range and sequence
        number; the copy is of the very same class so ``except`` clauses and
        ``kind`` keep working.
        """
        return type(self)(
            self.reason,
            kind=self.kind,
            offset=self.offset,
            size=self.size if size is None else size,
            range_name=self.range_name if range_name is None else range_name,
            seq=self.seq if seq is None else seq,
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only facts survive pickling (errors cross process pools).
        facts = (self.kind, self.offset, self.size, self.range_name, self.seq)
        return (_rebuild, (type(self), self.reason, *facts))


def _rebuild(
    cls: type[LogFormatError],
    reason: str,
    kind: str,
    offset: int | None,
    size: int | None,
    range_name: str | None,
    seq: int | None,
) -> LogFormatError:
    return cls(reason, kind=kind, offset=offset, size=size, range_name=range_name, seq=seq)


class LogEncodeError(MdbcError, DataError, ValueError):
    """A value cannot be encoded without changing it.

    For example a ``str`` holding a lone surrogate (no UTF-8 form exists), a
    timezone-aware ``datetime`` (MariaDB columns hold naive ones) or a SET
    member that is not a ``str``. Refusing is the only safe choice: a replica
    must receive exactly what the owner stored. Also a ``ValueError`` because
    that is what Python code expects for a bad value of a supported type.
    """


class UnsupportedValueTypeError(LogEncodeError, TypeError):
    """A value's type has no encoding, so it could not come back as the same type.

    Also a ``TypeError``, which is what Python callers expect for a value of
    the wrong type. The message names the type (and, when known, the table
    and column).
    """
