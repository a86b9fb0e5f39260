"""Parsing ``SHOW GRANTS`` and deciding what it implies (``mdbc_py.admin.grants``), pure.

The lines are as MariaDB 10.11 prints them (copied from a real server);
the integration test ``tests/integration/admin/test_init_grants.py`` proves
the same decisions against a live account.
"""

from __future__ import annotations

import re

import pytest

from mdbc_py.admin import grants
from mdbc_py.admin.grants import Grants, Holdings, parse_show_grants
from mdbc_py.capture.naming import stage_database
from tests.deploy.conftest import DEPLOY

HASH = "*D821809F681A40A6E379B50D0463EFAE20BDD122"
USER = "`mdbc`@`%`"
SO = ("catalogdb", "camundabpmn", "requestdb")

GRANT_FILE_LINES = [
    f"GRANT READ_ONLY ADMIN ON *.* TO {USER} IDENTIFIED BY PASSWORD '{HASH}'",
    *(f"GRANT {', '.join(grants.APPLICATION_PRIVILEGES)} ON `{db}`.* TO {USER}" for db in SO),
    f"GRANT {', '.join(grants.STAGE_PRIVILEGES)} ON `mdbc\\_stage\\_%`.* TO {USER}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER ON `mdbc`.* TO {USER}",
]


def _missing(own: list[str], role: list[str] | None = None, old: bool = False) -> set[str]:
    holdings = Holdings(parse_show_grants(own), parse_show_grants(role or []), old)
    return {f"{m.privilege} on {m.on}" for m in grants.missing(holdings, "dc1", grants.needs(SO))}


def test_the_grants_of_the_deploy_file_are_enough() -> None:
    assert _missing(GRANT_FILE_LINES) == set()


def test_the_deploy_file_grants_what_the_check_needs_and_nothing_else() -> None:
    sql = re.sub(r"--[^\n]*", "", (DEPLOY / "grant-mdbc.sql").read_text())
    lines = [" ".join(s.split()) for s in sql.split(";") if s.strip()]
    parsed = parse_show_grants(lines)
    by_on = {g.database: set(g.privileges) for g in parsed.grants}
    for db in SO:
        assert by_on[db] == set(grants.APPLICATION_PRIVILEGES)
    assert by_on[grants.STAGE_PATTERN] == set(grants.STAGE_PRIVILEGES)
    assert by_on["mdbc"] == set(grants.BOOKKEEPING_PRIVILEGES)
    assert by_on[None] == set(grants.GLOBAL_PRIVILEGES)
    assert len(parsed.grants) == len(SO) + 3


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ("TRIGGER", {"TRIGGER on `requestdb`.*"}),
        ("CREATE TEMPORARY TABLES", {"CREATE TEMPORARY TABLES on `requestdb`.*"}),
    ],
)
def test_one_privilege_less_on_one_database_is_named(drop: str, expected: set[str]) -> None:
    lines = [
        line.replace(f"{drop}, ", "").replace(f", {drop} ON", " ON")
        if "`requestdb`" in line
        else line
        for line in GRANT_FILE_LINES
    ]
    assert _missing(lines) == expected


def test_missing_read_only_admin_and_stage_grant_are_named_with_their_statements() -> None:
    lines = [line for line in GRANT_FILE_LINES if "stage" not in line and "READ_ONLY" not in line]
    holdings = Holdings(parse_show_grants(lines), Grants())
    missing = grants.missing(holdings, "dc2", grants.needs(["catalogdb"]))
    assert {(m.privilege, m.on) for m in missing} == {
        ("READ_ONLY ADMIN", "*.*"),
        *((p, r"`mdbc\_stage\_%`.*") for p in grants.STAGE_PRIVILEGES),
    }
    statements = {m.statement for m in missing}
    assert "GRANT READ_ONLY ADMIN ON *.* TO 'mdbc'@'%';" in statements
    assert (
        "GRANT SELECT, INSERT, DELETE, CREATE, DROP, ALTER, LOCK TABLES "
        r"ON `mdbc\_stage\_%`.* TO 'mdbc'@'%';" in statements
    )
    error = grants.GrantsMissingError(missing)
    assert error.sites == ("dc2",)
    assert "READ_ONLY ADMIN on *.*" in str(error)
    assert "nothing was changed" in str(error)


def test_a_long_databases_shortened_stage_database_gets_its_own_grant() -> None:
    long_db = "so_" + "d" * 57
    stage = stage_database(long_db)
    assert stage.startswith("mdbc_stagex_")
    holdings = Holdings(parse_show_grants(GRANT_FILE_LINES), Grants())
    missing = grants.missing(holdings, "dc1", grants.needs([long_db]))
    on_stage = f"`{grants.like_literal(stage)}`.*"
    assert {(m.privilege, m.on) for m in missing if "stage" in m.why} == {
        (p, on_stage) for p in grants.STAGE_PRIVILEGES
    }
    assert grants._like(grants.like_literal(stage), stage)


def test_global_grants_and_all_privileges_imply_everything_of_their_level() -> None:
    assert _missing([f"GRANT ALL PRIVILEGES ON *.* TO {USER} WITH GRANT OPTION"]) == set()
    sandbox_like = [
        f"GRANT {', '.join(grants.APPLICATION_PRIVILEGES)}, READ_ONLY ADMIN ON *.* TO {USER}",
    ]
    assert _missing(sandbox_like) == set()
    # ALL on a database covers that database only: READ_ONLY ADMIN is global
    every_db = [f"GRANT ALL PRIVILEGES ON `%`.* TO {USER}"]
    assert _missing(every_db) == {"READ_ONLY ADMIN on *.*"}


def test_super_implies_read_only_admin_only_before_10_11() -> None:
    lines = [*GRANT_FILE_LINES[1:], f"GRANT SUPER ON *.* TO {USER}"]
    assert _missing(lines, old=True) == set()
    assert _missing(lines, old=False) == {"READ_ONLY ADMIN on *.*"}


def test_the_active_roles_grants_count() -> None:
    own = [f"GRANT USAGE ON *.* TO {USER}", f"GRANT `mdbc_role` TO {USER}"]
    role = [
        line.replace(USER, "`mdbc_role`").replace(f" IDENTIFIED BY PASSWORD '{HASH}'", "")
        for line in GRANT_FILE_LINES
    ]
    assert parse_show_grants(own).roles == ["mdbc_role"]
    assert _missing(own, role) == set()
    assert len(_missing(own)) > 20


def test_table_column_and_routine_grants_do_not_count_for_a_database() -> None:
    lines = [
        f"GRANT SELECT (`a`, `b ON c`), INSERT ON `catalogdb`.`t` TO {USER}",
        f"GRANT ALL PRIVILEGES ON `catalogdb`.`t2` TO {USER}",
        f"GRANT EXECUTE ON PROCEDURE `catalogdb`.`p` TO {USER}",
        f"GRANT PROXY ON ''@'%' TO {USER}",
    ]
    parsed = parse_show_grants(lines)
    assert parsed.grants == []
    assert parsed.roles == []


def test_the_most_specific_database_line_of_the_account_wins() -> None:
    """MariaDB uses the first matching db row (exact before pattern), not their union.

    Checked on MariaDB 10.11: with SELECT on `catalogdb` and INSERT on
    `catalog%` (or SELECT on `catalog%` and INSERT on `c%`), an INSERT into
    catalogdb is refused.
    """
    others = [line for line in GRANT_FILE_LINES if "`catalogdb`" not in line]
    exact_and_pattern = [
        *others,
        f"GRANT SELECT ON `catalogdb`.* TO {USER}",
        f"GRANT {', '.join(grants.APPLICATION_PRIVILEGES)} ON `catalog%`.* TO {USER}",
    ]
    missing = _missing(exact_and_pattern)
    assert "INSERT on `catalogdb`.*" in missing
    assert "SELECT on `catalogdb`.*" not in missing
    longer_prefix_wins = [
        *others,
        f"GRANT {', '.join(grants.APPLICATION_PRIVILEGES)} ON `c%`.* TO {USER}",
        f"GRANT SELECT ON `catalog%`.* TO {USER}",
    ]
    assert "INSERT on `catalogdb`.*" in _missing(longer_prefix_wins)
    assert _missing([*others, f"GRANT ALL PRIVILEGES ON `catalog%`.* TO {USER}"]) == set()


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        (r"mdbc\_stage\_%", "mdbc_stage_catalogdb", True),
        (r"mdbc\_stage\_%", "mdbcXstage_catalogdb", False),
        (r"mdbc\_stage\_%", "mdbc_stagex_averylongname_0123456789ab", False),
        ("mdbc_stage_%", "mdbcXstageYcatalogdb", True),
        ("cat%", "catalogdb", True),
        ("Catalogdb", "catalogdb", False),
        ("a.b", "aXb", False),
        ("we`ird", "we`ird", True),
    ],
)
def test_database_patterns_match_like_mariadb(pattern: str, name: str, matches: bool) -> None:
    assert grants._like(pattern, name) is matches


def test_grants_on_backquoted_names_are_unquoted() -> None:
    parsed = parse_show_grants([f"GRANT SELECT ON `we``ird ON x`.* TO {USER}"])
    assert parsed.grants[0].database == "we`ird ON x"


def test_a_suggested_grant_on_a_name_with_wildcards_matches_that_name_only() -> None:
    need = grants.Need(("SELECT",), "so_db%", "range database so_db%")
    assert need.on == r"`so\_db\%`.*"
    assert grants._like(r"so\_db\%", "so_db%")
    assert not grants._like(r"so\_db\%", "soXdbY")


def test_no_password_hash_reaches_the_error() -> None:
    holdings = Holdings(parse_show_grants(GRANT_FILE_LINES[1:]), Grants())
    error = grants.GrantsMissingError(grants.missing(holdings, "dc1", grants.needs(SO)))
    assert HASH not in str(error)
    assert HASH not in repr(error.missing)
