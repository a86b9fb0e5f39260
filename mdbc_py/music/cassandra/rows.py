"""Result rows as named tuples, with one row class per column list, not per result.

cassandra-driver's default ``named_tuple_factory`` builds a new namedtuple
class for every result set: about 0.4 ms of client CPU per request, the
largest single cost of an append on the client (measured with yappi on
``bench/commit.py``). The rows here behave the same (attribute and index
access, the same cleaned names), but their classes are cached.

The driver's ``ResultSet.was_applied`` only trusts its own factories, so
conditional writes are checked with :func:`was_applied` instead.
"""

from __future__ import annotations

import re
from collections import namedtuple
from functools import lru_cache
from typing import Any

__all__ = ["row_factory", "was_applied"]

_EDGE = re.compile(r"^[^a-zA-Z0-9]*|[^a-zA-Z0-9]*$")
_INNER = re.compile(r"[^a-zA-Z0-9_]")


def _clean(name: str) -> str:
    """``[applied]`` -> ``applied``, ``system.now()`` -> ``system_now``."""
    return _INNER.sub("_", _EDGE.sub("", name))


@lru_cache(maxsize=1024)
def _row_class(colnames: tuple[str, ...]) -> type:
    return namedtuple("Row", [_clean(c) for c in colnames], rename=True)  # type: ignore[misc]


def row_factory(colnames: list[str], rows: list[Any]) -> list[Any]:
    """The session's row factory: named tuples of a cached class."""
    cls = _row_class(tuple(colnames))
    return [cls(*row) for row in rows]


def was_applied(result: Any) -> bool:
    """Whether a conditional write (or a batch holding one) was applied."""
    names = result.column_names
    if not names or names[0] != "[applied]":
        raise RuntimeError(f"not the result of a conditional write (columns {names})")
    return bool(result.current_rows[0][0])
