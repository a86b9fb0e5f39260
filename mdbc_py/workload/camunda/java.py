"""The Java side of the Camunda runs: the Maven module ``tests/java``, built by install-deps.

``scripts/install-deps`` resolves the module's dependencies (MariaDB
Connector/J, HikariCP, the Camunda 7 engine) and builds it in the cache
(``$MDBC_CACHE_DIR/java-checks``, default ``~/.cache/mdbc_py``), writing
``classpath.txt`` there. Its users (the proxy tests, ``mdbc demo --engine
camunda``) compile the module's sources against that classpath into a
folder of their own, a few seconds, so what runs is always the checkout's
code, even after an edit with no new install.

Whatever is missing (Java, the build, a jar, the sources) raises
:class:`JavaUnavailableError`, which names it and the command that fixes it;
sources that do not compile raise :class:`JavaCompileError` (a defect, not
a missing install).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MODULE = Path(__file__).resolve().parents[3] / "tests" / "java"
"""The Maven module in a checkout of this repository."""
PACKAGE = "org.onap.mdbcpy.checks"
COMPILE_SECONDS = 180
FIX = "scripts/install-deps"
"""What installs Java and builds the module, run from a checkout of this repository."""


class JavaUnavailableError(RuntimeError):
    """Java or the built module is missing: ``missing`` says what, ``fix`` how to get it."""

    def __init__(self, missing: str, fix: str = FIX) -> None:
        super().__init__(f"{missing}; run {fix}")
        self.missing = missing
        self.fix = fix


class JavaCompileError(RuntimeError):
    """javac refused the module's sources; ``output`` is what it said."""

    def __init__(self, output: str) -> None:
        super().__init__(f"javac failed on tests/java: {output}")
        self.output = output


def build_dir() -> Path:
    """Where scripts/install-deps built the module (its classpath.txt is there)."""
    cache = Path(os.environ.get("MDBC_CACHE_DIR", Path.home() / ".cache" / "mdbc_py"))
    return cache / "java-checks"


@dataclass(frozen=True)
class JavaChecks:
    """The compiled module and the classpath to run its programs with."""

    classes: Path
    classpath: str

    def command(self, main: str, args: list[str], jvm: list[str] | None = None) -> list[str]:
        """The command line running ``org.onap.mdbcpy.checks.<main>``."""
        classpath = os.pathsep.join([str(self.classes), self.classpath])
        return ["java", *(jvm or []), "-cp", classpath, f"{PACKAGE}.{main}", *args]

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


def classpath() -> str:
    """The module's runtime classpath from the cache; raises JavaUnavailableError."""
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            raise JavaUnavailableError(f"{tool} not found (a JDK 17 is needed)")
    listing = build_dir() / "classpath.txt"
    if not listing.is_file():
        raise JavaUnavailableError(f"the Java module tests/java is not built: no {listing}")
    found = listing.read_text().strip()
    missing = [jar for jar in found.split(os.pathsep) if not Path(jar).is_file()]
    if missing:
        raise JavaUnavailableError(f"{len(missing)} jars of tests/java are missing, e.g. "
                                   f"{missing[0]}")  # fmt: skip
    return found


def compile_checks(into: Path) -> JavaChecks:
    """Compile the module's sources into ``into`` (see the module docstring for errors)."""
    jars = classpath()
    sources = sorted(str(p) for p in (MODULE / "src" / "main" / "java").rglob("*.java"))
    if not sources:
        raise JavaUnavailableError(
            f"no Java sources in {MODULE} (run from a checkout of this repository)",
            fix=f"{FIX} in a checkout",
        )
    into.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["javac", "-nowarn", "--release", "17", "-encoding", "UTF-8", "-d", str(into),
         "-cp", jars, *sources],
        capture_output=True,
        text=True,
        timeout=COMPILE_SECONDS,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise JavaCompileError(done.stderr.strip()[-4000:])
    return JavaChecks(into, jars)
