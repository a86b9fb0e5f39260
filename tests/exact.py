"""Exact value comparison for tests that claim byte-exact round trips.

``==`` says ``1.0 == 1`` and ``Decimal("1.0") == Decimal("1")``; a captured
or decoded value must be the very same: same type, same float bits, same
Decimal digits and exponent, same ``fold`` of a time.
"""

from __future__ import annotations

import datetime
import decimal
import struct
from typing import Any


def same_value(a: Any, b: Any) -> bool:
    """True if ``b`` is an exact copy of ``a`` (type, bits, exponent, fold)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return struct.pack("<d", a) == struct.pack("<d", b)
    if type(a) is decimal.Decimal:
        return a.as_tuple() == b.as_tuple()
    if type(a) in (datetime.datetime, datetime.time):
        return a == b and a.fold == b.fold
    return bool(a == b)
