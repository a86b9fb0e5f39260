"""An agent's own site claim that lapses between its INSERT and its renewal is claimed again.

Scripted store answers stand in for Cassandra's conditional writes: the race
(the claim's TTL running out between the two statements) cannot be timed
against a real node, and ``claim_agent``'s decisions are pure logic on them.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from mdbc_py.music.cassandra.store import CassandraStore
from mdbc_py.music.model import AgentClaim


class _Result:
    """A conditional write's result: ``[applied]`` and the row it found."""

    column_names = ("[applied]", "instance")

    def __init__(self, applied: bool, instance: str | None = None) -> None:
        self.current_rows = [(applied, instance)]

    def one(self) -> Any:
        return SimpleNamespace(instance=self.current_rows[0][1])


class _Scripted(CassandraStore):
    """Answers each statement from a script; reads the claim from ``holder``."""

    def __init__(self, answers: list[_Result], holder: str | None) -> None:  # no session
        self.answers = answers
        self.sent: list[str] = []
        self.holder = holder

    def _exec(self, what: str, cql: str, params: Any = (), uncertain_ok: bool = False) -> Any:
        self.sent.append(cql.split()[0])
        return self.answers.pop(0)

    def agent_claim(self, site: str) -> AgentClaim | None:
        return None if self.holder is None else AgentClaim(site, self.holder, 0.0)


def test_a_claim_that_lapsed_before_its_renewal_is_claimed_again() -> None:
    store = _Scripted([_Result(False, "me"), _Result(False), _Result(True)], holder=None)
    claim = store.claim_agent("dc1", "me", 5)
    assert claim.instance == "me"
    assert store.sent == ["INSERT", "UPDATE", "INSERT"]


def test_another_agent_that_claimed_in_between_is_reported() -> None:
    store = _Scripted([_Result(False, "me"), _Result(False)], holder="other")
    assert store.claim_agent("dc1", "me", 5).instance == "other"
    assert store.sent == ["INSERT", "UPDATE"]


def test_a_claim_held_by_another_agent_is_not_taken() -> None:
    store = _Scripted([_Result(False, "other")], holder="other")
    assert store.claim_agent("dc1", "me", 5).instance == "other"
    assert store.sent == ["INSERT"]


def test_a_renewal_keeps_the_claim() -> None:
    store = _Scripted([_Result(False, "me"), _Result(True)], holder="me")
    assert store.claim_agent("dc1", "me", 5).instance == "me"
