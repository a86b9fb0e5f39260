"""The driver's PyMySQL session: the same protocol, with column definitions parsed once.

Every result set starts with one column-definition packet per column, and
PyMySQL parses each into a ``FieldDescriptorPacket`` and picks its value
converter: a tenth of the client CPU of a commit, which reads two result
sets (the dirty marker and the staged rows), and the same for every query an
application repeats. The bytes of a definition determine everything PyMySQL
derives from it (name, type, charset, flags, length), and with this
session's encoding and decoders, the converter too. So a result whose
definitions were seen before takes the parsed ones from a cache keyed by
those bytes. Rows are still decoded by PyMySQL, unchanged.

The cache is per session (its decoders and encoding are fixed) and bounded:
when full it starts over, so an application generating endless shapes costs
what it cost before, never more memory.

This relies on two PyMySQL internals, ``Connection._read_query_result``
and ``MySQLResult._get_descriptions``, which have kept their shape since
PyMySQL 0.9; tests/unit/driver/test_raw_session.py compares every decoded
value and description against PyMySQL's own, so a change there fails a test
instead of a commit.
"""

from __future__ import annotations

from typing import Any

from pymysql import converters
from pymysql.connections import TEXT_TYPES, Connection, MySQLResult
from pymysql.constants import FIELD_TYPE
from pymysql.protocol import FieldDescriptorPacket

CACHE_LIMIT = 512
"""Result shapes a session remembers before it starts over."""

BINARY_CHARSET = 63

_Shape = tuple[list[FieldDescriptorPacket], list[tuple[str | None, Any]], tuple[Any, ...]]


class _CachedResult(MySQLResult):
    """A result that takes its parsed column definitions from the session's cache."""

    connection: RawSession

    def _get_descriptions(self) -> None:
        session = self.connection
        raw = tuple(session._read_packet().get_all_data() for _ in range(self.field_count))
        shape = session.shapes.get(raw)
        if shape is None:
            shape = session.learn_shape(raw)
        self.fields = list(shape[0])
        self.converters = list(shape[1])
        self.description = shape[2]
        eof = session._read_packet()
        assert eof.is_eof_packet(), "Protocol error, expecting EOF"


class RawSession(Connection):  # type: ignore[misc]
    """``pymysql.connections.Connection`` that parses each result shape once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.shapes: dict[tuple[bytes, ...], _Shape] = {}
        super().__init__(*args, **kwargs)

    def learn_shape(self, raw: tuple[bytes, ...]) -> _Shape:
        """Parse column definitions as PyMySQL does, and remember them."""
        fields = [FieldDescriptorPacket(data, self.encoding) for data in raw]
        converters_ = [self._converter(f) for f in fields]
        shape = (fields, converters_, tuple(f.description() for f in fields))
        if len(self.shapes) >= CACHE_LIMIT:
            self.shapes.clear()
        self.shapes[raw] = shape
        return shape

    def _converter(self, field: FieldDescriptorPacket) -> tuple[str | None, Any]:
        """The ``(encoding, converter)`` PyMySQL's result reader picks for ``field``."""
        encoding: str | None = None
        if self.use_unicode:
            if field.type_code == FIELD_TYPE.JSON:
                encoding = self.encoding  # JSON is sent in the connection's encoding
            elif field.type_code in TEXT_TYPES:
                encoding = None if field.charsetnr == BINARY_CHARSET else self.encoding
            else:
                encoding = "ascii"
        converter = self.decoders.get(field.type_code)
        return encoding, (None if converter is converters.through else converter)

    def _read_query_result(self, unbuffered: bool = False) -> Any:
        self._result = None
        result = _CachedResult(self)
        if unbuffered:
            result.init_unbuffered_query()
        else:
            result.read()
        self._result = result
        if result.server_status is not None:
            self.server_status = result.server_status
        return result.affected_rows
