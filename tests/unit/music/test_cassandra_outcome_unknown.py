"""The error of an append whose outcome is unknown says so, and only so (issue 12, defect 7).

``_resolve`` runs after an append timed out; when the store cannot even be
asked whether the entry landed, the error must not quote the inner
``StoreUnavailableError``'s "nothing was written": that is exactly what
nobody knows.
"""

from __future__ import annotations

from typing import Any

import pytest

from mdbc_py.errors import CommitOutcomeUnknownError, StoreUnavailableError
from mdbc_py.music import NewEntry
from mdbc_py.music.cassandra import store as cstore
from mdbc_py.music.cassandra.session import run
from mdbc_py.music.cassandra.store import CassandraStore, Head
from mdbc_py.music.model import RangeState


class _Down:
    """A store whose every SERIAL read fails the way ``session.run`` reports it."""

    def _serial(self, what: str, cql: str, params: Any) -> Any:
        from cassandra import Unavailable

        def fail() -> None:
            raise Unavailable("Cannot achieve consistency level SERIAL")

        return run(what, fail)


def test_unknown_outcome_does_not_claim_nothing_was_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cstore, "RESOLVE_SECONDS", 0.0)
    head = Head(3, 1, "dc1", RangeState.OPEN, 10, 0, 0, False)
    entries = [NewEntry("tx-a", b"a"), NewEntry("tx-b", b"b")]
    with pytest.raises(CommitOutcomeUnknownError) as caught:
        CassandraStore._resolve(_Down(), "r1", head, entries)  # type: ignore[arg-type]
    text = str(caught.value)
    assert "nothing was written" not in text, text
    assert "may or may not be in the log" in text and "'tx-a'" in text, text
    assert "Cannot achieve consistency level SERIAL" in text, text
    err = caught.value
    assert (err.range_name, err.txid, err.txids) == ("r1", "tx-a", ["tx-a", "tx-b"])  # type: ignore[attr-defined]


def test_store_unavailable_carries_operation_and_cause() -> None:
    from cassandra import OperationTimedOut

    def fail() -> None:
        raise OperationTimedOut("Operation timed out")

    with pytest.raises(StoreUnavailableError) as caught:
        run("releasing a lease", fail)
    err = caught.value
    assert err.operation == "releasing a lease"  # type: ignore[attr-defined]
    assert "Operation timed out" in err.cause  # type: ignore[attr-defined]
    assert "nothing was written" not in str(err), "a timed-out write may have been applied"
