"""The Grafana dashboard: generated from the agent's metrics, current, and valid PromQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from mdbc_py.ops import dashboard
from mdbc_py.ops.metric_names import agent_families, agent_series
from tests.deploy.conftest import DEPLOY, run, tool

DASHBOARD = DEPLOY / "grafana" / "mdbc.json"
SERIES = re.compile(r"\bmdbc_[a-z0-9_]+\b")


def _expressions() -> list[str]:
    model = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in model["panels"] for t in p["targets"]]
    exprs += [
        v["query"]["query"]
        for v in model["templating"]["list"]
        if "query" in v and isinstance(v["query"], dict)
    ]
    return exprs


def test_committed_dashboard_is_what_the_code_generates() -> None:
    assert DASHBOARD.read_text() == dashboard.render(), (
        "deploy/grafana/mdbc.json is out of date: run python -m mdbc_py.ops.dashboard "
        "deploy/grafana/mdbc.json"
    )


def test_every_expression_names_an_exported_series() -> None:
    exported = agent_series()
    for expr in _expressions():
        named = set(SERIES.findall(expr))
        assert named, f"{expr!r} names no mdbc series"
        assert named <= exported, f"{expr!r} names unknown series {named - exported}"


def test_every_metric_has_a_panel() -> None:
    shown = {s for expr in _expressions() for s in SERIES.findall(expr)}
    assert {f.main_sample for f in agent_families()} <= shown


def test_expressions_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses each panel's query (Grafana's variables replaced by plain values)."""
    model = json.loads(DASHBOARD.read_text())
    rules = []
    for p in model["panels"]:
        for t in p["targets"]:
            expr = t["expr"].replace("$__rate_interval", "5m")
            expr = expr.replace("$site", ".*").replace("$range", ".*")
            rules.append({"record": f"panel:{p['id']}:{t['refId']}", "expr": expr})
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    out = run([tool("promtool"), "check", "rules", str(path)])
    assert f"SUCCESS: {len(rules)} rules found" in out
