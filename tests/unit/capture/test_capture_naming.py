"""Names of capture objects and the dirty marker: pure functions, tables of cases."""

from __future__ import annotations

import pytest

from mdbc_py.capture.naming import (
    MAX_IDENT,
    Event,
    dirty_tables,
    dirty_token,
    escape_percent,
    is_internal_table,
    qualified,
    quote_ident,
    shadow_name,
    trigger_name,
)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("t", "`t`"),
        ("a`b", "`a``b`"),
        ("``", "``````"),
        ("with space", "`with space`"),
        ("é😀", "`é😀`"),
    ],
)
def test_quote_ident(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_quote_ident_refuses_empty() -> None:
    with pytest.raises(ValueError):
        quote_ident("")


def test_qualified_and_percent() -> None:
    assert qualified("d`b", "t%s") == "`d``b`.`t%s`"
    assert escape_percent("`t%s` = %") == "`t%%s` = %%"


@pytest.mark.parametrize(
    ("table", "shadow", "insert_trigger"),
    [
        ("t", "mdbc_s_t", "mdbc_ai_t"),
        ("Service", "mdbc_s_Service", "mdbc_ai_Service"),
        ("x" * 56, "mdbc_s_" + "x" * 56, "mdbc_ai_" + "x" * 56),
    ],
)
def test_short_names_are_plain(table: str, shadow: str, insert_trigger: str) -> None:
    assert shadow_name(table) == shadow
    assert trigger_name(Event.INSERT, table) == insert_trigger
    assert trigger_name(Event.UPDATE, table) == "mdbc_au_" + table
    assert trigger_name(Event.DELETE, table) == "mdbc_ad_" + table


def test_long_names_are_shortened_hashed_and_distinct() -> None:
    a, b = "a" * 64, "a" * 63 + "b"
    for table in (a, b, "x" * 58, "é" * 64):
        names = [shadow_name(table)] + [trigger_name(e, table) for e in Event]
        assert all(len(n) <= MAX_IDENT for n in names)
        assert len(set(names)) == 4
        assert shadow_name(table).startswith("mdbc_sx_")
        assert trigger_name(Event.INSERT, table).startswith("mdbc_aix_")
    assert shadow_name(a) != shadow_name(b)
    assert shadow_name(a) == shadow_name(a)  # stable


def test_shortened_names_never_equal_a_plain_name() -> None:
    """A hashed name differs at one fixed position from every plain one."""
    long_name = "q" * 60
    hashed = shadow_name(long_name)
    # The table whose plain shadow name would read like the hashed one:
    lookalike = hashed[len("mdbc_s_") :]
    assert shadow_name(lookalike) != hashed


def test_internal_tables() -> None:
    assert is_internal_table("mdbc_applied")
    assert not is_internal_table("MDBC_applied")  # table names are case-sensitive
    assert not is_internal_table("xmdbc_")


def test_dirty_tokens_round_trip() -> None:
    pairs = [("db", "t"), ("db", "T"), ("d b", "t`%"), ("é", "😀"), ("db", "t")]
    marker = b"".join(dirty_token(db, t) for db, t in pairs)
    assert dirty_tables(marker) == pairs[:4]
    assert dirty_tables(marker.decode("utf-8")) == pairs[:4]
    assert dirty_tables(None) == []
    assert dirty_tables(b"") == []


def test_dirty_token_cannot_match_across_tokens() -> None:
    """The trigger tests membership with LOCATE: a token is found only where appended."""
    marker = dirty_token("a", "b") + dirty_token("c", "d")
    for db, table in [("b", "c"), ("a", "bc"), ("ab", "c"), ("a", "b\0c")]:
        assert dirty_token(db, table) not in marker
    assert dirty_token("c", "d") in marker
