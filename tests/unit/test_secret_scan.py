"""The secret scan finds each sandbox secret wherever a run could have written it.

A scan that passes must mean something: these tests plant the secrets of a
made-up secure sandbox (its passwords, lines of its private keys) in the
ways a leak would look (a log line, an escaped JSON string, across the
boundary of two read chunks) and check the scan names file and secret, and
only those; that the places a sandbox keeps them by design are not
reported; and that a folder with too little in it fails the scan.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mdbc_py.sandbox.certs import ensure_certificates
from mdbc_py.sandbox.config_file import write_config
from mdbc_py.sandbox.state import SandboxState
from tests import secret_scan
from tests.output_record import recording

FILLER = ("an ordinary log line of a test run, nothing to hide in it\n" * 20_000).encode()


def _sandbox(folder: Path, secure: bool = True) -> SandboxState:
    state = SandboxState(directory=str(folder), secure=secure)
    state.save()
    write_config(folder / "mdbc.toml", state)
    if secure:
        ensure_certificates(folder / "tls", ["127.0.0.1"])
    return state


@pytest.fixture()
def run(tmp_path: Path) -> tuple[Path, SandboxState]:
    """A run's folder: a secure sandbox, a plain one, and 1.2 MB of harmless logs."""
    state = _sandbox(tmp_path / "tmp" / "sandbox-secure0")
    _sandbox(tmp_path / "tmp" / "plain0", secure=False)
    (tmp_path / "pytest.log").write_bytes(FILLER)
    (tmp_path / "tmp" / "sandbox-secure0" / "dc1").mkdir()
    (tmp_path / "tmp" / "sandbox-secure0" / "dc1" / "mariadb.err").write_text("started\n")
    return tmp_path, state


def test_a_clean_run_passes_and_the_places_that_keep_secrets_are_not_read(run) -> None:  # type: ignore[no-untyped-def]
    root, _ = run
    report, problems = secret_scan.check(root, expect_secure=1)
    assert problems == []
    assert report.bytes >= len(FILLER)
    assert secret_scan.main([str(root), "--expect-secure", "1"]) == 0
    assert not (root / secret_scan.PLANT_FILE).exists()


def test_passwords_and_key_lines_are_found_and_named_without_their_value(run) -> None:  # type: ignore[no-untyped-def]
    root, state = run
    key = (root / "tmp" / "sandbox-secure0" / "tls" / "client.key").read_text()
    agent_log = root / "tmp" / "test_x0" / "logs" / "agent-dc1.log"
    agent_log.parent.mkdir(parents=True)
    agent_log.write_text(f"connecting with password={state.store_password}\n")
    (root / "junit.xml").write_text(json.dumps({"captured": key}))  # escaped newlines
    secure_config = root / "tmp" / "sandbox-secure0" / "mdbc.toml"  # read: it holds no secret
    secure_config.write_text(secure_config.read_text() + f"# {state.password}\n")

    report, problems = secret_scan.check(root, expect_secure=1)

    leaks = {(path, label.split(" of sandbox")[0]) for path, label in report.leaks}
    assert ("tmp/test_x0/logs/agent-dc1.log", "Cassandra mdbc password") in leaks
    assert ("tmp/sandbox-secure0/mdbc.toml", "MariaDB password") in leaks
    assert ("junit.xml", "line 2 of tls/client.key") in leaks
    assert len(problems) == len(report.leaks) - 1  # every leak but the planted secret
    assert not [p for p in problems if any(s in p for s in state.secrets())]
    assert secret_scan.main([str(root)]) == 1


def test_a_secret_across_two_chunks_is_found(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    root, state = run
    monkeypatch.setattr(secret_scan, "CHUNK", 1000)
    (root / "big.log").write_bytes(b"x" * 990 + state.password.encode() + b"y" * 3000)
    report, _ = secret_scan.check(root)
    assert ("big.log", "MariaDB password of sandbox tmp/sandbox-secure0") in report.leaks


def test_a_run_with_too_little_output_or_no_secure_sandbox_fails(tmp_path: Path) -> None:
    _sandbox(tmp_path / "plain", secure=False)
    (tmp_path / "pytest.log").write_text("1 passed\n")
    _, problems = secret_scan.check(tmp_path, expect_secure=1)
    assert any("bytes were read" in p for p in problems)
    assert any("0 secure sandboxes found, 1 expected" in p for p in problems)


def test_recording_keeps_subprocess_and_cli_output_then_restores_both(tmp_path: Path) -> None:
    log = tmp_path / "outputs.log"
    real_run, real_invoke = subprocess.run, CliRunner.invoke

    @click.command("hello")
    def hello() -> None:
        click.echo("from the cli")
        click.echo("and its stderr", err=True)

    with recording(log):
        done = subprocess.run(
            [sys.executable, "-c", "import sys; print('from a child'); sys.stderr.write('err')"],
            capture_output=True,
            text=True,
            check=True,
        )
        result = CliRunner().invoke(hello, [])
    assert done.stdout == "from a child\n" and result.exit_code == 0  # returned unchanged
    text = log.read_text()
    assert "from a child" in text and "err" in text
    assert "from the cli" in text and "and its stderr" in text
    assert (subprocess.run, CliRunner.invoke) == (real_run, real_invoke)
