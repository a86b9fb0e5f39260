"""Helpers of the compatibility suites that are not fixtures.

The SQLAlchemy suite runs in a subprocess and reaches mdbc_py through a URL,
whose ``config=`` must be a file: ``write_config_toml`` renders the test
configuration (built in memory by ``make_config``) as an ``mdbc.toml``.
``reset_databases`` and ``drop_databases`` manage the suites' own databases.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pymysql

from mdbc_py.capture.naming import stage_database
from mdbc_py.config import Config, SiteConfig


def _toml_value(value: Any) -> str:
    """One TOML value: a JSON string literal is a valid TOML basic string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    raise TypeError(f"no TOML rendering for {type(value).__name__}")


def _section(name: str, values: Mapping[str, Any]) -> list[str]:
    lines = ["", f"[{name}]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
    return lines


def render_config_toml(cfg: Config) -> str:
    """``cfg`` as the text of an ``mdbc.toml`` that ``mdbc_py.config.load`` reads back equal."""
    store = cfg.store
    lines = [f"mode = {_toml_value(cfg.mode)}"]
    lines += _section(
        "store",
        {
            "backend": store.backend,
            "contact_points": list(store.contact_points),
            "port": store.port,
            "keyspace": store.keyspace,
            "local_dc": store.local_dc,
            "replication": dict(store.replication),
            "path": store.path,
            "username": store.username,
            "password": store.password,
        },
    )
    for site in cfg.sites.values():
        lines += _section(
            f"sites.{site.name}",
            {
                "host": site.host,
                "port": site.port,
                "user": site.user,
                "password": site.password,
                "unix_socket": site.unix_socket,
                "priority": site.priority,
                "nofailover": site.nofailover,
            },
        )
    for rng in cfg.ranges.values():
        lines += _section(
            f"ranges.{rng.name}",
            {
                "database": rng.database,
                "tables": list(rng.tables) if rng.tables is not None else None,
                "initial_owner": rng.initial_owner,
            },
        )
    return "\n".join(lines) + "\n"


def write_config_toml(cfg: Config, path: Path) -> Path:
    """Write ``cfg`` to ``path`` readable by its owner only (it holds passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(render_config_toml(cfg))
    return path


def sqlalchemy_url(
    driver: str, site: SiteConfig, database: str, query: Mapping[str, str] | None = None
) -> str:
    """A ``mysql+<driver>://`` URL for ``database`` at ``site`` (password included)."""
    auth = f"{quote(site.user, safe='')}:{quote(site.password, safe='')}"
    params = {"charset": "utf8mb4", **(query or {})}
    return f"mysql+{driver}://{auth}@{site.host}:{site.port}/{database}?{urlencode(params)}"


def reset_databases(site: SiteConfig, names: Sequence[str], *, create: bool = True) -> None:
    """Drop ``names`` at ``site`` and create them again empty, with plain PyMySQL.

    Only for the suites' own databases: what is dropped this way is neither
    captured nor logged (a key-less table left behind would make
    ``initialize`` refuse the range, hence empty databases).
    """
    conn = pymysql.connect(**site.connect_kwargs(), autocommit=True)
    try:
        with conn.cursor() as cur:
            for name in names:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
                # Plain PyMySQL bypasses the driver, which would take the stage along.
                cur.execute(f"DROP DATABASE IF EXISTS `{stage_database(name)}`")
                if create:
                    cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()


def drop_databases(site: SiteConfig, names: Sequence[str]) -> None:
    """Drop ``names`` at ``site`` (the end of a session), with plain PyMySQL."""
    reset_databases(site, names, create=False)
