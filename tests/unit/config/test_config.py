"""The typed configuration: parsing, validation and keeping secrets out of output."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdbc_py.config import check_name, from_mapping, load
from mdbc_py.errors import ConfigError, InterfaceError
from mdbc_py.sandbox.config_file import render_config
from mdbc_py.sandbox.state import SandboxState, ServiceRecord

SECRET = "s3cr3t-Pa55"


def _state(nodes: int) -> SandboxState:
    state = SandboxState(directory="/nowhere", password=SECRET)
    for i in (1, 2):
        state.services[f"dc{i}"] = ServiceRecord(f"dc{i}", "mariadb", "127.0.0.1", 3310 + i, "")
    for i in range(1, nodes + 1):
        state.services[f"node{i}"] = ServiceRecord(
            f"node{i}", "cassandra", f"127.0.0.{i}", 9042, ""
        )
    return state


@pytest.mark.parametrize(
    ("nodes", "backend", "rf"), [(0, "embedded", None), (1, "cassandra", 1), (3, "cassandra", 3)]
)
def test_sandbox_config_round_trips(
    tmp_path: Path, nodes: int, backend: str, rf: int | None
) -> None:
    path = tmp_path / "mdbc.toml"
    path.write_text(render_config(_state(nodes)))
    cfg = load(path)
    assert set(cfg.sites) == {"dc1", "dc2"}
    assert cfg.site("dc2").port == 3312
    assert cfg.site("dc1").password == SECRET
    assert cfg.store.backend == backend
    if rf is not None:
        assert cfg.store.replication["replication_factor"] == rf
        assert len(cfg.store.contact_points) == nodes
    else:
        assert cfg.store.path == str(tmp_path / "music.sqlite")
    assert set(cfg.ranges) == {"catalogdb", "camundabpmn", "requestdb"}
    assert all(r.initial_owner == "dc1" for r in cfg.ranges.values())


def test_secrets_stay_out_of_repr_and_describe(tmp_path: Path) -> None:
    path = tmp_path / "mdbc.toml"
    path.write_text(render_config(_state(1)))
    cfg = load(path)
    for text in (
        repr(cfg),
        repr(cfg.site("dc1")),
        str(cfg.site("dc1").describe()),
        str(cfg.store.describe()),
    ):
        assert SECRET not in text


@pytest.mark.parametrize(
    "name", ["", "1dc", "dc-1", "dc 1", "dc1'; DROP TABLE x; --", "a" * 49, None, 7]
)
def test_bad_names_are_refused(name: object) -> None:
    with pytest.raises(ConfigError, match="invalid site name"):
        check_name("site", name)


@pytest.mark.parametrize("name", ["dc1", "DC_2", "a" * 48])
def test_good_names_pass(name: str) -> None:
    assert check_name("site", name) == name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sites": {"dc1": {}}}, "missing required key 'port'"),
        ({"sites": {"dc1": {"port": "x"}}}, r"\[sites.dc1\]"),
        ({"store": {"backend": "redis"}}, "backend must be"),
        ({"store": {"backend": "embedded"}}, "needs 'path'"),
        ({"mode": "multi", "store": {"path": "x"}}, "mode must be"),
        (
            {"ranges": {"r1": {"initial_owner": "dc9"}}, "store": {"path": "x"}},
            "not a configured site",
        ),
        ({"sites": {"bad-name": {"port": 1}}}, "invalid site name"),
    ],
)
def test_invalid_configuration_is_a_clear_config_error(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message) as info:
        from_mapping(data)
    assert isinstance(info.value, InterfaceError)


def test_missing_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mdbc sandbox up"):
        load(tmp_path / "absent.toml")


def test_malformed_toml(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[sites\nport = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(path)


def test_env_selects_the_local_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mdbc.toml"
    path.write_text(render_config(_state(0)))
    monkeypatch.setenv("MDBC_SITE", "dc2")
    assert load(path).local_site == "dc2"
    monkeypatch.setenv("MDBC_SITE", "dc9")
    with pytest.raises(ConfigError, match="unknown site 'dc9'"):
        load(path)


def test_to_toml_round_trips(tmp_path: Path) -> None:
    from mdbc_py.config import save

    path = tmp_path / "mdbc.toml"
    path.write_text(render_config(_state(3)))
    cfg = load(path)
    again = load(save(cfg, tmp_path / "again.toml"))
    assert again.sites == cfg.sites
    assert again.store == cfg.store
    assert again.ranges == cfg.ranges
    assert again.mode == cfg.mode
    assert (tmp_path / "again.toml").stat().st_mode & 0o777 == 0o600
