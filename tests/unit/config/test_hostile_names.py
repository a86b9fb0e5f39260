"""Hostile names through the config loader: refused at the door, or kept exactly.

Site, range and keyspace names travel into CQL (as values and, for the
keyspace, as an identifier), SQL and file names, so the loader refuses
anything but ``[A-Za-z][A-Za-z0-9_]{0,47}``. A range's ``database`` and
``tables`` are MariaDB identifiers that every statement backquotes: the
loader keeps them exactly as written (quotes, backticks, semicolons and
non-ASCII letters are legal in MariaDB), and ``mdbc init`` refuses the ones
MariaDB or mdbc cannot use before it changes anything
(``tests/integration/admin/test_hostile_init.py`` runs them for real).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdbc_py.admin.init import check_names
from mdbc_py.config import load
from mdbc_py.errors import ConfigError

HOSTILE = [
    "dc1'; DROP KEYSPACE mdbc; --",
    "dc`1",
    'dc"1',
    "dc1;",
    "dc1 ",
    "dc-1",
    "1dc",
    "_dc",
    "",
    "a" * 49,
    "a" * 64,
    "a" * 65,
    "dçé",
    "日本",
    "dc1\n",
    "dc1\x00",
    "dc\\1",
    "dc%1",
]


def _toml(site: str = "dc1", rng: str = "r1", keyspace: str = "mdbc", **range_keys: object) -> str:
    extra = "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in range_keys.items())
    return (
        "[store]\n"
        'backend = "cassandra"\n'
        f"keyspace = {json.dumps(keyspace)}\n"
        f"[sites.{json.dumps(site)}]\n"
        'host = "127.0.0.1"\nport = 3306\nuser = "mdbc"\npassword = "pw-not-shown"\n'
        f"[ranges.{json.dumps(rng)}]\n"
        f"{extra}"
    )


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "mdbc.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def test_a_plain_configuration_loads(tmp_path: Path) -> None:
    cfg = _load(tmp_path, _toml(site="dc_1", rng="R_" + "a" * 46, keyspace="Mdbc_ks"))
    assert list(cfg.sites) == ["dc_1"]
    assert list(cfg.ranges) == ["R_" + "a" * 46]
    assert cfg.store.keyspace == "Mdbc_ks"


KEY_OF = {"site": "site", "range": "rng", "keyspace": "keyspace"}


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
@pytest.mark.parametrize("kind", list(KEY_OF))
def test_a_hostile_site_range_or_keyspace_name_is_refused(
    tmp_path: Path, kind: str, name: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load(
            tmp_path,
            _toml(**{KEY_OF[kind]: name}),
        )
    message = str(info.value)
    assert f"invalid {kind} name" in message
    assert "pw-not-shown" not in message


@pytest.mark.parametrize("name", ["dc1'; --", "dc`1", "日本"], ids=repr)
def test_a_hostile_initial_owner_or_local_site_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="is not a configured site"):
        _load(tmp_path, _toml(initial_owner=name))
    text = f"local_site = {json.dumps(name, ensure_ascii=False)}\n" + _toml()
    with pytest.raises(ConfigError, match="unknown site"):
        _load(tmp_path, text)


KEPT = [
    "so`db",
    "so'db",
    'so"db',
    "so;db; DROP DATABASE mysql; --",
    "Ünïcødé_库",
    "with space",
    "pct%and_under",
    "a" * 64,
]


@pytest.mark.parametrize("name", KEPT, ids=repr)
def test_a_hostile_database_or_table_is_kept_exactly_and_passes_init_checks(
    tmp_path: Path, name: str
) -> None:
    cfg = _load(tmp_path, _toml(database=name, tables=[name, "t`2"]))
    assert cfg.ranges["r1"].database == name
    assert cfg.ranges["r1"].tables == (name, "t`2")
    check_names(cfg)


REFUSED = [
    ("a" * 65, "65 characters"),
    ("trailing ", "ends with a space"),
    ("nul\x00", "NUL"),
    ("emoji😀", "outside the BMP"),
    ("mdbc", "belong to mdbc"),
    ("mdbc_stage_x", "belong to mdbc"),
    ("mysql", "system database"),
    ("INFORMATION_SCHEMA", "system database"),
    ("", "empty"),
]


@pytest.mark.parametrize(("name", "why"), REFUSED, ids=repr)
def test_a_database_mariadb_or_mdbc_cannot_use_is_refused_by_init(
    tmp_path: Path, name: str, why: str
) -> None:
    cfg = _load(tmp_path, _toml(database=name))
    with pytest.raises(ConfigError) as info:
        check_names(cfg)
    assert why in str(info.value)
    assert info.value.key == "database"
    assert info.value.table == "[ranges.r1]"


@pytest.mark.parametrize(
    ("name", "why"),
    [("t" * 65, "65 characters"), ("t ", "ends with a space"), ("mdbc_s_t", "belong to mdbc")],
    ids=repr,
)
def test_a_table_mariadb_or_mdbc_cannot_use_is_refused_by_init(
    tmp_path: Path, name: str, why: str
) -> None:
    cfg = _load(tmp_path, _toml(database="db", tables=["ok", name]))
    with pytest.raises(ConfigError) as info:
        check_names(cfg)
    assert why in str(info.value)
    assert info.value.key == "tables"


@pytest.mark.parametrize(
    "replication",
    [
        {"class": "NetworkTopologyStrategy", "dc1': '1'} AND durable_writes = false; --": 1},
        {"class": "SimpleStrategy", "replication_factor": "1'}; DROP KEYSPACE mdbc; --"},
    ],
    ids=["dc-name", "factor"],
)
def test_hostile_replication_settings_are_refused(
    tmp_path: Path, replication: dict[str, object]
) -> None:
    body = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in replication.items())
    text = _toml().replace(
        'keyspace = "mdbc"\n', f'keyspace = "mdbc"\nreplication = {{ {body} }}\n'
    )
    with pytest.raises(ConfigError):
        _load(tmp_path, text)
