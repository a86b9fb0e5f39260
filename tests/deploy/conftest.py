"""Shared helpers of the deployment checks: where the repository and the ops tools are.

The tools (helm, promtool, prometheus, yamllint, kubernetes-validate) come from
``scripts/install-ops-tools``. A missing tool fails the test under
``MDBC_REQUIRE_SERVICES=1`` (CI) and skips it elsewhere, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unavailable

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "mdbc"
RULES = DEPLOY / "prometheus" / "mdbc-rules.yml"
RULES_TEST = DEPLOY / "prometheus" / "mdbc-rules.test.yml"
CACHE_BIN = Path(os.environ.get("MDBC_CACHE_DIR", Path.home() / ".cache" / "mdbc_py")) / "bin"


def tool(name: str) -> str:
    """The path of an ops tool (PATH, then the install script's cache), else fail/skip."""
    found = shutil.which(name) or shutil.which(name, path=str(CACHE_BIN))
    if found is None:
        unavailable(f"{name} is not installed: run scripts/install-ops-tools")
    assert found is not None
    return found


def run(args: list[str], *, cwd: Path | None = None, timeout: float = 120) -> str:
    """Run a tool; on failure fail the test with its command, exit code and output."""
    proc = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}",
            pytrace=False,
        )
    return proc.stdout + proc.stderr
