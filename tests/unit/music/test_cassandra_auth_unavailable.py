"""An authorization Cassandra could not perform is the store being unavailable, not a refusal."""

from __future__ import annotations

import pytest
from cassandra import Unauthorized

from mdbc_py.errors import StoreUnavailableError
from mdbc_py.music.cassandra.session import authorization_unavailable, run

UNREADABLE = (
    'Error from server: code=2100 [Unauthorized] message="Unable to perform authorization of '
    'permissions: Cannot achieve consistency level LOCAL_QUORUM"'
)
MISSING_GRANT = (
    'Error from server: code=2100 [Unauthorized] message="User mdbc has no MODIFY permission '
    'on <table mdbc.log> or any of its parents"'
)


def _raise(exc: BaseException) -> None:
    raise exc


def test_unreadable_permissions_are_an_unavailable_store() -> None:
    assert authorization_unavailable(Unauthorized(UNREADABLE))
    with pytest.raises(StoreUnavailableError, match="nothing was written") as info:
        run("append", lambda: _raise(Unauthorized(UNREADABLE)))
    assert info.value.operation == "append"  # type: ignore[attr-defined]
    assert "LOCAL_QUORUM" in info.value.cause  # type: ignore[attr-defined]


def test_a_missing_grant_stays_a_refusal() -> None:
    assert not authorization_unavailable(Unauthorized(MISSING_GRANT))
    with pytest.raises(Unauthorized, match="no MODIFY permission"):
        run("append", lambda: _raise(Unauthorized(MISSING_GRANT)))
