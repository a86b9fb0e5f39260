"""``mdbc demo --engine camunda`` end to end: real Camunda engines at dc1 and dc2, dc1 lost.

The demo runs on a sandbox of its own (ports next to the session
sandbox's, see ``DEMO_BASE_PORT``), with a short load. Its verdict must be
PASS with the counts that make it one: every acknowledged instance
completed, each of its steps committed exactly once, nothing lost, the
flows dc1's engine held when it died resumed by the engine at dc2, and
``mdbc verify`` finding Camunda's 49 tables and ``so_marks`` identical at
the three sites. Afterwards nothing of the demo is left running.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.demo_cmd import demo
from mdbc_py.sandbox import Sandbox
from mdbc_py.workload.camunda import JavaUnavailableError
from mdbc_py.workload.camunda.java import classpath
from tests.conftest import SECURE, TEST_BASE_PORT, TEST_CASSANDRA_IP, unavailable

DEMO_BASE_PORT = TEST_BASE_PORT + 20
"""Sites on +21..+23 and the proxies on +24, +25: clear of the session sandbox (+1..+3)."""
_ip = TEST_CASSANDRA_IP.rsplit(".", 1)
DEMO_CASSANDRA_IP = f"{_ip[0]}.{int(_ip[1]) + 1}"
TABLES = 50
"""Camunda 7.24's 49 tables and so_marks."""


def _running_in(folder: Path) -> list[str]:
    """Command lines of live processes that name ``folder`` (engines, proxies, servers)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if str(folder) in cmdline and state not in ("Z", "X"):
            found.append(cmdline[:200])
    return found


@pytest.mark.slow
def test_camunda_demo_passes_with_every_instance_completed_once(tmp_path: Path) -> None:
    if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
        unavailable("mariadbd is not installed")
    try:
        classpath()
    except JavaUnavailableError as exc:
        unavailable(exc.missing)
    folder = tmp_path / "demo"
    args = ["--engine", "camunda", "--dir", str(folder), "--seconds", "10",
            "--base-port", str(DEMO_BASE_PORT), "--cassandra-ip", DEMO_CASSANDRA_IP,
            *(["--secure"] if SECURE else [])]  # fmt: skip
    try:
        result = CliRunner().invoke(demo, args, catch_exceptions=False)
    finally:
        Sandbox(folder).down()  # whatever happened, no server is left running
    output = result.output
    assert result.exit_code == 0, output[-6000:]
    verdict = output[output.index("verdict: ") :]
    assert verdict.startswith("verdict: PASS")

    acked = re.search(r"\n  process instances acknowledged: (\d+) \(COMPLETED (\d+)\)\n", verdict)
    assert acked, verdict
    n = int(acked.group(1))
    assert n > 0 and int(acked.group(2)) == n
    assert f"\n  steps committed exactly once: {4 * n}/{4 * n} (4 per instance)\n" in verdict
    assert "\n  lost: 0\n" in verdict
    assert f"\n  tables identical at 3 sites: {TABLES}/{TABLES}\n" in verdict
    resumed = re.search(r"\n  flows resumed by another engine after theirs died: (\d+)/(\d+)\n",
                        verdict)  # fmt: skip
    assert resumed and resumed.group(1) == resumed.group(2), verdict
    assert int(resumed.group(2)) >= 1, "dc1's engine held no flow when it died: nothing resumed"
    assert re.search(r"\n  failover: [\d.]+ s from the kill of dc1", verdict)
    assert re.search(r"\n  RTO: [\d.]+ s from the kill of dc1 to the first commit at dc[23]\n",
                     verdict)  # fmt: skip

    assert "dc1: the site is lost: its MariaDB is killed (SIGKILL)" in output
    assert "dc1: Camunda engine created Camunda's tables through its proxy" in output
    assert "dc2: Camunda engine up" in output
    assert "failover done" in output
    box = Sandbox(folder)
    assert not [s for s in box.secrets() if s in output]
    assert {s.state for s in box.status()} == {"down"}
    assert _running_in(folder) == [], "engines or proxies of the demo still running"


def test_camunda_demo_without_the_java_module_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MDBC_CACHE_DIR", str(tmp_path / "empty-cache"))
    folder = tmp_path / "demo"
    result = CliRunner().invoke(demo, ["--engine", "camunda", "--dir", str(folder)])
    assert result.exit_code == 1, result.output
    assert "--engine camunda needs Java and the Java module" in result.output
    assert "run scripts/install-deps" in result.output
    assert not folder.exists(), "nothing is started without Java"
