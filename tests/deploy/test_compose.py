"""docker-compose.yml agrees with deploy/: files, services, ports, grants and no passwords.

No Docker engine runs here, so the file is checked by reading it: every file it
mounts exists, every host name and port in its mdbc.toml and Prometheus
configuration is one of its services, the agents' arguments parse with the real
``mdbc agent``, Cassandra's startup edit really turns ``commitlog_sync`` to
``batch``, and no password is committed.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.agent_cmd import agent as agent_command
from mdbc_py.config import load as load_config
from tests.deploy.conftest import DEPLOY, REPO, run, tool

COMPOSE = REPO / "docker-compose.yml"
MDBC_TOML = DEPLOY / "compose" / "mdbc.toml"
ENV_EXAMPLE = DEPLOY / "compose" / "compose.env.example"
GRANTS = DEPLOY / "grant-mdbc.sql"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"

CASSANDRA_DEFAULTS = """\
# the lines of the cassandra image's default cassandra.yaml the edit must change
commitlog_sync: periodic
commitlog_sync_period: 10000ms
# commitlog_sync_batch_window_in_ms: 2
commitlog_segment_size: 32MiB
"""


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> repository path of each bind mount."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        assert source.startswith("./"), f"{volume}: only bind mounts of repository files"
        found[target] = REPO / source
    return found


def test_every_mounted_file_and_build_context_exists(compose: dict[str, Any]) -> None:
    for name, svc in services(compose).items():
        for target, source in mounts(svc).items():
            assert source.is_file(), f"service {name} mounts {source}, which does not exist"
            assert target.startswith("/"), target
        if "build" in svc:
            assert (REPO / svc["build"] / "Dockerfile").is_file()
        for dep in svc.get("depends_on", {}):
            assert dep in services(compose), f"{name} depends on unknown service {dep}"


def test_mdbc_containers_run_the_entrypoint_they_mount(compose: dict[str, Any]) -> None:
    mdbc_services = [s for s in services(compose).values() if s.get("build")]
    assert len(mdbc_services) >= 3  # the tools container and one agent per site
    for svc in mdbc_services:
        script = svc["entrypoint"][-1]
        assert mounts(svc)[script] == DEPLOY / "compose" / "entrypoint.py"
        assert mounts(svc)["/etc/mdbc/mdbc.toml"] == MDBC_TOML


def test_config_names_the_compose_services(compose: dict[str, Any]) -> None:
    cfg = load_config(MDBC_TOML)
    names = set(services(compose))
    for site in cfg.sites.values():
        assert site.host in names, f"site {site.name}: host {site.host} is no service"
        assert site.port == 3306  # the mariadb image's port
        assert site.password == "", "deploy/compose/mdbc.toml must hold no password"
        assert f"agent-{site.name}" in names, f"no agent service for site {site.name}"
    for point in cfg.store.contact_points:
        assert point in names
    assert cfg.store.port == 9042
    assert cfg.store.replication["class"] == "NetworkTopologyStrategy"
    dc = services(compose)["cassandra"]["environment"]["CASSANDRA_DC"]
    assert set(cfg.store.replication) - {"class"} == {dc}
    assert cfg.store.local_dc == dc


def test_agents_run_their_site_with_real_options_and_are_scraped(
    compose: dict[str, Any],
) -> None:
    cfg = load_config(MDBC_TOML)
    prometheus = yaml.safe_load(PROMETHEUS.read_text())
    targets = {
        t
        for job in prometheus["scrape_configs"]
        for sc in job["static_configs"]
        for t in sc["targets"]
    }
    scraped = set()
    for name, svc in services(compose).items():
        if not name.startswith("agent-"):
            continue
        args = svc["command"]
        assert args[0] == "agent"
        params = agent_command.make_context("agent", list(args[1:])).params
        assert params["site"] == name.removeprefix("agent-")
        assert params["site"] in cfg.sites
        assert params["metrics_host"] == "0.0.0.0"  # reachable from the prometheus container
        scraped.add(f"{name}:{params['metrics_port']}")
    assert scraped == targets


def test_prometheus_config_and_its_rules_are_valid(compose: dict[str, Any]) -> None:
    prom = services(compose)["prometheus"]
    assert ":latest" not in prom["image"]
    mounted = mounts(prom)
    assert mounted["/etc/prometheus/prometheus.yml"] == PROMETHEUS
    for rule_file in yaml.safe_load(PROMETHEUS.read_text())["rule_files"]:
        assert mounted[f"/etc/prometheus/{rule_file}"] == PROMETHEUS.parent / rule_file
    out = run([tool("promtool"), "check", "config", str(PROMETHEUS)])
    assert "SUCCESS" in out


def test_cassandra_starts_with_commitlog_sync_batch(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    cassandra = services(compose)["cassandra"]
    assert cassandra["entrypoint"] == ["bash", "-c"]
    script = cassandra["command"][0]
    edit, start = script.split("&& exec", 1)
    assert "docker-entrypoint.sh cassandra -f" in start
    conf = tmp_path / "cassandra.yaml"
    conf.write_text(CASSANDRA_DEFAULTS)
    subprocess.run(
        ["bash", "-c", edit.replace("/etc/cassandra/cassandra.yaml", str(conf))], check=True
    )
    settings = yaml.safe_load(conf.read_text())
    assert settings["commitlog_sync"] == "batch"
    assert "commitlog_sync_period" not in settings  # Cassandra refuses it with batch
    assert settings["commitlog_segment_size"] == "32MiB"


def test_passwords_come_only_from_the_uncommitted_env_file(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text()
    used = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert re.findall(r"\$\{([A-Z_]+)", text) == re.findall(r"\$\{([A-Z_]+):\?", text), (
        "every variable is required (${VAR:?...}), none silently empty"
    )
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(example) == used
    assert all(v == "" for v in example.values()), "the example holds no password"
    for name, svc in services(compose).items():
        for key, value in (svc.get("environment") or {}).items():
            if "PASSWORD" in key:
                assert str(value).startswith("${"), f"{name}: {key} is written in the file"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(DEPLOY / "compose" / "compose.env")], cwd=REPO
    )
    assert ignored.returncode == 0, "git must ignore deploy/compose/compose.env"
    assert "IDENTIFIED BY" not in GRANTS.read_text().upper()
    assert "password" not in tomllib.loads(MDBC_TOML.read_text())["sites"]["dc1"]


def test_grants_are_the_least_the_readme_lists() -> None:
    sql = re.sub(r"--[^\n]*", "", GRANTS.read_text())
    assert "ALL" not in sql.upper().replace("ALTER", "").split(), "no ALL PRIVILEGES"
    assert "GRANT OPTION" not in sql.upper()
    grants = {
        m.group(2): {p.strip().upper() for p in re.split(r",\s*", m.group(1))}
        for m in re.finditer(r"GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s+'mdbc'@'%'", sql, re.S)
    }
    cfg = load_config(MDBC_TOML)
    for rng in cfg.ranges.values():
        assert {"SELECT", "INSERT", "UPDATE", "DELETE", "TRIGGER"} <= grants[f"`{rng.database}`.*"]
    # README ("Using the driver"): the stage databases, exactly these
    assert grants[r"`mdbc\_stage\_%`.*"] == {
        "SELECT",
        "INSERT",
        "DELETE",
        "CREATE",
        "DROP",
        "ALTER",
        "LOCK TABLES",
    }
    assert grants["*.*"] == {"READ_ONLY ADMIN"}  # replay through read_only, nothing else global
    assert "`mdbc`.*" in grants


def test_entrypoint_adds_the_password_without_changing_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "entrypoint", DEPLOY / "compose" / "entrypoint.py"
    )
    assert spec and spec.loader
    entrypoint = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entrypoint)
    password = "a\"b\\c ' #=x"
    template = load_config(MDBC_TOML)
    from mdbc_py.config import save

    target = save(entrypoint.with_password(template, password), tmp_path / "mdbc.toml")
    assert target.stat().st_mode & 0o077 == 0
    cfg = load_config(target)
    assert {s.password for s in cfg.sites.values()} == {password}
    assert cfg.store == template.store
    assert cfg.ranges == template.ranges
    assert cfg.mode == template.mode
    monkeypatch.delenv("MDBC_DB_PASSWORD", raising=False)
    with pytest.raises(SystemExit, match="MDBC_DB_PASSWORD is not set"):
        entrypoint.main(["status"])
