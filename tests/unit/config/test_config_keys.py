"""Unknown keys and a missing [store] are refused clearly; the repo's own configs still load."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

import pytest

from mdbc_py.config import (
    RANGE_KEYS,
    SITE_KEYS,
    STORE_KEYS,
    TOP_LEVEL_KEYS,
    Config,
    Mode,
    RangeConfig,
    SiteConfig,
    StoreConfig,
    from_mapping,
    load,
    save,
    to_toml,
)
from mdbc_py.errors import ConfigError
from mdbc_py.sandbox.config_file import render_config
from mdbc_py.sandbox.state import SandboxState, ServiceRecord

REPO = Path(__file__).resolve().parents[3]
SECRET = "n0t-In-0utput"

STORE = {"backend": "cassandra", "contact_points": ["10.0.0.1"]}


def _site(**extra: object) -> dict[str, object]:
    return {"host": "h1", "port": 3306, "password": SECRET, **extra}


@pytest.mark.parametrize(
    ("data", "key", "table", "suggestion"),
    [
        ({"store": STORE, "sotre": {}}, "sotre", "the top level", "store"),
        (
            {"store": STORE, "sites": {"dc1": _site(pasword="x")}},
            "pasword",
            "[sites.dc1]",
            "password",
        ),
        ({"store": {**STORE, "contact_point": "x"}}, "contact_point", "[store]", "contact_points"),
        (
            {"store": STORE, "ranges": {"r1": {"databse": "x"}}},
            "databse",
            "[ranges.r1]",
            "database",
        ),
        ({"store": STORE, "sites": {"dc1": _site(colour="red")}}, "colour", "[sites.dc1]", None),
    ],
)
def test_an_unknown_key_is_refused_naming_key_table_and_known_keys(
    data: dict[str, object], key: str, table: str, suggestion: str | None
) -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping(data)
    err = info.value
    message = str(err)
    assert (err.key, err.table) == (key, table)
    assert f"unknown key {key!r}" in message and table in message
    known = {
        "the top level": TOP_LEVEL_KEYS,
        "[sites.dc1]": SITE_KEYS,
        "[store]": STORE_KEYS,
        "[ranges.r1]": RANGE_KEYS,
    }[table]
    assert err.known == known
    assert ", ".join(known) in message
    if suggestion:
        assert f"did you mean {suggestion!r}?" in message
    else:
        assert "did you mean" not in message
    assert SECRET not in message


def test_every_unknown_key_of_a_table_is_named() -> None:
    with pytest.raises(ConfigError, match=r"'aaa'.*and also 'zzz'"):
        from_mapping({"store": {**STORE, "zzz": 1, "aaa": 2}})


def test_unknown_key_in_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mdbc.toml"
    path.write_text('[store]\nbackend = "cassandra"\nkeyspaces = "x"\n')
    with pytest.raises(ConfigError, match=r"\[store\]: unknown key 'keyspaces' \(did you mean"):
        load(path)


def test_a_missing_store_table_says_so_and_shows_a_minimal_one() -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping({"sites": {"dc1": _site()}})
    message = str(info.value)
    assert "the [store] table is missing" in message
    assert "[store]\nbackend = " in message and "contact_points" in message
    assert "needs 'path'" not in message
    assert info.value.table == "[store]"


def test_an_empty_store_table_says_the_default_backend_needs_a_path() -> None:
    with pytest.raises(ConfigError, match=r"default when 'backend' is not set\) needs 'path'"):
        from_mapping({"store": {}})


def test_a_table_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"\[sites.dc1\] must be a table, not a str"):
        from_mapping({"store": STORE, "sites": {"dc1": "h1:3306"}})


def test_a_site_name_key_must_repeat_the_table_name() -> None:
    cfg = from_mapping({"store": STORE, "sites": {"dc1": _site(name="dc1")}})
    assert cfg.site("dc1").host == "h1"
    with pytest.raises(ConfigError, match="differs from the table's name 'dc1'"):
        from_mapping({"store": STORE, "sites": {"dc1": _site(name="dc2")}})


def test_a_bad_mdbc_mode_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDBC_MODE", "multi")
    with pytest.raises(ConfigError, match="MDBC_MODE must be"):
        from_mapping({"store": STORE})


def test_the_mode_is_a_checked_enum_after_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert from_mapping({"store": STORE}).mode is Mode.MASTER_SLAVE
    assert from_mapping({"store": STORE, "mode": "migrate"}).mode is Mode.MIGRATE
    monkeypatch.setenv("MDBC_MODE", "route")
    assert from_mapping({"store": STORE, "mode": "master-slave"}).mode is Mode.ROUTE


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "mdbc.toml"
    path.write_bytes(b'mode = "route"\n# caf\xe9\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(path)


# -- every configuration the repository itself writes is still accepted ------------------


def _full_config(tmp_path: Path) -> Config:
    return Config(
        sites={
            "dc1": SiteConfig("dc1", "h1", 3306, "mdbc", SECRET, unix_socket="/s", priority=5),
            "dc2": SiteConfig("dc2", "h2", 3306, "mdbc", SECRET, nofailover=True),
        },
        store=StoreConfig(
            backend="cassandra",
            contact_points=("c1", "c2"),
            local_dc="dc1",
            username="cass",
            password=SECRET,
        ),
        ranges={"r1": RangeConfig("r1", "db1", ("t1", "t2"), "dc1")},
        mode="route",
    )


def test_deploy_mdbc_toml_is_accepted() -> None:
    cfg = load(REPO / "deploy" / "compose" / "mdbc.toml")
    assert set(cfg.sites) == {"dc1", "dc2"} and cfg.store.backend == "cassandra"


@pytest.mark.parametrize("nodes", [0, 1, 3])
def test_the_sandbox_config_file_is_accepted(tmp_path: Path, nodes: int) -> None:
    state = SandboxState(directory="/nowhere", password=SECRET)
    state.services["dc1"] = ServiceRecord("dc1", "mariadb", "127.0.0.1", 3311, "")
    for i in range(1, nodes + 1):
        state.services[f"node{i}"] = ServiceRecord(
            f"node{i}", "cassandra", f"127.0.0.{i}", 9042, ""
        )
    path = tmp_path / "mdbc.toml"
    path.write_text(render_config(state))
    assert load(path).site("dc1").password == SECRET


def test_save_writes_what_load_accepts(tmp_path: Path) -> None:
    """``save`` writes the demo's, the chaos tests' and bench/failover.py's files."""
    cfg = _full_config(tmp_path)
    loaded = load(save(cfg, tmp_path / "mdbc.toml"))
    assert dataclasses.replace(loaded, source=None) == cfg


def test_the_compat_suites_config_file_is_accepted(tmp_path: Path) -> None:
    from tests.compat.support import write_config_toml

    cfg = _full_config(tmp_path)
    loaded = load(write_config_toml(cfg, tmp_path / "mdbc.toml"))
    assert dataclasses.replace(loaded, source=None) == cfg


def test_the_crash_tests_json_config_is_accepted() -> None:
    """tests/integration/driver/test_crash_windows.py hands to_toml's mapping, as JSON, to
    from_mapping."""
    cfg = _full_config(Path("."))
    data = json.loads(json.dumps(tomllib.loads(to_toml(cfg))))
    assert dataclasses.replace(from_mapping(data), source=None) == cfg


def test_with_password_drops_where_the_old_password_came_from(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("old\n")
    site = _site()
    site.pop("password", None)
    cfg = from_mapping({"store": STORE, "sites": {"dc1": {**site, "password_file": str(secret)}}})
    changed = cfg.site("dc1").with_password("new")
    assert (changed.password, changed.password_file, changed.password_env) == ("new", None, None)
    assert cfg.site("dc1").password == "old"
