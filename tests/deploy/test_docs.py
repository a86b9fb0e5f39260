"""docs/operations.md stays true: generated parts current, commands and names real."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from cli.main import cli
from mdbc_py.ops import reference
from tests.deploy.conftest import CHART, REPO, RULES

DOC = REPO / "docs" / "operations.md"


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_generated_references_are_current(text: str) -> None:
    assert reference.render(text) == text, (
        "docs/operations.md is out of date: run python -m mdbc_py.ops.reference docs/operations.md"
    )
    assert text.count("<!-- BEGIN GENERATED:") == len(reference.SECTIONS)


def test_every_config_key_has_a_meaning() -> None:
    missing = [
        f"{table} {key}"
        for table, keys in reference.KEYS.items()
        for key in keys
        if key not in reference.MEANINGS.get(table, {})
    ]
    assert not missing, f"describe these keys in mdbc_py/ops/reference.py MEANINGS: {missing}"
    assert reference.UNDESCRIBED not in reference.config_reference()


def test_every_mdbc_command_in_the_guide_parses(text: str) -> None:
    """Each `mdbc ...` line of a code block is accepted by the real CLI's parser."""
    commands, lang = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("```"):
            lang = None if lang is not None else (line[3:] or "text")
            continue
        if lang in ("sh", "bash"):
            m = re.search(r"(?:^|-- )(mdbc (?!\.|_).*)$", line.split(" #", 1)[0].strip())
            if m:
                commands.append(m.group(1))
    assert len(commands) >= 12
    for command in commands:
        words = shlex.split(re.sub(r"\[(--[a-z-]+)\]", r"\1", command))[1:]
        sub = cli.commands.get(words[0])
        assert sub is not None, f"{command}: no such command"
        try:
            sub.make_context(words[0], words[1:])
        except Exception as exc:
            pytest.fail(f"{command!r} does not parse: {exc}")


def test_every_alert_is_in_the_table_and_exists(text: str) -> None:
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    listed = set(re.findall(r"^\| (Mdbc\w+) \|", text, re.M))
    assert listed == alerts


def _value(values: dict[str, Any], dotted: str) -> bool:
    node: Any = values
    for part in dotted.split("."):
        if part == "NAME" and isinstance(node, dict):
            return True  # a per-site or per-range key: the example shows it
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_chart_values_named_in_the_guide_exist(text: str) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    roots = ("agent", "pdb", "metrics", "init", "config", "store", "secrets", "image", "proxy")
    named = set(re.findall(rf"`((?:{'|'.join(roots)})\.[A-Za-z.]+)`", text))
    named |= {f"agent.{k}" for k in re.findall(r"`agent\.\*`.*?\(`(\w+)`\)", text)}
    assert len(named) >= 10
    unknown = sorted(n for n in named if not _value(values, n))
    # store.* in the configuration reference are mdbc.toml keys, not chart values
    unknown = [n for n in unknown if not n.startswith(("store.tls", "store.keyspace"))]
    assert not unknown, f"the guide names chart values that do not exist: {unknown}"


def test_relative_links_resolve(text: str) -> None:
    for target in re.findall(r"\]\((\.\./[^)#]+)\)", text):
        assert (DOC.parent / target).resolve().exists(), target
    anchors = set(re.findall(r"\]\(#([a-z0-9-]+)\)", text))
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", text, re.M)
    }
    assert anchors <= headings, anchors - headings
