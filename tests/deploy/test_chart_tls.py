"""The chart's TLS values: [sites.NAME.tls] and [store.tls] in mdbc.toml, the PEM Secret
mounted where those paths point, and the proxy's listener options."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from cli.proxy_cmd import proxy as proxy_command
from mdbc_py.config import load
from tests.deploy.test_chart import (
    CASES,
    by_kind,
    render,
    rendered_toml,
    template,
    validate_manifests,
)
from tests.deploy.test_chart_proxy import component, helm, passwords  # noqa: F401 (fixtures)

MOUNT = "/etc/mdbc-tls"
ALL_ON = (
    "--set", "proxy.enabled=true",
    "--set", "tls.secretName=mdbc-tls",
    "--set", "tls.mariadb.enabled=true",
    "--set", "tls.mariadb.cert=client.crt",
    "--set", "tls.mariadb.key=client.key",
    "--set", "tls.store.enabled=true",
    "--set", "tls.store.checkHostname=false",
    "--set", "tls.proxy.enabled=true",
    "--set", "tls.proxy.clientCA=clients-ca.crt",
    "--set", "tls.proxy.required=true",
)  # fmt: skip


@pytest.fixture(scope="module")
def all_on(helm: str, passwords: Path) -> list[dict]:  # noqa: F811
    """The first example's manifests with every TLS value on, rendered once for the module."""
    example, site = CASES[0]
    return render(helm, example, site, passwords, *ALL_ON)


def test_off_by_default(helm: str, passwords: Path) -> None:  # noqa: F811
    example, site = CASES[0]
    docs = render(helm, example, site, passwords, "--set", "proxy.enabled=true")
    assert "tls" not in tomllib.loads(rendered_toml(docs))["store"]
    for doc in by_kind(docs, "Deployment"):
        assert "tls" not in {v["name"] for v in doc["spec"]["template"]["spec"]["volumes"]}
    args = component(docs, "Deployment", "proxy")["spec"]["template"]["spec"]["containers"][0]
    assert not [a for a in args["args"] if a.startswith("--tls")]


def test_the_rendered_tls_tables_load_as_mdbc_reads_them(
    all_on: list[dict], tmp_path: Path
) -> None:
    text = rendered_toml(all_on)
    for name in ("ca.crt", "client.crt", "client.key"):  # what the Secret would hold
        (tmp_path / name).write_text("PEM\n")
    config = tmp_path / "mdbc.toml"
    config.write_text(text.replace(MOUNT, str(tmp_path)))
    cfg = load(config)  # the real loader: keys known, files present
    for name in cfg.sites:
        tls = cfg.site(name).tls
        assert tls is not None
        assert (tls.ca, tls.cert, tls.key) == tuple(
            str(tmp_path / n) for n in ("ca.crt", "client.crt", "client.key")
        )
        assert tls.check_hostname
    store_tls = tomllib.loads(text)["store"]["tls"]
    assert store_tls == {"ca": f"{MOUNT}/ca.crt", "check_hostname": False}


def test_every_pod_mounts_the_secret_where_the_paths_point(
    all_on: list[dict], tmp_path: Path
) -> None:
    pods = [d["spec"]["template"]["spec"] for d in all_on if d["kind"] in ("Deployment", "Job")]
    assert len(pods) >= 2
    for pod in pods:
        (volume,) = [v for v in pod["volumes"] if v["name"] == "tls"]
        assert volume["secret"]["secretName"] == "mdbc-tls"
        for container in pod["containers"]:
            (mount,) = [m for m in container["volumeMounts"] if m["name"] == "tls"]
            assert (mount["mountPath"], mount["readOnly"]) == (MOUNT, True)
    proxy = component(all_on, "Deployment", "proxy")
    container = proxy["spec"]["template"]["spec"]["containers"][0]
    for name in ("tls.crt", "tls.key", "clients-ca.crt"):  # the real parser wants the files
        (tmp_path / name).write_text("PEM\n")
    args = [a.replace(MOUNT, str(tmp_path)) for a in container["args"][1:]]
    ctx = proxy_command.make_context("proxy", args)
    assert ctx.params["tls_cert"] == str(tmp_path / "tls.crt")
    assert ctx.params["tls_key"] == str(tmp_path / "tls.key")
    assert ctx.params["tls_client_ca"] == str(tmp_path / "clients-ca.crt")
    assert ctx.params["tls_required"] is True


def test_tls_without_its_secret_is_refused(helm: str, passwords: Path) -> None:  # noqa: F811
    example, site = CASES[0]
    proc = template(helm, "-f", str(example), "-f", str(passwords), "--set", f"site={site}",
                    "--set", "tls.mariadb.enabled=true")  # fmt: skip
    assert proc.returncode != 0
    assert "tls.secretName is required" in proc.stderr


def test_tls_manifests_match_the_kubernetes_schemas(all_on: list[dict]) -> None:
    validate_manifests(all_on)
