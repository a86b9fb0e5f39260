"""A value of the wrong type: a ConfigError naming table and key, never a traceback or a value."""

from __future__ import annotations

from typing import Any

import pytest

from mdbc_py.config import from_mapping
from mdbc_py.errors import ConfigError

SECRET = "Sup3r-Secret-Value"
STORE: dict[str, Any] = {"backend": "cassandra", "password": SECRET, "username": "u"}
SITE: dict[str, Any] = {"port": 3306, "password": SECRET}


@pytest.mark.parametrize(
    ("data", "where", "key"),
    [
        ({"store": {**STORE, "port": "abc"}}, "[store]", "port"),
        ({"store": {**STORE, "port": True}}, "[store]", "port"),
        ({"store": {**STORE, "contact_points": 5}}, "[store]", None),
        ({"store": {**STORE, "replication": "x"}}, "[store]", None),
        ({"store": {"backend": "embedded", "path": 5}}, "[store]", "path"),
        ({"store": STORE, "sites": {"dc1": {**SITE, "port": "x"}}}, "[sites.dc1]", "port"),
        (
            {"store": STORE, "sites": {"dc1": {**SITE, "priority": "high"}}},
            "[sites.dc1]",
            "priority",
        ),
        ({"store": STORE, "ranges": {"r1": {"tables": 5}}}, "[ranges.r1]", "tables"),
        ({"store": STORE, "ranges": {"r1": {"tables": "t1"}}}, "[ranges.r1]", "tables"),
        ({"store": STORE, "sites": {"dc1": {**SITE, "pasword": SECRET}}}, "[sites.dc1]", "pasword"),
        ({"store": {**STORE, "passwd": SECRET}}, "[store]", "passwd"),
    ],
)
def test_a_wrong_value_is_a_config_error_without_secrets(
    data: dict[str, Any], where: str, key: str | None
) -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping(data)
    assert str(info.value).startswith(where)
    assert info.value.table == where
    if key is not None:
        assert info.value.key == key and repr(key) in str(info.value)
    assert SECRET not in str(info.value)


def test_a_port_written_as_digits_is_still_accepted() -> None:
    cfg = from_mapping({"store": STORE, "sites": {"dc1": {**SITE, "port": "3307"}}})
    assert cfg.site("dc1").port == 3307
