"""Send several statements in one round trip when the session allows it.

A session opened with ``CLIENT.MULTI_STATEMENTS`` takes ``a; b; c`` as one
request and answers with one result per statement; the commit path uses it
to cut its round trips (see :mod:`mdbc_py.capture.collect` and
:func:`mdbc_py.core.commit.local_commit`). Without the flag the same
statements go one by one, with the same handling.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

import pymysql
from pymysql.constants import CLIENT, ER
from pymysql.cursors import Cursor

from mdbc_py.mysql_errors import errno

__all__ = ["is_batched", "run_statements"]


def is_batched(cur: Cursor) -> bool:
    """True if the cursor's session accepts several statements in one request."""
    return bool(cur.connection.client_flag & CLIENT.MULTI_STATEMENTS)


def _no_such_table(exc: pymysql.err.Error) -> bool:
    """The shadow is gone (capture removed after a rolled-back write): nothing staged."""
    return errno(exc) == ER.NO_SUCH_TABLE


def run_statements(
    cur: Cursor,
    statements: list[str],
    handle: Callable[[int], None],
    *,
    skip_missing: bool = False,
) -> None:
    """Execute ``statements``, calling ``handle(i)`` on the result of each.

    On a batched session all are sent in one multi-statement round trip; MariaDB
    stops a batch at its first error, so after a missing table (skipped when
    ``skip_missing``) the rest is sent again.
    """
    batch = is_batched(cur)
    i = 0
    while i < len(statements):
        try:
            if batch:
                cur.execute(";\n".join(statements[i:]))
                while True:
                    _handle_or_drain(cur, handle, i)
                    i += 1
                    if not cur.nextset():
                        break
            else:
                cur.execute(statements[i])
                handle(i)
                i += 1
        except pymysql.err.ProgrammingError as exc:
            if not (skip_missing and _no_such_table(exc)):
                raise
            i += 1


def _handle_or_drain(cur: Cursor, handle: Callable[[int], None], i: int) -> None:
    """``handle(i)``; if it raises, read the batch's remaining results first.

    Unread results would leave the connection out of sync, and the caller
    could not even roll back.
    """
    try:
        handle(i)
    except BaseException:
        with suppress(pymysql.err.Error):
            while cur.nextset():
                pass
        raise
