"""What the agent's metrics need beyond the collectors: reasons, error kinds, lag by the clock.

Kept apart from the agent's loop so that each rule is a small function with
tests of its own: which owner-change reason a history line is, which kind a
failed request to the database or the store is, and how long the oldest
unapplied entry has waited.
"""

from __future__ import annotations

from collections import deque

import pymysql

from mdbc_py.errors import CommitOutcomeUnknownError, StoreUnavailableError
from mdbc_py.metrics import OWNER_CHANGE_REASONS

LOGIN_REFUSED = frozenset({1044, 1045, 1698})
"""Access denied: the server answered, the agent's account cannot log in."""

CONNECTION_LOST = frozenset({2006, 2013, 2055})
"""Server gone away / lost connection during a query."""

UNREACHABLE = frozenset({2002, 2003, 2005})
"""Cannot connect (socket, TCP, unknown host)."""


def owner_change_reason(reason: str) -> str:
    """The metric label of a history line's free-text reason (one of OWNER_CHANGE_REASONS).

    The texts are written by ``promote`` (``manual promote``, ``switchover``,
    ``hand back: ...``) and by the agent (``lease of X expired``,
    ``database of X down``).
    """
    text = reason.strip().lower()
    if text.startswith("lease of") and text.endswith("expired"):
        found = "lease_expired"
    elif text.startswith("database of") and text.endswith("down"):
        found = "database_down"
    elif text == "switchover":
        found = "switchover"
    elif text.startswith("manual promote"):
        found = "manual_promote"
    elif text.startswith("hand back"):
        found = "hand_back"
    else:
        found = "other"
    assert found in OWNER_CHANGE_REASONS
    return found


def database_error_kind(code: int | None, exc: BaseException) -> str:
    """unreachable, login_refused, connection_lost or server_error (see DATABASE_ERROR_KINDS)."""
    if code in LOGIN_REFUSED:
        return "login_refused"
    if code in CONNECTION_LOST or isinstance(exc, pymysql.err.InterfaceError):
        return "connection_lost"
    if code in UNREACHABLE or code is None or isinstance(exc, OSError):
        return "unreachable"
    return "server_error"


def store_error_kind(exc: BaseException) -> str:
    """unavailable, outcome_unknown or other (see STORE_ERROR_KINDS)."""
    if isinstance(exc, StoreUnavailableError):
        return "unavailable"
    if isinstance(exc, CommitOutcomeUnknownError):
        return "outcome_unknown"
    return "other"


class LagClock:
    """When this agent first saw each part of a range's log, to age the oldest unapplied entry.

    ``saw(now, tail)`` is called once per tick with the tail read from the
    store; ``seconds(now, applied)`` says how long ago the tail first reached
    ``applied + 1``. Only this process's monotonic clock is used, never an
    entry's timestamp written by another host: a skewed clock cannot make a
    replica look behind (or caught up). An agent that starts with a backlog
    counts its age from its first tick.
    """

    def __init__(self) -> None:
        self._seen: deque[tuple[float, int]] = deque()  # (first seen at, tail), tails rising

    def saw(self, now: float, tail: int) -> None:
        """Record the tail read at ``now`` (monotonic seconds)."""
        if not self._seen or tail > self._seen[-1][1]:
            self._seen.append((now, tail))

    def seconds(self, now: float, applied: int) -> float:
        """Age of entry ``applied + 1`` since first seen; 0 when nothing waits."""
        while self._seen and self._seen[0][1] <= applied:
            self._seen.popleft()
        if not self._seen:
            return 0.0
        return max(0.0, now - self._seen[0][0])
