"""The retry helpers: what they retry, how often, and what they let through."""

from __future__ import annotations

import pymysql
import pytest

import mdbc_py


def flaky(failures: list[BaseException]):  # type: ignore[no-untyped-def]
    calls = []

    def run() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "done"

    return run, calls


@pytest.mark.parametrize(
    "error",
    [
        mdbc_py.FencedError("stale epoch"),
        mdbc_py.FailoverError("owner changed"),
        mdbc_py.StoreUnavailableError("no quorum"),
        pymysql.err.OperationalError(1213, "Deadlock found"),
        pymysql.err.OperationalError(1205, "Lock wait timeout"),
    ],
)
def test_retryable_errors_are_retried(error: BaseException) -> None:
    run, calls = flaky([error, error])
    assert mdbc_py.retry(attempts=3, backoff=0.001)(run)() == "done"
    assert len(calls) == 3


@pytest.mark.parametrize(
    "error",
    [
        mdbc_py.NotOwnerError("owned by dc2"),
        mdbc_py.CrossRangeError("two ranges"),
        mdbc_py.CommitOutcomeUnknownError("unknown"),
        pymysql.err.OperationalError(2003, "cannot connect"),
        pymysql.err.IntegrityError(1062, "duplicate"),
        ValueError("application bug"),
    ],
)
def test_other_errors_pass_through_at_once(error: BaseException) -> None:
    run, calls = flaky([error])
    with pytest.raises(type(error)):
        mdbc_py.retry(attempts=5, backoff=0.001)(run)()
    assert len(calls) == 1


def test_the_last_error_is_raised_after_the_attempts() -> None:
    run, calls = flaky([mdbc_py.FencedError(str(i)) for i in range(10)])
    with pytest.raises(mdbc_py.FencedError, match="2"):
        mdbc_py.retry(attempts=3, backoff=0.001)(run)()
    assert len(calls) == 3


def test_retrying_loop() -> None:
    failures: list[BaseException] = [mdbc_py.FailoverError("x")]
    tries = 0
    for attempt in mdbc_py.retrying(attempts=3, backoff=0.001):
        with attempt:
            tries += 1
            if failures:
                raise failures.pop(0)
    assert tries == 2


def test_retrying_gives_up_with_the_error() -> None:
    tries = 0
    with pytest.raises(mdbc_py.FailoverError):
        for attempt in mdbc_py.retrying(attempts=2, backoff=0.001):
            with attempt:
                tries += 1
                raise mdbc_py.FailoverError("always")
    assert tries == 2
