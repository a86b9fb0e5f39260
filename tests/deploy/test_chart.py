"""The Helm chart, checked offline: lint, render, Kubernetes schemas, and a config that loads.

Each site of every example values file is rendered with ``helm template`` (one
release per site, as an operator installs it). The manifests are validated
against the Kubernetes schemas kubernetes-validate ships; the rendered
``mdbc.toml`` is read back by ``mdbc_py.config.load`` and the agent's
arguments by the real ``mdbc agent`` option parser, so the chart cannot drift
from the code it deploys.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.agent_cmd import agent as agent_command
from mdbc_py.config import load as load_config
from tests.conftest import unavailable
from tests.deploy.conftest import CHART, REPO, RULES, run, tool

EXAMPLES = sorted((CHART / "examples").glob("*.yaml"))
K8S_VERSIONS = ("1.28.0", "1.33.0")
"""The oldest Kubernetes an ONAP release of today runs on, and a recent one."""

TRICKY_PASSWORD = "p\"w\\d 'x' ö=#{}"
"""Quotes, a backslash, TOML's own punctuation and non-ASCII: must survive rendering."""


def _example_sites(example: Path) -> list[str]:
    return sorted(yaml.safe_load(example.read_text())["sites"])


CASES = [(ex, site) for ex in EXAMPLES for site in _example_sites(ex)]


@pytest.fixture(scope="module")
def helm() -> str:
    return tool("helm")


@pytest.fixture(scope="module")
def passwords(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A values file of passwords for every example site, kept out of the repository."""
    sites = {s for ex in EXAMPLES for s in _example_sites(ex)}
    pw = {s: f"{TRICKY_PASSWORD}-{s}" for s in sorted(sites)}
    path = tmp_path_factory.mktemp("secrets") / "passwords.yaml"
    path.write_text(yaml.safe_dump({"secrets": {"sitePasswords": pw}}))
    return path


def template(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm, "template", "mdbc-test", str(CHART), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def render(helm: str, example: Path, site: str, passwords: Path, *extra: str) -> list[dict]:
    proc = template(helm, "-f", str(example), "-f", str(passwords), "--set", f"site={site}", *extra)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def validate_manifests(docs: list[dict]) -> None:
    """Every manifest but the Prometheus Operator's CRDs (checked on their own) against the
    Kubernetes schemas of each version in ``K8S_VERSIONS``, strictly."""
    try:
        import kubernetes_validate
    except ImportError:  # a failure in CI (MDBC_REQUIRE_SERVICES=1), a skip elsewhere
        unavailable("kubernetes-validate is not installed: run scripts/install-ops-tools")
    for doc in docs:
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{doc['kind']} {doc['metadata']['name']} (k8s {version}): {exc}")


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def rendered_toml(docs: list[dict]) -> str:
    (secret,) = by_kind(docs, "Secret")
    return base64.b64decode(secret["data"]["mdbc.toml"]).decode()


def agent_container(docs: list[dict]) -> dict[str, Any]:
    (deployment,) = by_kind(docs, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_there_is_a_three_site_so_example() -> None:
    assert CHART / "examples" / "so-three-sites.yaml" in EXAMPLES
    values = yaml.safe_load((CHART / "examples" / "so-three-sites.yaml").read_text())
    assert len(values["sites"]) == 3
    assert set(values["ranges"]) == {"catalogdb", "camundabpmn", "requestdb"}


@pytest.mark.parametrize(("example", "site"), CASES, ids=lambda v: getattr(v, "stem", v))
def test_helm_lint(helm: str, example: Path, site: str, passwords: Path) -> None:
    out = run(
        [
            helm,
            "lint",
            "--strict",
            str(CHART),
            "-f",
            str(example),
            "-f",
            str(passwords),
            "--set",
            f"site={site}",
        ]
    )
    assert "0 chart(s) failed" in out


@pytest.mark.parametrize(("example", "site"), CASES, ids=lambda v: getattr(v, "stem", v))
def test_manifests_match_the_kubernetes_schemas(
    helm: str, example: Path, site: str, passwords: Path
) -> None:
    docs = render(helm, example, site, passwords)
    assert {"Secret", "Service", "Deployment", "PodDisruptionBudget"} <= {d["kind"] for d in docs}
    validate_manifests(docs)


@pytest.mark.parametrize(("example", "site"), CASES, ids=lambda v: getattr(v, "stem", v))
def test_rendered_config_loads(
    helm: str, example: Path, site: str, passwords: Path, tmp_path: Path
) -> None:
    values = yaml.safe_load(example.read_text())
    path = tmp_path / "mdbc.toml"
    path.write_text(rendered_toml(render(helm, example, site, passwords)))
    cfg = load_config(path)
    assert cfg.local_site == site
    assert set(cfg.sites) == set(values["sites"])
    assert set(cfg.ranges) == set(values["ranges"])
    for name, s in values["sites"].items():
        assert cfg.sites[name].host == s["host"]
        assert cfg.sites[name].password == f"{TRICKY_PASSWORD}-{name}"
    store = cfg.store
    assert store.backend == "cassandra"
    dcs = {values["sites"][s].get("datacenter", s) for s in values["sites"]}
    rf = values["store"]["replicationFactor"]
    assert dict(store.replication) == {"class": "NetworkTopologyStrategy"} | dict.fromkeys(dcs, rf)
    assert store.local_dc == values["sites"][site].get("datacenter", site)
    assert list(store.contact_points) == values["sites"][site]["storeContactPoints"]


@pytest.mark.parametrize(("example", "site"), CASES, ids=lambda v: getattr(v, "stem", v))
def test_one_agent_per_site_with_options_the_agent_accepts(
    helm: str, example: Path, site: str, passwords: Path
) -> None:
    docs = render(helm, example, site, passwords)
    (deployment,) = by_kind(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    container = agent_container(docs)
    args = container["args"]
    assert args[0] == "agent"
    ctx = agent_command.make_context("agent", list(args[1:]))  # the real option parser
    assert ctx.params["site"] == site
    assert ctx.params["metrics_host"] == "0.0.0.0"
    port = ctx.params["metrics_port"]
    assert container["ports"] == [{"name": "metrics", "containerPort": port, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "metrics"}
    assert container["resources"]["requests"]
    env = {e["name"]: e["value"] for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert env["MDBC_CONFIG"] == f"{mount['mountPath']}/mdbc.toml"
    # scrape annotations name the port the agent serves on
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)


def test_passwords_only_in_the_secret(helm: str, passwords: Path) -> None:
    example = CHART / "examples" / "so-three-sites.yaml"
    proc = template(helm, "-f", str(example), "-f", str(passwords), "--set", "site=dc1")
    assert proc.returncode == 0, proc.stderr
    assert TRICKY_PASSWORD not in proc.stdout  # base64 in the Secret, nowhere in clear
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert not by_kind(docs, "ConfigMap")
    volume = next(
        v for v in by_kind(docs, "Deployment")[0]["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "config"
    )  # fmt: skip
    assert volume["secret"]["secretName"] == by_kind(docs, "Secret")[0]["metadata"]["name"]


def test_an_existing_secret_replaces_the_rendered_one(helm: str) -> None:
    example = CHART / "examples" / "so-three-sites.yaml"
    proc = template(
        helm, "-f", str(example), "--set", "site=dc2", "--set", "config.existingSecret=so-mdbc"
    )
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert not by_kind(docs, "Secret")
    spec = by_kind(docs, "Deployment")[0]["spec"]["template"]["spec"]
    assert spec["volumes"][0]["secret"]["secretName"] == "so-mdbc"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "set `site`"),
        (["--set", "site=dc9"], 'site "dc9" is not one of the configured sites (dc1, dc2, dc3)'),
        (
            ["--set", "site=dc1", "--set", "proxy.enabled=true", "--set", "proxy.mode=migrate"],
            'proxy.mode "migrate": mdbc proxy supports master-slave',
        ),
        (
            ["--set", "site=dc1", "--set", "proxy.enabled=true", "--set", "proxy.drainSeconds=60"],
            "proxy.terminationGracePeriodSeconds 30 is too short",
        ),
        (
            ["--set", "site=dc1", "--set", "ranges.requestdb.initialOwner=dc7"],
            'ranges.requestdb.initialOwner "dc7" is not one of the configured sites',
        ),
        (
            ["--set", "site=dc1", "--set", "sites.dc1.storeContactPoints=null"],
            "no Cassandra contact points",
        ),
        (["--set", "site=dc1", "--set", "sites.dc-4.host=h"], 'site name "dc-4"'),
        (["--set", "site=dc1", "--set", "store.username=so"], "secrets.storePassword is required"),
    ],
)
def test_bad_values_are_refused_with_a_clear_error(
    helm: str, passwords: Path, args: list[str], message: str
) -> None:
    example = CHART / "examples" / "so-three-sites.yaml"
    proc = template(helm, "-f", str(example), "-f", str(passwords), *args)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_a_missing_password_is_refused_by_name(helm: str) -> None:
    example = CHART / "examples" / "so-three-sites.yaml"
    proc = template(helm, "-f", str(example), "--set", "site=dc2")
    assert proc.returncode != 0
    assert "secrets.sitePasswords.dc1 is required (or use config.existingSecret)" in proc.stderr


def test_monitoring_resources_match_the_service_and_the_rules(helm: str, passwords: Path) -> None:
    example = CHART / "examples" / "so-three-sites.yaml"
    assert not by_kind(render(helm, example, "dc3", passwords), "PrometheusRule")
    docs = render(helm, example, "dc3", passwords, "--set", "metrics.prometheusRule.enabled=true")
    (rule,) = by_kind(docs, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    (monitor,) = by_kind(docs, "ServiceMonitor")
    (service,) = by_kind(docs, "Service")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}
    pod_labels = by_kind(docs, "Deployment")[0]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    pdb_selector = by_kind(docs, "PodDisruptionBudget")[0]["spec"]["selector"]["matchLabels"]
    assert pdb_selector.items() <= pod_labels.items()


def test_init_job_is_an_optional_hook(helm: str, passwords: Path) -> None:
    example = CHART / "examples" / "so-three-sites.yaml"
    assert not by_kind(render(helm, example, "dc1", passwords), "Job")
    (job,) = by_kind(render(helm, example, "dc1", passwords, "--set", "init.enabled=true"), "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["init"]


def test_yamllint(helm: str, passwords: Path, tmp_path: Path) -> None:
    yamllint = tool("yamllint")
    for example, site in CASES:
        proc = template(helm, "-f", str(example), "-f", str(passwords), "--set", f"site={site}")
        assert proc.returncode == 0, proc.stderr
        (tmp_path / f"{example.stem}-{site}.yaml").write_text(proc.stdout)
    config = str(REPO / "deploy" / "yamllint.yml")
    run([yamllint, "--strict", "-c", config, "deploy", "docker-compose.yml"], cwd=REPO)
    run([yamllint, "--strict", "-c", config, str(tmp_path)])
