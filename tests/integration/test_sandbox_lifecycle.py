"""``mdbc sandbox`` start-stop discipline, through the real CLI.

up/down twice leaves no process and no port behind; ``up`` twice is
harmless; bad input and a missing prerequisite give one clear error and
start nothing.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mdbc_py.sandbox import Sandbox, SandboxError
from mdbc_py.sandbox.processes import pid_matches, port_bindable

BASE_PORT = 3340
CASSANDRA_IP = "127.0.0.31"
ADDRESSES = [("127.0.0.1", BASE_PORT + 1), (CASSANDRA_IP, 9042), (CASSANDRA_IP, 7000)]


def mdbc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``mdbc`` command line (as users do)."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _status(directory: Path) -> list[dict[str, object]]:
    done = mdbc("sandbox", "status", "-o", "json", "--dir", str(directory))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_up_down_twice_leaves_nothing_behind(tmp_path: Path) -> None:
    up_args = ["sandbox", "up", "--sites", "1", "--cassandra-nodes", "1"]
    up_args += ["--base-port", str(BASE_PORT), "--cassandra-ip", CASSANDRA_IP]
    up_args += ["--dir", str(tmp_path)]
    for round_ in range(2):
        done = mdbc(*up_args)
        assert done.returncode == 0, done.stderr
        rows = _status(tmp_path)
        assert {(r["name"], r["state"]) for r in rows} == {("dc1", "up"), ("node1", "up")}
        pids = {r["name"]: r["pid"] for r in rows}

        again = mdbc(*up_args)  # harmless: nothing restarted
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stderr
        assert {r["name"]: r["pid"] for r in _status(tmp_path)} == pids

        down = mdbc("sandbox", "down", "--dir", str(tmp_path))
        assert down.returncode == 0, down.stderr
        rows = _status(tmp_path)
        assert all(r["state"] == "down" for r in rows), rows
        for pid in pids.values():
            assert not pid_matches(int(str(pid)), str(tmp_path)), f"round {round_}: pid {pid}"
        for host, port in ADDRESSES:
            assert port_bindable(host, port), f"round {round_}: {host}:{port} still bound"


def test_port_in_use_is_refused_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", BASE_PORT + 2))
        blocker.listen()
        done = mdbc(
            "sandbox", "up", "--sites", "2", "--cassandra-nodes", "0",
            "--base-port", str(BASE_PORT), "--dir", str(tmp_path),
        )  # fmt: skip
    assert done.returncode == 1
    assert f"127.0.0.1:{BASE_PORT + 2} is already in use" in done.stderr
    assert port_bindable("127.0.0.1", BASE_PORT + 1), "dc1 was started although dc2 could not be"
    assert not (tmp_path / "dc1").exists()


def test_missing_cassandra_jars_name_the_install_command(tmp_path: Path) -> None:
    done = mdbc(
        "sandbox", "up", "--sites", "1", "--cassandra-nodes", "1",
        "--base-port", str(BASE_PORT), "--cassandra-ip", CASSANDRA_IP, "--dir", str(tmp_path),
        env={"MDBC_CASSANDRA_LIB": str(tmp_path / "no-jars")},
    )  # fmt: skip
    assert done.returncode == 1
    assert "scripts/install-deps" in done.stderr
    assert done.stderr.count("\n") <= 2, done.stderr
    assert port_bindable("127.0.0.1", BASE_PORT + 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cassandra-nodes", "2"], "'2' is not one of"),
        (["--sites", "12"], "12 is not in the range"),
        (["--base-port", "80"], "80 is not in the range"),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    done = mdbc("sandbox", "up", *args, "--dir", str(tmp_path))
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "sandbox.json").exists()


def test_unknown_service_name(tmp_path: Path) -> None:
    done = mdbc("sandbox", "kill", "dc7", "--dir", str(tmp_path))
    assert done.returncode == 2, "an unknown service name is bad usage"
    assert "no service 'dc7'" in done.stderr


def test_non_loopback_cassandra_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="loopback"):
        Sandbox(tmp_path).up(sites=0, cassandra_nodes=1, first_ip="10.0.0.1")
