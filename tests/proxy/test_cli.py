"""``mdbc proxy`` as a process, and the ``mysql`` command-line client through it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdbc_py.config import Config, save
from mdbc_py.log import Op, decode
from mdbc_py.music import MusicStore
from tests.conftest import unavailable

SCRIPT = """
CREATE TABLE cli_t (id INT PRIMARY KEY, v VARCHAR(10));
INSERT INTO cli_t VALUES (1, 'a');
BEGIN;
INSERT INTO cli_t VALUES (2, 'b');
UPDATE cli_t SET v = 'c' WHERE id = 1;
COMMIT;
BEGIN;
INSERT INTO cli_t VALUES (3, 'x');
ROLLBACK;
SELECT id, v FROM cli_t ORDER BY id;
"""


@contextlib.contextmanager
def proxy_command(config: Path, *options: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``mdbc proxy --site dc1 [options]`` on a free port (read from its first line)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "proxy", "--site", "dc1", "--listen", "127.0.0.1:0",
         "-c", str(config), *options],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"on 127\.0\.0\.1:(\d+)$", line.strip())
        assert found, f"no address in {line!r}"
        yield proc, int(found.group(1))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


@pytest.fixture()
def proxy_process(proxy_cfg: Config, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    with proxy_command(save(proxy_cfg, tmp_path / "mdbc.toml")) as running:
        yield running


def mysql(
    port: int, cfg: Config, database: str, script: str, *options: str
) -> subprocess.CompletedProcess[str]:
    """Debian's ``mysql`` client at ``port`` as dc1's account, running ``script``."""
    site = cfg.site("dc1")
    return subprocess.run(
        ["mysql", "--protocol=TCP", "-h", "127.0.0.1", "-P", str(port), "-u", site.user,
         "--batch", "--skip-column-names", *options, database],
        input=script,
        env={**os.environ, "MYSQL_PWD": site.password},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_mysql_client_runs_a_script_through_mdbc_proxy(
    proxy_process: tuple[subprocess.Popen[str], int],
    proxy_cfg: Config,
    store: MusicStore,
    range_a: str,
    range_b: str,
) -> None:
    if shutil.which("mysql") is None:  # a failure in CI, a skip elsewhere
        unavailable("the mysql client is not installed (Debian's mariadb-client)")
    proc, port = proxy_process
    tail = store.describe_range(range_a).tail
    done = mysql(port, proxy_cfg, range_a, SCRIPT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == ["1\tc", "2\tb", ""]
    entries = [decode(r.payload) for r in store.iter_entries(range_a, tail + 1)]
    assert len(entries) == 3, "DDL, the autocommit insert, the transaction; not the rollback"
    assert entries[0].ddl is not None and "CREATE TABLE cli_t" in entries[0].ddl.sql
    assert [(c.op, c.pk) for c in entries[1].changes] == [(Op.INSERT, (("id", 1),))]
    assert [(c.op, c.row) for c in entries[2].changes] == [
        (Op.INSERT, (("id", 2), ("v", "b"))),
        (Op.UPDATE, (("id", 1), ("v", "c"))),
    ]

    refused = mysql(port, proxy_cfg, range_b, "INSERT INTO cli_t VALUES (9, 'z');\n")
    assert refused.returncode == 1
    assert "ERROR 1290 (HY000) at line 1: range " in refused.stderr, refused.stderr
    assert "owned by site 'dc2'" in refused.stderr

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, "SIGTERM stops the proxy cleanly"
