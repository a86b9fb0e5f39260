"""One SO component's connection to one database, and the transaction-retry loop.

Every unit of work of the workload is a function of a cursor that runs as
one transaction. :meth:`DbSession.transaction` runs it inside
``mdbc_py.retrying``: a retryable mdbc error (failover, fencing, store
hiccup), a lost connection or a refused reconnect (the old owner is dead
and the new one is not open yet) rolls back and runs the whole function
again, so the functions are written to be idempotent. A lost connection is
replaced by a fresh ``mdbc_py.connect`` (mode ``route`` sends it to the
range's current owner).

A session also plays the process it belongs to dying: when its ``crashed``
event is set, the next statement or commit raises :class:`Crashed` and the
open transaction is abandoned without a rollback, as a killed container's
would be.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pymysql

import mdbc_py
from mdbc_py.config import Config

T = TypeVar("T")

RETRY_ON: tuple[type[BaseException], ...] = (
    mdbc_py.RetryableError,
    mdbc_py.NotOwnerError,
    pymysql.err.OperationalError,
    pymysql.err.InterfaceError,
)
"""What a request survives by running again (mdbc's retryable errors are OperationalErrors)."""

ATTEMPTS = 80
BACKOFF = 0.05
MAX_BACKOFF = 0.4
"""About 25 s of retrying: longer than a failover (lease expiry, fencing, catch-up)."""

CONNECT_KWARGS: dict[str, Any] = {"connect_timeout": 3, "read_timeout": 30, "write_timeout": 30}

CommitHook = Callable[[str], None]


class Crashed(Exception):
    """The simulated process this session belongs to has died."""


def _ignore(site: str) -> None:
    pass


class DbSession:
    """A lazily opened, self-healing mdbc_py connection of one thread to one database."""

    def __init__(
        self,
        cfg: Config,
        home: str,
        database: str,
        crashed: threading.Event | None = None,
        on_commit: CommitHook = _ignore,
        on_retry: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.home = home
        self.database = database
        self.crashed = crashed or threading.Event()
        self.on_commit = on_commit
        self.on_retry = on_retry
        self._conn: Any = None
        self.last_site: str | None = None
        """The site where the last transaction committed (the range's owner then)."""

    def _check_alive(self) -> None:
        if self.crashed.is_set():
            self._abandon()
            raise Crashed(f"the process at {self.home} died")

    def _abandon(self) -> None:
        """Drop the connection without rollback or commit (the server rolls back)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.raw.close()

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = mdbc_py.connect(
                site=self.home, config=self.cfg, database=self.database, **CONNECT_KWARGS
            )
        return self._conn

    def _failed(self, exc: BaseException) -> None:
        """After an error: keep a usable session, replace a broken one."""
        conn = self._conn
        if conn is None:
            return
        broken = isinstance(exc, pymysql.err.InterfaceError) or (
            isinstance(exc, pymysql.err.OperationalError)
            and not isinstance(exc, mdbc_py.MdbcError)
            and exc.args[:1] not in ((1205,), (1213,))  # lock wait timeout, deadlock
        )
        if broken:
            self._abandon()
            return
        try:
            conn.rollback()
        except pymysql.err.Error:
            self._abandon()

    def transaction(
        self,
        work: Callable[[Any], T],
        attempts: int = ATTEMPTS,
        wrote: Callable[[T], bool] | bool = True,
    ) -> T:
        """Run ``work(cursor)`` as one transaction, retried as a whole (see module docstring).

        ``wrote`` says whether the transaction wrote (or, given its result, did):
        only commits of writes reach ``on_commit``, the timeline of a run.
        """
        for attempt in mdbc_py.retrying(
            attempts=attempts, backoff=BACKOFF, max_backoff=MAX_BACKOFF, retry_on=RETRY_ON
        ):
            with attempt:
                self._check_alive()
                try:
                    conn = self._connection()
                    result = work(conn.cursor())
                    self._check_alive()
                    conn.commit()
                except Crashed:
                    raise
                except BaseException as exc:
                    self._failed(exc)
                    if isinstance(exc, RETRY_ON) and self.on_retry is not None:
                        self.on_retry(exc)
                    raise
                self.last_site = conn.site.name
                if wrote(result) if callable(wrote) else wrote:
                    self.on_commit(conn.site.name)
                return result
        raise AssertionError("unreachable: the last attempt re-raises")

    def read(self, work: Callable[[Any], T]) -> T:
        """A read-only transaction (same retries; not a commit of the timeline)."""
        return self.transaction(work, wrote=False)

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back by the server)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
