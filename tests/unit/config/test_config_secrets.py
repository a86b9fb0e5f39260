"""Passwords from a file or an environment variable, and never in any output.

The configuration must be able to live in a ConfigMap: each password may be
inline, in a file (``password_file``) or in a variable the file names
(``password_env``), exactly one of them. Whatever goes wrong, the error
names the key, the file or the variable, and no repr, describe() or
``to_toml`` of a config read from a file or variable holds the secret.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mdbc_py.config import Config, from_mapping, load, read_secret, save, to_toml
from mdbc_py.errors import ConfigError

SECRET = "Zq9-very-secret-\u00e9-pw"
STORE_SECRET = "St0re-secret-pw-77"


def _cfg(site: dict[str, Any], store: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "store": store or {"backend": "embedded", "path": "/tmp/x.sqlite"},
        "sites": {"dc1": {"port": 3311, **site}},
    }


def _text(cfg: Config) -> str:
    return "\n".join(
        [
            repr(cfg),
            str(cfg.site("dc1").describe()),
            str(cfg.store.describe()),
            repr(cfg.site("dc1")),
            repr(cfg.store),
        ]
    )


def test_password_from_a_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "dc1").write_text(SECRET + "\n", encoding="utf-8")
    cfg = from_mapping(_cfg({"password_file": "secrets/dc1"}), base=tmp_path)
    site = cfg.site("dc1")
    assert site.password == SECRET  # one trailing newline dropped, nothing else
    assert site.password_file == str(tmp_path / "secrets" / "dc1")
    assert site.connect_kwargs()["password"] == SECRET
    assert SECRET not in _text(cfg)
    assert site.describe()["password_file"] == site.password_file


def test_a_file_keeps_everything_but_one_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "pw").write_bytes(b" pw with spaces \n\n")
    cfg = from_mapping(_cfg({"password_file": str(tmp_path / "pw")}))
    assert cfg.site("dc1").password == " pw with spaces \n"


def test_password_from_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDBC_TEST_DC1_PW", SECRET)
    cfg = from_mapping(_cfg({"password_env": "MDBC_TEST_DC1_PW"}))
    assert cfg.site("dc1").password == SECRET
    assert cfg.site("dc1").password_env == "MDBC_TEST_DC1_PW"
    assert SECRET not in _text(cfg)


def test_store_password_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "store").write_text(STORE_SECRET)
    store = {
        "backend": "cassandra",
        "username": "mdbc",
        "password_file": str(tmp_path / "store"),
    }
    cfg = from_mapping(_cfg({"password": "x"}, store))
    assert (cfg.store.username, cfg.store.password) == ("mdbc", STORE_SECRET)
    assert STORE_SECRET not in _text(cfg)
    assert STORE_SECRET not in to_toml(cfg)


@pytest.mark.parametrize(
    "keys",
    [
        ("password", "password_file"),
        ("password", "password_env"),
        ("password_file", "password_env"),
    ],
)
def test_two_sources_for_one_password_are_refused(keys: tuple[str, str], tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(SECRET)
    values = {"password": SECRET, "password_file": str(tmp_path / "pw"), "password_env": "HOME"}
    with pytest.raises(ConfigError) as info:
        from_mapping(_cfg({k: values[k] for k in keys}))
    assert info.value.table == "[sites.dc1]"
    assert info.value.key == keys[1]
    assert "one way only" in str(info.value)
    assert SECRET not in str(info.value)


def test_two_sources_for_the_store_password_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDBC_TEST_STORE_PW", STORE_SECRET)
    store = {
        "backend": "cassandra",
        "username": "mdbc",
        "password": STORE_SECRET,
        "password_env": "MDBC_TEST_STORE_PW",
    }
    with pytest.raises(ConfigError, match="one way only") as info:
        from_mapping(_cfg({}, store))
    assert info.value.table == "[store]"
    assert STORE_SECRET not in str(info.value)


def test_a_store_password_without_a_username_is_refused() -> None:
    with pytest.raises(ConfigError, match="no 'username'") as info:
        from_mapping(_cfg({}, {"backend": "cassandra", "password": STORE_SECRET}))
    assert STORE_SECRET not in str(info.value)


def _unreadable(tmp_path: Path) -> str:
    path = tmp_path / "locked"
    path.write_text(SECRET)
    path.chmod(0)
    return str(path)


def _file(name: str, data: bytes) -> Any:
    def make(folder: Path) -> str:
        (folder / name).write_bytes(data)
        return str(folder / name)

    return make


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: str(d / "missing"), "does not exist"),
        (str, "is a directory"),
        (_file("empty", b""), "is empty"),
        (_file("nl", b"\n"), "is empty"),
        (_file("big", b"x" * 5000), "larger than"),
        (_file("bin", b"\xff\xfe"), "not UTF-8"),
    ],
    ids=["missing", "directory", "empty", "newline-only", "too-large", "binary"],
)
def test_a_bad_password_file_is_named_in_the_error(tmp_path: Path, make: Any, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(ConfigError, match=message) as info:
        from_mapping(_cfg({"password_file": path}))
    assert (info.value.key, info.value.table) == ("password_file", "[sites.dc1]")
    assert path in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_password_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not readable"):
        from_mapping(_cfg({"password_file": _unreadable(tmp_path)}))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MDBC_TEST_UNSET_PW", None, "MDBC_TEST_UNSET_PW .* is not set"),
        ("MDBC_TEST_EMPTY_PW", "", "MDBC_TEST_EMPTY_PW .* is empty"),
        ("NOT-A-NAME", None, "must name an environment variable"),
    ],
)
def test_a_bad_password_variable_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str | None, message: str
) -> None:
    monkeypatch.delenv(name, raising=False)
    if value is not None:
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as info:
        from_mapping(_cfg({"password_env": name}))
    assert info.value.key == "password_env"


@pytest.mark.parametrize("key", ["password", "password_file", "password_env"])
def test_a_password_of_the_wrong_type_names_only_the_type(key: str) -> None:
    with pytest.raises(ConfigError, match=f"{key}' must be a string, got a value of type int"):
        from_mapping(_cfg({key: 123456789}))


def test_to_toml_writes_references_not_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MDBC_TEST_STORE_PW", STORE_SECRET)
    (tmp_path / "pw").write_text(SECRET)
    data = _cfg(
        {"password_file": "pw"},
        {"backend": "cassandra", "username": "mdbc", "password_env": "MDBC_TEST_STORE_PW"},
    )
    data["sites"]["dc2"] = {"port": 3312, "password": "inline-one"}
    cfg = from_mapping(data, base=tmp_path)
    text = to_toml(cfg)
    assert SECRET not in text and STORE_SECRET not in text
    parsed = tomllib.loads(text)
    assert parsed["sites"]["dc1"]["password_file"] == str(tmp_path / "pw")
    assert parsed["store"]["password_env"] == "MDBC_TEST_STORE_PW"
    assert parsed["sites"]["dc2"]["password"] == "inline-one"
    # And it reads back to the same configuration, from another folder.
    other = tmp_path / "elsewhere"
    other.mkdir()
    back = load(save(cfg, other / "mdbc.toml"))
    assert back.site("dc1").password == SECRET
    assert back.store.password == STORE_SECRET
    assert back.site("dc2").password == "inline-one"


def test_read_secret_repr_shows_the_source_only(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(SECRET)
    secret = read_secret({"password_file": "pw"}, "[x]", tmp_path)
    assert secret.value == SECRET
    assert SECRET not in repr(secret)
    assert "pw" in repr(secret)
