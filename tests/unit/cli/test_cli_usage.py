"""Bad usage exits 2 with one clear line, the same way for every command.

A missing or invalid configuration file and an unknown site or range are
bad usage. None of these cases reaches a database or the store: the
configuration names a store nobody listens on, so a command that tried to
open it would fail differently (exit 1 after a timeout), not pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli

SECRET = "pw-N0t-Printed"

VALID = f"""
[store]
backend = "cassandra"
contact_points = ["127.0.0.254"]
port = 1

[sites.dc1]
port = 1
password = "{SECRET}"

[sites.dc2]
port = 2
password = "{SECRET}"

[ranges.r1]
database = "r1"
initial_owner = "dc1"
"""

COMMANDS = [
    ["status"],
    ["promote", "r1", "--site", "dc2"],
    ["switchover", "r1", "--to", "dc2"],
    ["pause"],
    ["resume"],
    ["history"],
    ["log", "r1"],
    ["resync", "--site", "dc2"],
    ["verify"],
    ["init"],
    ["agent", "--site", "dc1"],
]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mdbc.toml"
    path.write_text(VALID)
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_missing_config_file_is_bad_usage_for_every_command(
    tmp_path: Path, command: list[str]
) -> None:
    result = run(*command, "-c", str(tmp_path / "absent.toml"))
    assert result.exit_code == 2, result.output
    assert "no mdbc configuration at" in _one_line(result)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_malformed_config_file_is_bad_usage_for_every_command(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'[sites.dc1\npassword = "{SECRET}"\n')
    result = run(*command, "-c", str(path))
    assert result.exit_code == 2, result.output
    assert "not valid TOML" in _one_line(result)
    assert SECRET not in result.output


def test_an_unknown_key_is_bad_usage_and_never_shows_values(tmp_path: Path) -> None:
    path = tmp_path / "mdbc.toml"
    path.write_text(VALID.replace("password =", "pasword ="))
    result = run("status", "-c", str(path))
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "[sites.dc1]: unknown key 'pasword' (did you mean 'password'?)" in line
    assert SECRET not in result.output


def test_a_missing_config_file_exits_2_with_one_line_from_the_console(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "resync", "--site", "dc1", "-c", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("command", "hint"),
    [
        (["promote", "r1", "--site", "dc9"], "--site"),
        (["switchover", "r1", "--to", "dc9"], "--to"),
        (["resync", "--site", "dc9"], "--site"),
        (["verify", "--site", "dc9"], "--site"),
        (["agent", "--site", "dc9"], "--site"),
    ],
    ids=lambda c: c[0] if isinstance(c, list) else c,
)
def test_an_unknown_site_is_bad_usage_for_every_command(
    config: Path, command: list[str], hint: str
) -> None:
    result = run(*command, "-c", str(config))
    assert result.exit_code == 2, result.output
    assert "unknown site 'dc9'" in result.stderr and hint in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["promote", "r9", "--site", "dc2"],
        ["switchover", "r9", "--to", "dc2"],
        ["history", "r9"],
        ["log", "r9"],
        ["resync", "--site", "dc2", "--range", "r9"],
        ["verify", "r9"],
    ],
    ids=lambda c: c[0],
)
def test_an_unknown_range_is_bad_usage(config: Path, command: list[str]) -> None:
    result = run(*command, "-c", str(config))
    assert result.exit_code == 2, result.output
    assert "unknown range 'r9'" in result.stderr


def test_help_documents_the_exit_codes() -> None:
    result = run("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "0 success" in text and "2 bad usage" in text and "unreachable" in text
