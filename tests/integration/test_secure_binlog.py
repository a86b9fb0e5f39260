"""The sandbox keeps its account's password out of the binary log.

MariaDB logs ``CREATE USER ... IDENTIFIED BY`` and ``ALTER USER`` as
statement events; the sandbox ran them at every start, so the generated
password sat in plain text in every site's binlog files. This test starts
a one-site sandbox twice (each start re-keys the account), then reads the
binlog both ways: every byte of the files on disk, and ``SHOW BINLOG
EVENTS``. A marker row written normally proves the scan sees what is logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from mdbc_py.sandbox import Sandbox, SandboxError
from tests.conftest import TEST_BASE_PORT, unavailable

BASE_PORT = TEST_BASE_PORT + 50
MARKER = "binlog-scan-positive-control-7f3a"

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def one_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("binlog"))
    try:
        box.up(sites=1, cassandra_nodes=0, base_port=BASE_PORT)
        box.down()
        box.up(sites=1, cassandra_nodes=0, base_port=BASE_PORT)  # a second start re-keys
    except SandboxError as exc:
        unavailable(str(exc))
    yield box
    box.down()


def _connect(box: Sandbox) -> pymysql.Connection:
    return pymysql.connect(
        host="127.0.0.1", port=BASE_PORT + 1, user="mdbc", password=box.password, autocommit=True
    )


def _binlog_files(box: Sandbox) -> list[Path]:
    files = sorted((box.directory / "dc1" / "data").glob("mariadb-bin.[0-9]*"))
    assert files, "the site writes no binlog: the scan would prove nothing"
    return files


def test_no_password_in_the_binlog(one_site: Sandbox) -> None:
    password = one_site.password
    conn = _connect(one_site)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS binlog_probe")
            cur.execute("CREATE TABLE IF NOT EXISTS binlog_probe.t (id INT PRIMARY KEY, v TEXT)")
            cur.execute("REPLACE INTO binlog_probe.t VALUES (1, %s)", (MARKER,))
    finally:
        conn.close()
    # Reading the binary log needs an administrator: the mdbc account has least privilege.
    conn = one_site.admin_connection("dc1")
    try:
        with conn.cursor() as cur:
            cur.execute("FLUSH BINARY LOGS")
            cur.execute("SHOW BINARY LOGS")
            names = [row[0] for row in cur.fetchall()]
            events: list[str] = []
            for name in names:
                cur.execute(f"SHOW BINLOG EVENTS IN '{name}'")
                events += [str(row[5]) for row in cur.fetchall()]
    finally:
        conn.close()

    on_disk = b"".join(path.read_bytes() for path in _binlog_files(one_site))
    assert MARKER.encode() in on_disk  # positive control: row data is visible to the scan
    assert any("binlog_probe" in info for info in events)
    # Booleans, so a failure does not print the password it found.
    in_files = password.encode() in on_disk
    in_events = sum(password in info for info in events)
    assert not in_files, "the sandbox password is in the binlog files"
    assert not in_events, f"the sandbox password is in {in_events} binlog events"
    assert not [info for info in events if "IDENTIFIED BY" in info.upper()]
