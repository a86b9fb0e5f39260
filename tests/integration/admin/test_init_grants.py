"""``mdbc init`` checks the account's grants at every site before it changes anything.

A throw-away account is given, by the sandbox's administrator, the grants of
``deploy/grant-mdbc.sql`` for a fresh database, minus one here and there;
``init`` must name each missing privilege (site, privilege, object, the
GRANT to run), exit 1, and leave the store and every site as they were.
Running exactly the GRANT statements it printed must then be enough.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pymysql
import pytest
from click.testing import CliRunner

from cli.main import cli
from mdbc_py.admin import grants
from mdbc_py.admin.init import initialize
from mdbc_py.capture.naming import stage_database
from mdbc_py.config import Config, RangeConfig, StoreConfig, save
from mdbc_py.music import open_store
from mdbc_py.sandbox import Sandbox
from tests.conftest import with_password

pytestmark = pytest.mark.services

USER = "mdbc_initprobe"
ACCOUNT = f"'{USER}'@'127.0.0.1'"
ROLE = "mdbc_initprobe_role"


@dataclass
class Probe:
    """The throw-away account, its configuration and the sandbox that made it."""

    cfg: Config
    db: str
    box: Sandbox

    def admin(self, site: str, *statements: str) -> None:
        conn = self.box.admin_connection(site)
        try:
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
        finally:
            conn.close()

    def databases(self, site: str) -> set[str]:
        conn = self.box.admin_connection(site)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW DATABASES")
                return {row[0] for row in cur.fetchall()}
        finally:
            conn.close()

    def ranges(self) -> list[str]:
        store = open_store(self.cfg.store, create=True)
        try:
            return [r.name for r in store.list_ranges()]
        finally:
            store.close()


def file_grants(db: str, to: str, drop: tuple[str, str] | None = None) -> list[str]:
    """deploy/grant-mdbc.sql's statements for database ``db`` (one privilege dropped)."""
    wanted = [
        (grants.APPLICATION_PRIVILEGES, f"`{grants.like_literal(db)}`.*"),
        (grants.STAGE_PRIVILEGES, f"`{grants.STAGE_PATTERN}`.*"),
        (grants.BOOKKEEPING_PRIVILEGES, "`mdbc`.*"),
        (grants.GLOBAL_PRIVILEGES, "*.*"),
    ]
    out = []
    for privileges, on in wanted:
        kept = [p for p in privileges if drop is None or (p, on) != drop]
        if kept:
            out.append(f"GRANT {', '.join(kept)} ON {on} TO {to}")
    return out


@pytest.fixture()
def probe(running: Sandbox, sandbox_config: Config, tmp_path: Path) -> Iterator[Probe]:
    password = secrets.token_urlsafe(12)
    db = f"gi_{uuid.uuid4().hex[:8]}"
    sites = {
        name: replace(with_password(site, password), user=USER)
        for name, site in sandbox_config.sites.items()
    }
    cfg = Config(
        sites=sites,
        store=StoreConfig(backend="embedded", path=str(tmp_path / "music.sqlite")),
        ranges={db: RangeConfig(name=db, database=db, initial_owner="dc1")},
    )
    p = Probe(cfg, db, running)
    for site in sites:
        p.admin(
            site,
            "SET SESSION sql_log_bin = 0",
            f"DROP USER IF EXISTS {ACCOUNT}",
            f"DROP ROLE IF EXISTS {ROLE}",
            f"CREATE USER {ACCOUNT} IDENTIFIED BY '{password}'",
        )
    yield p
    for site in sites:
        p.admin(
            site,
            "SET SESSION sql_log_bin = 0",
            f"DROP USER IF EXISTS {ACCOUNT}",
            f"DROP ROLE IF EXISTS {ROLE}",
            f"DROP DATABASE IF EXISTS `{db}`",
            f"DROP DATABASE IF EXISTS `{stage_database(db)}`",
        )


def test_init_names_every_missing_grant_changes_nothing_and_its_grants_are_enough(
    probe: Probe,
) -> None:
    on_db = f"`{grants.like_literal(probe.db)}`.*"
    probe.admin("dc1", *file_grants(probe.db, ACCOUNT))
    probe.admin("dc2", *file_grants(probe.db, ACCOUNT, drop=("TRIGGER", on_db)))
    probe.admin("dc3", *file_grants(probe.db, ACCOUNT, drop=("READ_ONLY ADMIN", "*.*")))
    before = {site: probe.databases(site) for site in probe.cfg.sites}

    with pytest.raises(grants.GrantsMissingError) as info:
        initialize(probe.cfg)

    error = info.value
    assert {(m.site, m.privilege, m.on) for m in error.missing} == {
        ("dc2", "TRIGGER", on_db),
        ("dc3", "READ_ONLY ADMIN", "*.*"),
    }
    assert error.sites == ("dc2", "dc3")
    text = str(error)
    assert f"dc2: TRIGGER on {on_db}" in text
    assert f"dc2: GRANT TRIGGER ON {on_db} TO 'mdbc'@'%';" in text
    assert "dc3: GRANT READ_ONLY ADMIN ON *.* TO 'mdbc'@'%';" in text
    assert probe.cfg.sites["dc1"].password not in text
    # nothing changed: no range in the store, no database at any site
    assert probe.ranges() == []
    assert {site: probe.databases(site) for site in probe.cfg.sites} == before

    # the GRANT statements it printed are exactly what was missing
    for m in error.missing:
        probe.admin(m.site, m.statement.replace(grants.GRANTEE, ACCOUNT))
    report = initialize(probe.cfg)
    assert [r.name for r in report.ranges] == [probe.db]
    for site in probe.cfg.sites:
        assert probe.db in probe.databases(site)


def test_mdbc_init_exits_1_naming_the_grant_and_withholding_secrets(
    probe: Probe, tmp_path: Path
) -> None:
    for site in probe.cfg.sites:
        probe.admin(site, *file_grants(probe.db, ACCOUNT, drop=("DELETE", "`mdbc`.*")))
    path = tmp_path / "mdbc.toml"
    save(probe.cfg, path)

    result = CliRunner().invoke(cli, ["init", "-c", str(path)])

    assert result.exit_code == 1, result.output
    assert "GrantsMissingError" in result.output
    for site in probe.cfg.sites:
        assert f"{site}: DELETE on `mdbc`.*" in result.output
    assert "GRANT DELETE ON `mdbc`.* TO 'mdbc'@'%';" in result.output
    assert probe.cfg.sites["dc1"].password not in result.output
    assert "PASSWORD" not in result.output.upper().replace("PASSWORD_", "")
    assert probe.ranges() == []


def test_the_default_roles_grants_count_and_a_role_not_in_use_does_not(probe: Probe) -> None:
    for site in probe.cfg.sites:
        probe.admin(
            site,
            "SET SESSION sql_log_bin = 0",
            f"CREATE ROLE {ROLE}",
            *file_grants(probe.db, ROLE),
            f"GRANT {ROLE} TO {ACCOUNT}",
        )
    with pytest.raises(grants.GrantsMissingError) as info:
        initialize(probe.cfg)  # granted, but not active in mdbc's sessions
    assert len(info.value.missing) == 3 * sum(
        len(p)
        for p in (
            grants.APPLICATION_PRIVILEGES,
            grants.STAGE_PRIVILEGES,
            grants.BOOKKEEPING_PRIVILEGES,
            grants.GLOBAL_PRIVILEGES,
        )
    )

    for site in probe.cfg.sites:
        probe.admin(site, f"SET DEFAULT ROLE {ROLE} FOR {ACCOUNT}")
    report = initialize(probe.cfg)
    assert [r.name for r in report.ranges] == [probe.db]


def test_an_account_that_cannot_log_in_is_reported_not_mistaken_for_missing_grants(
    probe: Probe,
) -> None:
    wrong = {n: with_password(s, "not-the-password") for n, s in probe.cfg.sites.items()}
    cfg = replace(probe.cfg, sites=wrong)
    report = initialize(cfg)
    assert sorted(report.unreachable) == ["dc1", "dc2", "dc3"]
    assert all("Access denied" in why for why in report.unreachable.values())
    for site in cfg.sites:
        assert probe.db not in probe.databases(site)


def test_the_sandbox_account_passes_the_check(running: Sandbox, sandbox_config: Config) -> None:
    for name, site in sandbox_config.sites.items():
        conn = pymysql.connect(**site.connect_kwargs())
        try:
            assert grants.check(conn, name, ["catalogdb", "some_random_db"]) == []
        finally:
            conn.close()
