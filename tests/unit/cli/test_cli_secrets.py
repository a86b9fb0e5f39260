"""No CLI output ever shows a configured password, whatever an error passed up says."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest
from click.testing import CliRunner

from cli import admin_cmds
from cli.common import safe
from cli.health import probe_site
from cli.main import cli
from mdbc_py.config import SiteConfig
from mdbc_py.errors import OperationalError

SECRET = "S1te-Passw0rd-Long"
STORE_SECRET = "St0re-Passw0rd"

CONFIG = f"""
[store]
backend = "cassandra"
contact_points = ["127.0.0.254"]
username = "cassandra"
password = "{STORE_SECRET}"

[sites.dc1]
port = 1
password = "{SECRET}"

[ranges.r1]
database = "r1"
"""


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mdbc.toml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize("secret", [SECRET, STORE_SECRET])
def test_an_error_echoing_a_password_is_withheld(
    config: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    def leaky_store(*_: object, **__: object) -> None:
        raise OperationalError(2003, f"cannot connect with password {secret}")

    monkeypatch.setattr(admin_cmds, "open_store", leaky_store)
    result = CliRunner().invoke(cli, ["pause", "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert "OperationalError: (message withheld: it contains a configured password)" in (
        result.stderr
    )
    assert secret not in result.output


def test_safe_passes_text_without_passwords(config: Path) -> None:
    CliRunner().invoke(cli, ["history", "-c", str(config)])  # loads the config
    assert safe("store unreachable") == "store unreachable"
    assert SECRET not in safe(f"x {SECRET} y")


def test_the_status_probe_withholds_a_message_that_echoes_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = SiteConfig("dc1", "127.0.0.1", 1, "mdbc", "a")  # short: masking would give it away

    def echoing_connect(**kwargs: object) -> None:
        raise pymysql.err.OperationalError(1045, f"denied for password {kwargs['password']}")

    monkeypatch.setattr(pymysql, "connect", echoing_connect)
    why = probe_site(site)
    assert why is not None and "details withheld" in why
    assert "denied" not in why
