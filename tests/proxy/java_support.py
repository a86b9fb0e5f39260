"""The Java clients of the proxy tests: the Maven module in tests/java, compiled once per run.

How the module is built and compiled is :mod:`mdbc_py.workload.camunda.java`
(shared with ``mdbc demo --engine camunda``); here a missing Java or build
skips the test, or fails it in CI.
"""

from __future__ import annotations

from pathlib import Path

from mdbc_py.workload.camunda import java
from mdbc_py.workload.camunda.java import JavaChecks
from tests.conftest import unavailable

__all__ = ["JavaChecks", "compile_checks"]


def compile_checks(into: Path) -> JavaChecks:
    """Compile tests/java's sources into ``into``; skip (fail in CI) if the build is missing."""
    try:
        return java.compile_checks(into)
    except java.JavaUnavailableError as exc:
        unavailable(exc.missing)
        raise  # unreachable: unavailable() skips or fails
