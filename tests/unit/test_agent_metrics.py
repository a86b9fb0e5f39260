"""The agent's metric rules that need no services: reasons, error kinds, lag clock, endpoints."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from mdbc_py.errors import CommitOutcomeUnknownError, FencedError, StoreUnavailableError
from mdbc_py.metrics import (
    DATABASE_ERROR_KINDS,
    FAILOVER_REASONS,
    OWNER_CHANGE_REASONS,
    STORE_ERROR_KINDS,
    AgentMetrics,
    serve,
)
from mdbc_py.replication.agent_metrics import (
    LagClock,
    database_error_kind,
    owner_change_reason,
    store_error_kind,
)


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("lease of dc1 expired", "lease_expired"),
        ("database of dc1 down", "database_down"),
        ("switchover", "switchover"),
        ("manual promote", "manual_promote"),
        ("hand back: promotion of dc2 failed at entry 7 (MySQL error 1062: dup)", "hand_back"),
        ("finish promotion", "other"),
        ("", "other"),
    ],
)
def test_owner_change_reasons(reason: str, label: str) -> None:
    assert owner_change_reason(reason) == label


@pytest.mark.parametrize(
    ("code", "exc", "kind"),
    [
        (1045, pymysql.err.OperationalError(1045, "Access denied"), "login_refused"),
        (2003, pymysql.err.OperationalError(2003, "Can't connect"), "unreachable"),
        (2013, pymysql.err.OperationalError(2013, "Lost connection"), "connection_lost"),
        (None, pymysql.err.InterfaceError(0, ""), "connection_lost"),
        (None, ConnectionRefusedError(), "unreachable"),
        (1213, pymysql.err.OperationalError(1213, "Deadlock"), "server_error"),
    ],
)
def test_database_error_kinds(code: int | None, exc: BaseException, kind: str) -> None:
    assert database_error_kind(code, exc) == kind
    assert kind in DATABASE_ERROR_KINDS


def test_store_error_kinds() -> None:
    assert store_error_kind(StoreUnavailableError("x")) == "unavailable"
    assert store_error_kind(CommitOutcomeUnknownError("x")) == "outcome_unknown"
    assert store_error_kind(FencedError("x")) == "other"
    assert {"unavailable", "outcome_unknown", "other"} == set(STORE_ERROR_KINDS)


def test_lag_clock_ages_the_oldest_unapplied_entry() -> None:
    clock = LagClock()
    clock.saw(10.0, 5)
    assert clock.seconds(10.0, 5) == 0.0  # caught up
    clock.saw(11.0, 8)  # entries 6-8 appear at 11
    clock.saw(12.0, 8)  # nothing new
    clock.saw(13.0, 9)
    assert clock.seconds(14.0, 5) == 3.0  # entry 6 first seen at 11
    assert clock.seconds(14.0, 7) == 3.0  # entry 8 too
    assert clock.seconds(14.0, 8) == 1.0  # entry 9 first seen at 13
    assert clock.seconds(14.0, 9) == 0.0


def _value(m: AgentMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_prepare_creates_every_known_counter_at_zero() -> None:
    m = AgentMetrics("dc2")
    m.prepare(["requestdb", "catalogdb"])
    for rng in ("requestdb", "catalogdb"):
        assert _value(m, "mdbc_failovers_total", site="dc2", range=rng) == 0
        for reason in FAILOVER_REASONS:
            labels = {"site": "dc2", "range": rng, "reason": reason}
            assert _value(m, "mdbc_failovers_by_reason_total", **labels) == 0
        for reason in OWNER_CHANGE_REASONS:
            labels = {"site": "dc2", "range": rng, "reason": reason}
            assert _value(m, "mdbc_owner_changes_total", **labels) == 0
    for kind in STORE_ERROR_KINDS:
        assert _value(m, "mdbc_store_errors_total", site="dc2", kind=kind) == 0
    for kind in DATABASE_ERROR_KINDS:
        assert _value(m, "mdbc_database_errors_total", site="dc2", kind=kind) == 0


def test_owner_info_keeps_one_series_per_range() -> None:
    m = AgentMetrics("dc1")
    m.owner_info.labels("dc1", "r").info({"owner": "dc1", "state": "open"})
    m.owner_info.labels("dc1", "r").info({"owner": "dc2", "state": "fenced"})
    lines = [
        line for line in m.exposition().decode().splitlines()
        if line.startswith("mdbc_range_owner_info{")
    ]  # fmt: skip
    assert lines == ['mdbc_range_owner_info{owner="dc2",range="r",site="dc1",state="fenced"} 1.0']


@pytest.fixture()
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    answers: dict[str, Any] = {"health": {"healthy": True}, "live": {"live": True}}
    srv = serve(
        AgentMetrics("dc1"), "127.0.0.1", 0, lambda: answers["health"], lambda: answers["live"]
    )
    try:
        yield f"http://127.0.0.1:{srv.server_port}", answers
    finally:
        srv.shutdown()
        srv.server_close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_live_follows_the_loop_and_health_the_site(server: tuple[str, dict[str, Any]]) -> None:
    base, answers = server
    answers["health"] = {"healthy": False, "database": "down"}
    status, body = _get(base + "/health/live")
    assert status == 200 and json.loads(body) == {"live": True}  # database down: still live
    assert _get(base + "/health")[0] == 503
    answers["live"] = {"live": False, "loop": "stopped"}
    assert _get(base + "/health/live")[0] == 503
    assert _get(base + "/metrics")[0] == 200
    assert _get(base + "/metrics?x=1")[0] == 200
    assert _get(base + "/nothing")[0] == 404
