"""``mdbc sandbox``: an unknown service is bad usage, and its errors never show its password."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from mdbc_py.sandbox import Sandbox, SandboxError


@pytest.mark.parametrize("command", [["kill", "dc9"], ["start", "dc9"], ["down", "dc9"]])
def test_an_unknown_service_is_bad_usage(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(cli, ["sandbox", *command, "--dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "no service 'dc9'" in result.stderr and "Traceback" not in result.output


def test_a_sandbox_error_echoing_the_password_is_withheld(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def failing_down(self: Sandbox, names: list[str] | None = None) -> list[str]:
        seen.append(self.password)
        self.say(f"stopping with {self.password}")
        raise SandboxError(f"could not stop: password {self.password} refused")

    monkeypatch.setattr(Sandbox, "down", failing_down)
    result = CliRunner().invoke(cli, ["sandbox", "down", "--dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    (password,) = seen
    assert password not in result.output
    assert result.stderr.count("withheld") == 2
