"""The stage database name: plain when it fits, hashed when not, never colliding."""

from __future__ import annotations

import pytest

from mdbc_py.capture import stage_database
from mdbc_py.capture.naming import MAX_IDENT, RESERVED_PREFIX
from mdbc_py.capture.sqlgen import shadow_table


@pytest.mark.parametrize("db", ["app", "Catalog", "d`b %s", "x" * 53])
def test_short_database_names_are_plain(db: str) -> None:
    assert stage_database(db) == "mdbc_stage_" + db


def test_long_database_names_are_shortened_hashed_and_distinct() -> None:
    a, b = "a" * 64, "a" * 63 + "b"
    for db in (a, b, "x" * 54, "é" * 64):
        name = stage_database(db)
        assert len(name) <= MAX_IDENT
        assert name.startswith("mdbc_stagex_") and name.startswith(RESERVED_PREFIX)
    assert stage_database(a) != stage_database(b)
    assert stage_database(a) == stage_database(a)  # stable


def test_shortened_stage_names_never_equal_a_plain_one() -> None:
    hashed = stage_database("q" * 60)
    lookalike = hashed[len("mdbc_stage_") :]
    assert stage_database(lookalike) != hashed


def test_shadow_table_is_in_the_stage_database() -> None:
    assert shadow_table("app", "t") == "`mdbc_stage_app`.`mdbc_s_t`"
    assert shadow_table("d`b", "t`") == "`mdbc_stage_d``b`.`mdbc_s_t```"
