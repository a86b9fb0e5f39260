"""Pure parts of the sandbox: token spacing, address arithmetic, table output."""

from __future__ import annotations

import itertools

import pytest

from cli.output import format_table
from mdbc_py.sandbox import Sandbox, SandboxError, _ip_plus
from mdbc_py.sandbox.cassandra import token_for


def test_tokens_are_evenly_spaced_and_in_range() -> None:
    tokens = [token_for(i, 3) for i in range(3)]
    assert tokens[0] == -(2**63)
    assert tokens == sorted(tokens)
    gaps = {b - a for a, b in itertools.pairwise(tokens)}
    assert len(gaps) == 1
    assert all(-(2**63) <= t < 2**63 for t in tokens)


@pytest.mark.parametrize(
    ("first", "offset", "expected"),
    [("127.0.0.1", 0, "127.0.0.1"), ("127.0.0.1", 2, "127.0.0.3"), ("127.0.0.21", 1, "127.0.0.22")],
)
def test_ip_plus(first: str, offset: int, expected: str) -> None:
    assert _ip_plus(first, offset) == expected


@pytest.mark.parametrize("first", ["10.0.0.1", "127.0.0.254", "localhost", "127.0.1"])
def test_ip_plus_refuses_non_loopback_or_overflow(first: str) -> None:
    with pytest.raises(SandboxError):
        _ip_plus(first, 1)


@pytest.mark.parametrize(("sites", "nodes"), [(-1, 1), (10, 1), (2, 2), (2, 5)])
def test_plan_refuses_bad_shapes(tmp_path, sites: int, nodes: int) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SandboxError):
        Sandbox(tmp_path).up(sites=sites, cassandra_nodes=nodes)
    assert not (tmp_path / "sandbox.json").exists()


def test_format_table_aligns_columns() -> None:
    text = format_table(
        [{"name": "dc1", "pid": 12}, {"name": "node10", "pid": None}], ["name", "pid"]
    )
    assert text.splitlines() == ["NAME    PID", "dc1     12", "node10"]
