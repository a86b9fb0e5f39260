"""Statement classification: what an SQL string does, and to which range.

``classify(sql, current_db)`` says whether a statement reads, writes, changes
the schema, controls the transaction or only the session, and which tables
it reads and changes; the driver uses that to attribute every change to a
range. ``RangeMap`` resolves tables to ranges, and ``require_single_range``
refuses a transaction that spans ranges with an error that says what to do.

The lexer, the token readers and the sqlglot analysis behind ``classify``
are internal; their modules are not part of the API.
"""

from __future__ import annotations

from mdbc_py.sql.classify import CACHE_SIZE, MAX_CACHED_LENGTH, cache_clear, cache_info, classify
from mdbc_py.sql.ranges import (
    RESERVED_PREFIX,
    SYSTEM_SCHEMAS,
    RangeMap,
    RangeSpec,
    require_single_range,
)
from mdbc_py.sql.statement import ANY_TABLE, Kind, Statement, TableRef, Tcl, combine

__all__ = [
    "ANY_TABLE",
    "CACHE_SIZE",
    "MAX_CACHED_LENGTH",
    "RESERVED_PREFIX",
    "SYSTEM_SCHEMAS",
    "Kind",
    "RangeMap",
    "RangeSpec",
    "Statement",
    "TableRef",
    "Tcl",
    "cache_clear",
    "cache_info",
    "classify",
    "combine",
    "require_single_range",
]
