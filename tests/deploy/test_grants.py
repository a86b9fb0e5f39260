"""deploy/grant-mdbc.sql on a real MariaDB: accepted as written, and no more than it says.

The file is run (for a throw-away account) on a sandbox site; the account then
does what the agent and the driver do with those grants (set ``read_only``,
write through it, work in a stage database) and is refused outside them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pymysql
import pytest

from mdbc_py.config import Config
from mdbc_py.sandbox import Sandbox
from tests.deploy.conftest import DEPLOY

pytestmark = pytest.mark.services

ACCOUNT = "'mdbc_grants_probe'@'127.0.0.1'"
PROBE_DB = "mdbc_stage_grants_probe"


def _statements() -> list[str]:
    sql = re.sub(r"--[^\n]*", "", (DEPLOY / "grant-mdbc.sql").read_text())
    return [s.strip().replace("'mdbc'@'%'", ACCOUNT) for s in sql.split(";") if s.strip()]


@pytest.fixture()
def probe(sandbox: Sandbox, sandbox_config: Config) -> Iterator[pymysql.Connection]:
    """A connection as a fresh account that has exactly the file's grants.

    The account is made by the sandbox's administrator (root on the unix
    socket): the sandbox's own ``mdbc`` account may not create accounts.
    """
    site = sandbox_config.sites["dc1"]
    admin = sandbox.admin_connection("dc1")
    password = secrets.token_hex(12)
    with admin.cursor() as cur:
        cur.execute(f"DROP USER IF EXISTS {ACCOUNT}")
        cur.execute(f"CREATE USER {ACCOUNT} IDENTIFIED BY %s", (password,))
        for statement in _statements():
            cur.execute(statement)
    conn = pymysql.connect(  # the site's address and TLS settings, the probe's login
        **{**site.connect_kwargs(), "user": "mdbc_grants_probe", "password": password},
        autocommit=True,
    )
    try:
        yield conn
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {PROBE_DB}")
            cur.execute(f"DROP USER IF EXISTS {ACCOUNT}")
        admin.close()


def test_grants_are_accepted_and_hold_no_all_or_grant_option(
    probe: pymysql.Connection,
) -> None:
    with probe.cursor() as cur:
        cur.execute("SHOW GRANTS")
        grants = "\n".join(row[0] for row in cur.fetchall())
    assert "READ_ONLY ADMIN" in grants
    assert r"`mdbc\_stage\_%`" in grants
    assert "ALL PRIVILEGES" not in grants
    assert "GRANT OPTION" not in grants


def test_the_account_can_do_what_mdbc_does_and_nothing_else(probe: pymysql.Connection) -> None:
    with probe.cursor() as cur:
        # the agent: read and set read_only (set to its current value: nothing changes)
        cur.execute("SELECT @@global.read_only")
        (current,) = cur.fetchone()
        cur.execute(f"SET GLOBAL read_only = {int(current)}")
        # the capture: a stage database, its shadow table, staged rows read and cleared
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {PROBE_DB}")
        cur.execute(f"CREATE TABLE {PROBE_DB}.s (id INT PRIMARY KEY, v LONGBLOB)")
        cur.execute(f"ALTER TABLE {PROBE_DB}.s ADD COLUMN w INT")
        cur.execute(f"INSERT INTO {PROBE_DB}.s VALUES (1, 'x', 2)")
        cur.execute(f"SELECT v FROM {PROBE_DB}.s")
        assert cur.fetchall() == ((b"x",),)
        cur.execute(f"DELETE FROM {PROBE_DB}.s")
        cur.execute(f"DROP DATABASE {PROBE_DB}")
        # least privilege: no database outside the grants, no account administration
        for refused in (
            "CREATE DATABASE mdbc_grants_not_granted",
            "CREATE USER 'mdbc_grants_other'@'127.0.0.1'",
            "SELECT * FROM mysql.user",
        ):
            with pytest.raises(pymysql.err.OperationalError) as info:
                cur.execute(refused)
            assert info.value.args[0] in (1044, 1142, 1227), (refused, info.value.args)
