"""Run ``sqlalchemy.testing.suite`` in a subprocess and read its JUnit report.

SQLAlchemy's suite is driven by its own pytest plugin, which reads a
``setup.cfg`` from pytest's rootdir, owns the database configuration for the
whole session and generates per-backend test classes; it cannot share the
main test session. So each driver's run is a separate ``python -m pytest``
in a folder written at test time (``write_suite_dir``): ``setup.cfg``, a
``conftest.py`` and one ``test_<module>.py`` per suite module, each doing
``from sqlalchemy.testing.suite.<module> import *``.

The databases get the session's names the way SQLAlchemy names them for a
parallel (pytest-xdist) worker: the generated conftest declares the run a
"follower" with an ident, so the suite uses the databases ``<ident>``,
``<ident>_test_schema`` and ``<ident>_test_schema_2`` (created and made
ranges beforehand) instead of the fixed ``test`` and ``test_schema``.

Three details make the two runs comparable:

- SQLAlchemy's provisioning renames a URL whose server is MariaDB to
  ``mariadb+<driver>`` (and then excludes tests by that backend name). It
  can do so for ``pymysql`` because SQLAlchemy builds a MariaDB flavour of
  every driver it ships; the generated conftest registers the same flavour
  of ``mdbc_py.sqlalchemy.MDBCDialect`` (``MariaDBDialect_mdbc``), built the
  way SQLAlchemy builds ``MariaDBDialect_pymysql``, so that both runs are
  ``mariadb+<driver>``;
- the MySQL provisioning module is imported explicitly: SQLAlchemy only
  loads it by itself for dialects that live in ``sqlalchemy.dialects``;
- ``ServerSideCursorsTest._is_server_side`` recognises server-side cursors
  only for the drivers it knows by name (its own TODO says this keeps
  third-party dialects from using it); ``adapt_module`` teaches it mdbc_py's
  cursor, which wraps PyMySQL's ``SSCursor``.

Each run starts from empty databases (``tests.compat.support.reset_databases``),
so that nothing an earlier run left can decide a result.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymysql.cursors import SSCursor

from mdbc_py.sqlalchemy import MDBCDialect

REPO_ROOT = Path(__file__).resolve().parents[3]
REQUIREMENTS_CLS = "tests.compat.sqlalchemy.requirements:MariaDBRequirements"
PER_TEST_TIMEOUT = 300
"""Seconds one suite test may take before pytest-timeout stops it."""


CONFTEST = '''\
"""Written by tests/compat/sqlalchemy/harness.py: setup for sqlalchemy.testing.suite."""

import sqlalchemy.dialects.mysql.provision  # noqa: F401
from sqlalchemy.dialects import registry
from sqlalchemy.testing.plugin import plugin_base

registry.register("mariadb.mdbc", "mdbc_py.sqlalchemy", "MariaDBDialect_mdbc")
plugin_base.configure_follower({ident!r})
'''

SETUP_CFG = """\
[tool:pytest]
python_files = test_*.py
timeout = {timeout}
markers =
    backend
    sparse_backend
    sparse_driver_backend
    mypy
    memory_intensive
    timing_intensive

[sqla_testing]
requirement_cls = {requirements}
profile_file = profiles.txt

[db]
default = sqlite://
"""


def write_suite_dir(directory: Path, modules: Sequence[str], ident: str) -> Path:
    """Write the folder runs of the suite need; the URL is given on the command line.

    ``ident`` names the databases, as for one of SQLAlchemy's parallel
    workers: ``<ident>``, ``<ident>_test_schema``, ``<ident>_test_schema_2``.
    They must exist (SQLAlchemy only creates them in its parallel mode).
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "setup.cfg").write_text(
        SETUP_CFG.format(timeout=PER_TEST_TIMEOUT, requirements=REQUIREMENTS_CLS)
    )
    (directory / "conftest.py").write_text(CONFTEST.format(ident=ident))
    for module in modules:
        (directory / f"{module}.py").write_text(
            f"from sqlalchemy.testing.suite.{module} import *  # noqa: F403\n"
            "from tests.compat.sqlalchemy.harness import adapt_module as _adapt\n\n"
            "_adapt(globals())\n"
        )
    return directory


def adapt_module(namespace: dict[str, Any]) -> None:
    """Let ServerSideCursorsTest recognise an mdbc_py server-side cursor (see module doc)."""
    cls = namespace.get("ServerSideCursorsTest")
    if cls is None or getattr(cls, "_mdbc_adapted", False):
        return
    original = cls._is_server_side

    def _is_server_side(self: Any, cursor: Any) -> bool:
        if self.engine.dialect.driver == MDBCDialect.driver:
            return isinstance(getattr(cursor, "_raw", None), SSCursor)
        return bool(original(self, cursor))

    cls._is_server_side = _is_server_side
    cls._mdbc_adapted = True


@dataclass(frozen=True)
class Outcome:
    """One test's result: ``passed``, ``failed`` (failure or error) or ``skipped``."""

    status: str
    message: str = ""


@dataclass
class RunResult:
    """One driver's run: outcomes by normalised test id, the wall time and the log."""

    driver: str
    outcomes: dict[str, Outcome]
    seconds: float
    returncode: int
    log: Path

    def counts(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes.values())


def run_suite(
    suite_dir: Path, driver: str, dburi: str, report_dir: Path, timeout: float
) -> RunResult:
    """Run the suite in ``suite_dir`` against ``dburi``; parse its JUnit report.

    The exit status is not judged here (the suite fails some tests on every
    backend); a run that produced no report is an error.
    """
    junit = report_dir / f"{driver}.xml"
    log = report_dir / f"{driver}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(suite_dir),
        "--rootdir",
        str(suite_dir),
        "-p",
        "sqlalchemy.testing.plugin.pytestplugin",
        "-p",
        "no:cacheprovider",
        "--dburi",
        dburi,
        "--junitxml",
        str(junit),
        "-q",
        "-rN",
    ]
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.run(
            cmd, cwd=suite_dir, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        )
    seconds = time.monotonic() - start
    if not junit.exists():
        tail = log.read_text(errors="replace")[-4000:]
        raise RuntimeError(
            f"the {driver} run wrote no JUnit report (exit {proc.returncode}):\n{tail}"
        )
    return RunResult(driver, parse_junit(junit), seconds, proc.returncode, log)


BACKEND_SUFFIX = re.compile(r"_(?:mysql|mariadb)\+\w+?(?:_\d+)*$")
"""The per-backend suffix the plugin appends to class names: ``_mariadb+pymysql_10_11_19_0``."""


def normalize_id(classname: str, name: str) -> str:
    """``module::Class::test[params]`` with the backend suffix removed, same for both drivers."""
    module, _, cls = classname.rpartition(".")
    return f"{module}::{BACKEND_SUFFIX.sub('', cls)}::{name}"


def parse_junit(path: Path) -> dict[str, Outcome]:
    """Outcomes by test id; a test with a failure *or* an error (also in teardown) failed."""
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(path).iter("testcase"):
        tid = normalize_id(case.get("classname", ""), case.get("name", ""))
        status, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                status = "failed"
                message = message or (child.get("message") or child.text or "")[:2000]
            elif child.tag == "skipped" and status == "passed":
                status, message = "skipped", (child.get("message") or "")[:500]
        previous = outcomes.get(tid)
        if previous is None or previous.status != "failed":
            outcomes[tid] = Outcome(status, message)
    return outcomes


@dataclass(frozen=True)
class Allowed:
    """An intended difference: mdbc_py fails these tests, PyMySQL passes them.

    ``error`` is a regular expression that must match mdbc_py's failure
    message: an allowed test that fails for another reason is still reported.
    """

    error: str
    reason: str


@dataclass
class Comparison:
    """What the mdbc_py run did with the tests the PyMySQL run passed."""

    baseline: RunResult
    candidate: RunResult
    regressions: dict[str, str]
    """Test id -> why it counts: passed with PyMySQL, not with mdbc_py, not allowed."""
    allowed: dict[str, str]
    """Test id -> allow-list key, for the differences the allow-list explains."""
    unneeded_keys: list[str]
    """Allow-list keys of a module that was run but explaining no difference (stale, misspelt)."""
    improvements: list[str]
    """Tests that failed with PyMySQL and passed with mdbc_py."""

    def summary(self) -> str:
        """Counts per driver, then every difference."""
        lines = ["SQLAlchemy dialect suite, mariadb+pymysql vs mariadb+mdbc:"]
        for run in (self.baseline, self.candidate):
            c = run.counts()
            lines.append(
                f"  {run.driver:8} passed {c['passed']:5}  failed {c['failed']:5}  "
                f"skipped {c['skipped']:5}  ({run.seconds:.0f} s)"
            )
        by_key = Counter(self.allowed.values())
        lines.append(f"  allowed differences: {len(self.allowed)}")
        lines += [f"    {n:4}  {key}" for key, n in sorted(by_key.items())]
        if self.unneeded_keys:
            lines.append(f"  allow-list keys explaining no difference: {self.unneeded_keys}")
        if self.improvements:
            lines.append(f"  passed only with mdbc_py: {len(self.improvements)}")
            lines += [f"    {t}" for t in self.improvements]
        lines.append(f"  regressions: {len(self.regressions)}")
        lines += [f"    {t}: {why}" for t, why in sorted(self.regressions.items())]
        return "\n".join(lines)


def allow_key(test: str, allow_list: dict[str, Allowed]) -> str | None:
    """The allow-list key covering ``test``: its class, or its test name without parameters."""
    module, cls, name = test.split("::", 2)
    for key in (f"{module}::{cls}::{name.split('[', 1)[0]}", f"{module}::{cls}"):
        if key in allow_list:
            return key
    return None


def compare(
    baseline: RunResult, candidate: RunResult, allow_list: dict[str, Allowed]
) -> Comparison:
    """Every test that passed with ``baseline`` must pass with ``candidate`` or be allowed.

    An allow-list key of a module that was run must explain at least one
    difference: one that no longer does is reported, so the list stays exact.
    """
    regressions: dict[str, str] = {}
    allowed: dict[str, str] = {}
    for test, outcome in sorted(baseline.outcomes.items()):
        if outcome.status != "passed":
            continue
        key = allow_key(test, allow_list)
        got = candidate.outcomes.get(test)
        if got is None:
            regressions[test] = f"not run with {candidate.driver}"
        elif got.status == "passed":
            continue
        elif key is not None and re.search(allow_list[key].error, got.message):
            allowed[test] = key
        else:
            first_line = got.message.strip().splitlines()[0][:300] if got.message.strip() else ""
            regressions[test] = f"{got.status} with {candidate.driver}: {first_line}"
    improvements = [
        t
        for t, o in sorted(baseline.outcomes.items())
        if o.status == "failed"
        and (other := candidate.outcomes.get(t)) is not None
        and other.status == "passed"
    ]
    modules_run = {t.split("::", 1)[0] for t in baseline.outcomes}
    unneeded = sorted(
        k for k in allow_list if k.split("::", 1)[0] in modules_run and k not in allowed.values()
    )
    return Comparison(baseline, candidate, regressions, allowed, unneeded, improvements)
