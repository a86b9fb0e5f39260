"""Retry a whole transaction after a retryable error: the API-handler pattern.

A change of owner, a fenced commit or a store hiccup aborts the transaction
with a ``RetryableError``: nothing of it was kept, so running the same
transaction function again is correct and, after a failover, reaches the
new owner. Two forms::

    @mdbc_py.retry(attempts=5)
    def create_request(conn, req): ...          # a function that runs one transaction

    for attempt in mdbc_py.retrying(attempts=5):
        with attempt:
            ...                                  # the transaction, inline

Backoff is exponential with jitter, capped; the last error is re-raised.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import ParamSpec, TypeVar

import pymysql

from mdbc_py.errors import NotOwnerError, RetryableError
from mdbc_py.mysql_errors import TRANSIENT, errno

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

RETRY_ON: tuple[type[BaseException], ...] = (RetryableError,)

RETRYABLE_ERRNOS = TRANSIENT
"""MariaDB's lock wait timeout and deadlock: the transaction was rolled back, retry it."""


def is_retryable(exc: BaseException, retry_on: tuple[type[BaseException], ...]) -> bool:
    """A retryable mdbc error, or a MariaDB deadlock / lock wait timeout."""
    if isinstance(exc, retry_on):
        return True
    return isinstance(exc, pymysql.err.OperationalError) and errno(exc) in RETRYABLE_ERRNOS


def _delay(attempt: int, backoff: float, max_backoff: float) -> float:
    return min(max_backoff, backoff * (2**attempt)) * (0.5 + random.random() / 2)


def retry(
    attempts: int = 5,
    backoff: float = 0.05,
    max_backoff: float = 2.0,
    retry_on: tuple[type[BaseException], ...] = RETRY_ON,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: call the function again (up to ``attempts`` times) on a retryable error."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(attempts):
                try:
                    return func(*args, **kwargs)
                except Exception as exc:
                    if not is_retryable(exc, retry_on) or attempt == attempts - 1:
                        raise
                    pause = _delay(attempt, backoff, max_backoff)
                    log.info(
                        "%s: %s; retry %d/%d in %.2f s",
                        func.__name__,
                        exc,
                        attempt + 1,
                        attempts - 1,
                        pause,
                    )
                    time.sleep(pause)
            raise AssertionError("unreachable")

        return wrapper

    return decorate


class Attempt:
    """One try of an inline transaction (see ``retrying``)."""

    def __init__(self, number: int, last: bool, retry_on: tuple[type[BaseException], ...]):
        self.number = number
        self.last = last
        self.retry_on = retry_on
        self.failed: BaseException | None = None

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is not None and is_retryable(exc, self.retry_on) and not self.last:
            self.failed = exc
            return True  # swallowed: the loop tries again
        return False


def retrying(
    attempts: int = 5,
    backoff: float = 0.05,
    max_backoff: float = 2.0,
    retry_on: tuple[type[BaseException], ...] = RETRY_ON,
) -> Iterator[Attempt]:
    """Yield attempts until one finishes without a retryable error (see module docstring)."""
    for number in range(attempts):
        attempt = Attempt(number, number == attempts - 1, retry_on)
        yield attempt
        if attempt.failed is None:
            return
        time.sleep(_delay(number, backoff, max_backoff))


ROUTE_RETRY_ON: tuple[type[BaseException], ...] = (RetryableError, NotOwnerError)
"""What to retry when connections use mode ``route`` (they follow the owner)."""

__all__ = ["ROUTE_RETRY_ON", "Attempt", "retry", "retrying"]
