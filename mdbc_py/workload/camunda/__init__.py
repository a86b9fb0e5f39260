"""The SO workload with the real Camunda 7 engine, for ``mdbc demo --engine camunda``.

Where the rest of :mod:`mdbc_py.workload` plays SO's BPMN job executor in
Python, this package runs the real one: a Camunda engine per site (a Java
process, ``SoBpmnEngine`` of the Maven module ``tests/java``), each through
its own site's ``mdbc proxy`` with nothing changed but its JDBC URL.

- :mod:`.java`: the module's build (by ``scripts/install-deps``) and its
  compilation;
- :mod:`.engine`: one engine as a child process and the events it reports;
- :mod:`.check`: afterwards, every acknowledged instance completed exactly
  once at every site, and the sites are identical.
"""

from __future__ import annotations

from mdbc_py.workload.camunda.check import CamundaReport, check
from mdbc_py.workload.camunda.engine import EngineError, EngineEvents, EngineProcess
from mdbc_py.workload.camunda.java import (
    JavaChecks,
    JavaCompileError,
    JavaUnavailableError,
    compile_checks,
)

__all__ = [
    "CamundaReport",
    "EngineError",
    "EngineEvents",
    "EngineProcess",
    "JavaChecks",
    "JavaCompileError",
    "JavaUnavailableError",
    "check",
    "compile_checks",
]
