"""The secure part of CI runs what README.md says, and covers driver, agent, CLI and demo."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".ci" / "secure-tests"


def _secure_tests() -> list[str]:
    body = re.search(r"SECURE_TESTS=\((.*?)\n\)", SCRIPT.read_text(), re.S)
    assert body, "no SECURE_TESTS=( ... ) in .ci/secure-tests"
    return [line.split("#")[0].strip() for line in body.group(1).splitlines() if line.strip()]


def test_the_secure_part_names_real_tests_covering_driver_agent_cli_and_demo() -> None:
    paths = _secure_tests()
    assert [p for p in paths if not (REPO / p).exists()] == []
    for needed in ("tests/integration/driver", "tests/chaos/test_failover.py",
                   "tests/chaos/test_admin_cli.py", "tests/unit/cli",
                   "tests/integration/workload/test_demo.py"):  # fmt: skip
        assert needed in paths


def test_readme_gives_the_commands_ci_runs() -> None:
    readme = REPO / "README.md"
    text = " ".join(readme.read_text().replace("\\\n", " ").split())
    for path in _secure_tests():
        assert path in text, f"README.md does not list {path} of the secure part"
    assert "python -m tests.secret_scan FOLDER --expect-secure 2" in text
    assert "--expect-secure 2" in SCRIPT.read_text()
    run = (REPO / ".ci" / "run").read_text()
    assert run.index("MDBC_REQUIRE_SERVICES=1 python -m pytest") < run.index(".ci/secure-tests")
