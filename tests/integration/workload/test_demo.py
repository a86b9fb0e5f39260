"""``mdbc demo`` end to end: its own sandbox, a kill -9 of dc1, and a passing verdict.

Under ``MDBC_TEST_SECURE=1`` it runs ``mdbc demo --secure``: the same steps and
verdict over TLS with logins on both services, and every site's session
shown encrypted. Its sandbox stays in the test's folder (stopped), so the
secret scan of the run reads its logs and data with the rest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.demo_cmd import demo
from mdbc_py.sandbox import Sandbox
from tests.conftest import SECURE, unavailable

DEMO_BASE_PORT = 3395
DEMO_CASSANDRA_IP = "127.0.0.95"
"""Clear of the session sandbox (3321+, 127.0.0.11) and of the demo's defaults."""


@pytest.mark.slow
def test_demo_survives_the_loss_of_dc1(tmp_path: Path) -> None:
    if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
        unavailable("mariadbd is not installed")
    folder = tmp_path / "demo"
    args = ["--dir", str(folder), "--seconds", "12", "--base-port", str(DEMO_BASE_PORT),
            "--cassandra-ip", DEMO_CASSANDRA_IP, *(["--secure"] if SECURE else [])]  # fmt: skip
    try:
        result = CliRunner().invoke(demo, args, catch_exceptions=False)
    finally:
        Sandbox(folder).down()  # whatever happened, nothing is left running
    output = result.output
    if result.exit_code != 0 and "missing" in output and "install" in output:
        unavailable(output.strip().splitlines()[-1])
    assert result.exit_code == 0, output[-4000:]
    assert "verdict: PASS" in output
    assert "  lost: 0" in output
    assert "RTO: " in output and "to the first commit at dc" in output
    assert "dc1: killing its MariaDB (SIGKILL)" in output
    assert "failover done" in output
    box = Sandbox(folder)
    assert box.secure == SECURE
    if SECURE:
        assert "secure links: MariaDB as 'mdbc' over dc1 TLSv1." in output
        assert "dc3 TLSv1." in output and "Cassandra as role 'mdbc' over TLS" in output
    assert not [s for s in box.secrets() if s in output]
    statuses = {s.name: s.state for s in Sandbox(folder).status()}
    assert set(statuses.values()) == {"down"}, statuses
