"""The sandbox's ``mdbc`` account has least privilege; root on the socket is its admin.

The account gets the privileges of ``deploy/grant-mdbc.sql`` (the
application's on every database but ``mysql``, since tests create databases
with random names) and nothing else: no ALL, SUPER, GRANT OPTION, CREATE
USER or FILE, and no way into ``mysql``, where accounts are. Every
test of the suite runs with it, so a privilege the code needs and the
deploy file lacks shows up as a failing test. A sandbox whose account was
made with more (older versions granted ALL WITH GRANT OPTION) is brought
down to least privilege when the site starts again.
"""

from __future__ import annotations

import re

import pymysql
import pytest

from mdbc_py.admin import grants
from mdbc_py.config import Config
from mdbc_py.sandbox import Sandbox, SandboxError

pytestmark = pytest.mark.services

EXPECTED = {
    "*.*": set(grants.GLOBAL_PRIVILEGES),
    "`%`.*": set(grants.APPLICATION_PRIVILEGES),
    "`mysql`.*": {"SHOW VIEW"},
    "`mdbc`.*": set(grants.BOOKKEEPING_PRIVILEGES),
    rf"`{grants.STAGE_PATTERN}`.*": set(grants.STAGE_PRIVILEGES),
}


def _grants_of(box: Sandbox, site: str, host: str) -> dict[str, set[str]]:
    conn = box.admin_connection(site)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW GRANTS FOR 'mdbc'@'{host}'")
            lines = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    out: dict[str, set[str]] = {}
    for line in lines:
        match = re.match(r"GRANT (.+?) ON (\S+) TO ", line)
        assert match, line
        out[match[2]] = {p.strip() for p in match[1].split(",")}
        if "WITH GRANT OPTION" in line:
            out[match[2]].add("GRANT OPTION")
    return out


def test_the_account_has_exactly_the_deploy_files_privileges(running: Sandbox) -> None:
    for site in ("dc1", "dc2", "dc3"):
        for host in ("127.0.0.1", "localhost"):
            assert _grants_of(running, site, host) == EXPECTED, (site, host)


def test_the_account_is_refused_what_needs_an_admin(
    running: Sandbox, sandbox_config: Config
) -> None:
    conn = pymysql.connect(**sandbox_config.site("dc1").connect_kwargs(), autocommit=True)
    refused = [
        "CREATE USER 'mdbc_sbx_other'@'127.0.0.1'",
        "GRANT SELECT ON *.* TO 'mdbc'@'127.0.0.1'",
        "SELECT * FROM mysql.user",
        "SELECT * FROM mysql.global_priv",
        "INSERT INTO mysql.db (Host, Db, User) VALUES ('%', 'x', 'mdbc')",
        "SELECT 1 INTO OUTFILE '/tmp/mdbc-sandbox-grants-probe'",
        "SET GLOBAL max_connections = 501",
        "SHOW BINLOG EVENTS",
    ]
    try:
        with conn.cursor() as cur:
            for statement in refused:
                with pytest.raises(pymysql.err.OperationalError) as info:
                    cur.execute(statement)
                assert info.value.args[0] in (1044, 1045, 1142, 1227), (statement, info.value)
            # what it must be able to do: read_only for replay and promotion
            cur.execute("SELECT @@global.read_only")
            (current,) = cur.fetchone()
            cur.execute(f"SET GLOBAL read_only = {int(current)}")
    finally:
        conn.close()


def test_the_admin_connection_is_root_and_names_only_sites(running: Sandbox) -> None:
    conn = running.admin_connection("dc2")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT CURRENT_USER()")
            assert cur.fetchone() == ("root@localhost",)
    finally:
        conn.close()
    with pytest.raises(SandboxError, match="not a MariaDB site"):
        running.admin_connection("node1")
    with pytest.raises(SandboxError, match="no service 'dc9'"):
        running.admin_connection("dc9")


def test_a_site_restart_takes_back_what_an_older_sandbox_granted(running: Sandbox) -> None:
    conn = running.admin_connection("dc3")
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("GRANT ALL ON *.* TO 'mdbc'@'127.0.0.1' WITH GRANT OPTION")
    finally:
        conn.close()
    try:
        assert _grants_of(running, "dc3", "127.0.0.1") != EXPECTED
    finally:
        running.down(["dc3"])
        running.start("dc3")
    assert _grants_of(running, "dc3", "127.0.0.1") == EXPECTED


def test_a_restart_never_takes_the_accounts_privileges_away_meanwhile(
    running: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server accepts logins while the account is set up: an agent that logs in then
    must never find its privileges revoked (only an older sandbox's excess is)."""
    from mdbc_py.sandbox import mariadb

    sent: list[str] = []
    real = mariadb._root_connection

    def recording(record):  # type: ignore[no-untyped-def]
        conn = real(record)
        query = conn.query

        def spy(sql, unbuffered=False):  # type: ignore[no-untyped-def]
            sent.append(sql if isinstance(sql, str) else sql.decode())
            return query(sql, unbuffered)

        conn.query = spy
        return conn

    monkeypatch.setattr(mariadb, "_root_connection", recording)
    record = running.state.services["dc3"]
    mariadb.create_admin_account(record, running.state.password)
    assert any(s.startswith("GRANT") for s in sent)
    assert not [s for s in sent if s.startswith("REVOKE")]
    assert _grants_of(running, "dc3", "127.0.0.1") == EXPECTED
