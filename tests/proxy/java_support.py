"""The Java clients of the proxy tests: the Maven module in tests/java, compiled once per run.

``scripts/install-deps`` resolves the module's dependencies (Connector/J,
HikariCP, the Camunda 7 engine) and builds it in the cache
(``$MDBC_CACHE_DIR/java-checks``), writing ``classpath.txt`` there. The
tests compile the module's sources against that classpath into a folder of
their own, so a changed check is what runs, without a new install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import unavailable

MODULE = Path(__file__).resolve().parents[1] / "java"
SOURCES = MODULE / "src" / "main" / "java"
PACKAGE = "org.onap.mdbcpy.checks"
COMPILE_SECONDS = 180


def build_dir() -> Path:
    """Where scripts/install-deps built the module (its classpath.txt is there)."""
    cache = Path(os.environ.get("MDBC_CACHE_DIR", Path.home() / ".cache" / "mdbc_py"))
    return cache / "java-checks"


@dataclass(frozen=True)
class JavaChecks:
    """The compiled checks and the classpath to run them with."""

    classes: Path
    classpath: str

    def command(self, main: str, args: list[str]) -> list[str]:
        """The command line running ``org.onap.mdbcpy.checks.<main>``."""
        classpath = os.pathsep.join([str(self.classes), self.classpath])
        return ["java", "-cp", classpath, f"{PACKAGE}.{main}", *args]

    def run(
        self, main: str, args: list[str], env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Run ``org.onap.mdbcpy.checks.<main>`` (bounded); its output, whatever its exit."""
        return subprocess.run(
            self.command(main, args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **env},
        )  # fmt: skip


def compile_checks(into: Path) -> JavaChecks:
    """Compile tests/java's sources into ``into``; skip (fail in CI) if the build is missing."""
    listing = build_dir() / "classpath.txt"
    if not listing.is_file():
        unavailable(f"the Java checks are not built (run scripts/install-deps): no {listing}")
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} not found")
    classpath = listing.read_text().strip()
    missing = [jar for jar in classpath.split(os.pathsep) if not Path(jar).is_file()]
    if missing:
        unavailable(f"jars of the Java checks missing (run scripts/install-deps): {missing[:3]}")
    sources = sorted(str(p) for p in SOURCES.rglob("*.java"))
    subprocess.run(
        ["javac", "-nowarn", "--release", "17", "-encoding", "UTF-8", "-d", str(into),
         "-cp", classpath, *sources],
        check=True,
        timeout=COMPILE_SECONDS,
    )  # fmt: skip
    return JavaChecks(into, classpath)
