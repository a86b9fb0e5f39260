"""MariaDB Connector/J (and a HikariCP pool) through ``mdbc proxy``: SO's Java clients.

A small Java program (tests/java/ProxyJdbcCheck.java), compiled into the
test's folder, talks to dc1's proxy with a JDBC URL that differs from a
direct one only in host and port. It prints one line per check; this test
asserts on those lines and on what reached the MUSIC log and dc1's
MariaDB. The jars come from ``scripts/install-deps`` (its cache's ``jdbc``
folder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pymysql

from mdbc_py.config import Config
from mdbc_py.log import Op, decode
from mdbc_py.music import MusicStore
from mdbc_py.proxy import ProxyServer
from tests.conftest import unavailable
from tests.proxy.conftest import rows, staged, table_name

SOURCE = Path(__file__).resolve().parents[1] / "java" / "ProxyJdbcCheck.java"
JARS = ("mariadb-java-client-3.5.6.jar", "HikariCP-6.3.3.jar", "slf4j-api-2.0.17.jar")
COMPILE_SECONDS = 120
RUN_SECONDS = 90


def jdbc_classpath() -> list[Path]:
    """The jars scripts/install-deps fetched, or skip/fail (CI) saying which is missing."""
    cache = Path(os.environ.get("MDBC_CACHE_DIR", Path.home() / ".cache" / "mdbc_py"))
    jars = [cache / "jdbc" / name for name in JARS]
    missing = [str(j) for j in jars if not j.is_file()]
    if missing:
        unavailable(f"Connector/J jars missing (run scripts/install-deps): {', '.join(missing)}")
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} not found")
    return jars


def run_java(tmp_path: Path, args: list[str], env: dict[str, str]) -> list[str]:
    """Compile and run the check program (bounded); its stdout lines."""
    classpath = os.pathsep.join(str(j) for j in jdbc_classpath())
    subprocess.run(
        ["javac", "-d", str(tmp_path), "-cp", classpath, str(SOURCE)],
        check=True,
        timeout=COMPILE_SECONDS,
    )
    done = subprocess.run(
        ["java", "-cp", os.pathsep.join([str(tmp_path), classpath]), "ProxyJdbcCheck", *args],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, f"java exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout.splitlines()


def test_connector_j_through_the_proxy(
    tmp_path: Path,
    proxy: ProxyServer,
    proxy_cfg: Config,
    raw: Callable[..., pymysql.Connection],
    store: MusicStore,
    range_a: str,
    range_b: str,
) -> None:
    t = table_name()
    host, port = proxy.address
    site = proxy_cfg.site("dc1").connect_kwargs()
    tail_a = store.describe_range(range_a).tail
    tail_b = store.describe_range(range_b).tail

    lines = run_java(
        tmp_path,
        [f"{host}:{port}", range_a, range_b, t],
        {"MDBC_JDBC_USER": str(site["user"]), "MDBC_JDBC_PASSWORD": str(site.get("password", ""))},
    )

    assert lines == [
        "ddl ok",
        "commit ok",
        "rollback ok",
        "autocommit ok",
        "client batch ok",
        "server prepared ok",
        "server batch ok",
        "nonowner 1290 HY000",
        "hikari ok rows=9",
    ]
    entries = [decode(r.payload) for r in store.iter_entries(range_a, tail_a + 1)]
    assert [e.ddl is not None for e in entries] == [True] + [False] * 6
    assert [[dict(c.pk)["id"] for c in e.changes] for e in entries[1:]] == [
        [1, 2],
        [4],
        [8, 9],
        [3],
        [6, 7],
        [5],
    ]
    assert all(c.op is Op.INSERT for e in entries for c in e.changes)
    assert store.describe_range(range_b).tail == tail_b, "the refused write reached the log"
    assert rows(raw, f"SELECT id, v FROM {range_a}.{t} ORDER BY id") == (
        (1, "client one"),
        (2, "client two"),
        (3, "server three"),
        (4, "autocommit"),
        (5, "hikari"),
        (6, "batch 6"),
        (7, "batch 7"),
        (8, "batch 8"),
        (9, "batch 9"),
    )
    assert staged(raw, range_a, t) == 0, "staged rows left behind"
