"""The chart with ``proxy.enabled``: the proxy's Deployment, Service and monitoring.

Rendered with ``helm template`` for every site of every example, validated
against the Kubernetes schemas, and the container's arguments parsed by the
real ``mdbc proxy`` option parser, so the chart cannot ask the proxy for an
option it does not have, or probe a port it does not serve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.proxy_cmd import parse_listen
from cli.proxy_cmd import proxy as proxy_command
from tests.deploy.conftest import CHART, REPO, run, tool
from tests.deploy.test_chart import CASES, by_kind, render, template, validate_manifests

ON = ("--set", "proxy.enabled=true")


@pytest.fixture(scope="module")
def helm() -> str:
    return tool("helm")


@pytest.fixture(scope="module")
def passwords(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "passwords.yaml"
    pw = {s: f"pw-{s}" for _, s in CASES}
    path.write_text(yaml.safe_dump({"secrets": {"sitePasswords": pw}}))
    return path


def component(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [
        d for d in by_kind(docs, kind) if d["metadata"]["labels"].get(
            "app.kubernetes.io/component") == name
    ]  # fmt: skip
    return doc


def test_off_by_default(helm: str, passwords: Path) -> None:
    example, site = CASES[0]
    docs = render(helm, example, site, passwords)
    assert not [d for d in docs if d["metadata"]["name"].endswith("-proxy")]


@pytest.mark.parametrize(("example", "site"), CASES, ids=lambda v: getattr(v, "stem", v))
def test_proxy_manifests_match_the_kubernetes_schemas(
    helm: str, example: Path, site: str, passwords: Path
) -> None:
    docs = render(helm, example, site, passwords, *ON)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("Deployment", "mdbc-test-proxy"), ("Service", "mdbc-test-proxy"),
            ("PodDisruptionBudget", "mdbc-test-proxy")} <= names  # fmt: skip
    validate_manifests(docs)


@pytest.mark.parametrize(("example", "site"), CASES, ids=lambda v: getattr(v, "stem", v))
def test_proxy_options_ports_and_probes_are_the_proxys_own(
    helm: str, example: Path, site: str, passwords: Path
) -> None:
    docs = render(helm, example, site, passwords, *ON)
    deployment = component(docs, "Deployment", "proxy")
    values = yaml.safe_load((CHART / "values.yaml").read_text())["proxy"]
    assert deployment["spec"]["replicas"] == values["replicas"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    args = container["args"]
    assert args[0] == "proxy"
    ctx = proxy_command.make_context("proxy", list(args[1:]))  # the real option parser
    assert ctx.params["site"] == site
    host, port = parse_listen(ctx.params["listen"])
    metrics_host, metrics_port = parse_listen(ctx.params["metrics_listen"])
    assert (host, metrics_host) == ("0.0.0.0", "0.0.0.0")  # reachable from the Service
    assert (port, metrics_port) == (values["port"], values["metricsPort"])
    assert ctx.params["drain_seconds"] == values["drainSeconds"]
    assert container["ports"] == [
        {"name": "mysql", "containerPort": port, "protocol": "TCP"},
        {"name": "metrics", "containerPort": metrics_port, "protocol": "TCP"},
    ]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "metrics"}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert (env["MDBC_SITE"], env["MDBC_MODE"]) == (site, "master-slave")
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert env["MDBC_CONFIG"] == f"{mount['mountPath']}/mdbc.toml"
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    sleep = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert grace >= sleep + ctx.params["drain_seconds"] + 5  # open transactions may finish
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(metrics_port)

    service = component(docs, "Service", "proxy")
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert {(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {
        ("mysql", port, "mysql"),
        ("metrics", metrics_port, "metrics"),
    }
    agent = component(docs, "Deployment", "agent")["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= agent.items()  # never the agent's pod
    pdb = component(docs, "PodDisruptionBudget", "proxy")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


def test_one_replica_has_no_disruption_budget_and_monitoring_follows(
    helm: str, passwords: Path
) -> None:
    example, site = CASES[0]
    docs = render(helm, example, site, passwords, *ON, "--set", "proxy.replicas=1",
                  "--set", "metrics.serviceMonitor.enabled=true")  # fmt: skip
    assert not [d for d in by_kind(docs, "PodDisruptionBudget") if "proxy" in d["metadata"]["name"]]
    monitors = {d["metadata"]["name"]: d for d in by_kind(docs, "ServiceMonitor")}
    monitor = monitors["mdbc-test-proxy"]
    service = component(docs, "Service", "proxy")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    agent_monitor = monitors["mdbc-test-agent"]["spec"]["selector"]["matchLabels"]
    assert not agent_monitor.items() <= service["metadata"]["labels"].items()


def test_the_ports_must_differ(helm: str, passwords: Path) -> None:
    example, site = CASES[0]
    proc = template(helm, "-f", str(example), "-f", str(passwords), "--set", f"site={site}", *ON,
                    "--set", "proxy.metricsPort=3306")  # fmt: skip
    assert proc.returncode != 0
    assert "proxy.port and proxy.metricsPort are both 3306" in proc.stderr


@pytest.mark.parametrize("mode", ["route", "master-slave"])
def test_the_proxy_runs_in_either_of_its_modes(helm: str, passwords: Path, mode: str) -> None:
    example, site = CASES[0]
    docs = render(helm, example, site, passwords, *ON, "--set", f"proxy.mode={mode}")
    (container,) = component(docs, "Deployment", "proxy")["spec"]["template"]["spec"]["containers"]
    assert {e["name"]: e.get("value") for e in container["env"]}["MDBC_MODE"] == mode


def test_lint_and_yamllint_with_the_proxy(helm: str, passwords: Path, tmp_path: Path) -> None:
    yamllint = tool("yamllint")
    for example, site in CASES:
        out = run([helm, "lint", "--strict", str(CHART), "-f", str(example), "-f", str(passwords),
                   "--set", f"site={site}", *ON])  # fmt: skip
        assert "0 chart(s) failed" in out
        proc = template(helm, "-f", str(example), "-f", str(passwords), "--set", f"site={site}",
                        *ON)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        (tmp_path / f"{example.stem}-{site}.yaml").write_text(proc.stdout)
    run([yamllint, "--strict", "-c", str(REPO / "deploy" / "yamllint.yml"), str(tmp_path)])
