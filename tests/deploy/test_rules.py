"""The Prometheus alert rules: valid, unit-tested by promtool, and naming only real series."""

from __future__ import annotations

import re

import yaml

from mdbc_py.ops.metric_names import agent_series
from tests.deploy.conftest import CHART, RULES, RULES_TEST, run, tool

REQUIRED_ALERTS = {
    "MdbcRangeWithoutOwner",
    "MdbcOwnerFlapping",
    "MdbcReplicaLagHigh",
    "MdbcNeedsResync",
    "MdbcReplicaStalled",
    "MdbcStoreDown",
    "MdbcFailover",
}
"""The alerts the operator guide promises (issue: no owner, flapping, lag, needs-resync,
store down, a failover happened)."""

SINGLE_SITE_SERIES = {"mdbc_lease_remaining_seconds", "mdbc_range_owner_info"}
"""What the range-wide alerts read: series every agent exports for every range."""

SERIES = re.compile(r"\bmdbc_[a-z0-9_]+\b")


def _rules() -> list[dict]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_promtool_checks_the_rules() -> None:
    out = run([tool("promtool"), "check", "rules", str(RULES)])
    assert f"SUCCESS: {len(_rules())} rules found" in out


def test_promtool_unit_tests_pass() -> None:
    out = run([tool("promtool"), "test", "rules", RULES_TEST.name], cwd=RULES_TEST.parent)
    assert "SUCCESS" in out


def test_every_alert_has_a_case_where_it_fires() -> None:
    """A rule without a firing case could be dead (a wrong name matches nothing, silently)."""
    tests = yaml.safe_load(RULES_TEST.read_text())["tests"]
    fired = {
        case["alertname"]
        for t in tests
        for case in t.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    alerts = {r["alert"] for r in _rules()}
    assert alerts >= REQUIRED_ALERTS
    assert alerts - fired == set(), "alerts without a firing unit test"


def test_rules_name_only_series_the_agent_exports() -> None:
    exported = agent_series()
    for rule in _rules():
        named = set(SERIES.findall(rule["expr"]))
        assert named, f"{rule['alert']} names no mdbc series"
        assert named <= exported, f"{rule['alert']} names unknown series {named - exported}"
    # and the unit tests feed only real series too
    for t in yaml.safe_load(RULES_TEST.read_text())["tests"]:
        for s in t["input_series"]:
            name = s["series"].split("{", 1)[0]
            assert name in exported, f"test {t['name']!r} feeds unknown series {name}"


def test_the_chart_ships_the_same_rules() -> None:
    copy = CHART / "files" / "mdbc-rules.yml"
    assert copy.read_text() == RULES.read_text(), f"{copy} differs from {RULES}: copy it again"


def test_range_wide_alerts_need_no_view_of_other_sites() -> None:
    """No owner and needs-resync read series each agent reports for every range (issue gap:
    a site's own Prometheus could not tell "no owner" from "owned elsewhere")."""
    rules = {r["alert"]: r["expr"] for r in _rules()}
    assert set(SERIES.findall(rules["MdbcRangeWithoutOwner"])) == SINGLE_SITE_SERIES
    assert "mdbc_is_owner" not in rules["MdbcRangeWithoutOwner"]
    assert SERIES.findall(rules["MdbcNeedsResync"]) == ["mdbc_needs_resync"]
    assert "mdbc_needs_resync" in rules["MdbcReplicaStalled"]
