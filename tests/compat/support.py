"""Helpers of the compatibility suites that are not fixtures.

The SQLAlchemy suite runs in a subprocess and reaches mdbc_py through a URL,
whose ``config=`` must be a file: ``write_config_toml`` renders the test
configuration (built in memory by ``make_config``) as an ``mdbc.toml``.
``reset_databases`` and ``drop_databases`` manage the suites' own databases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

import pymysql

from mdbc_py.capture.naming import stage_database
from mdbc_py.config import Config, SiteConfig, save


def write_config_toml(cfg: Config, path: Path) -> Path:
    """Write ``cfg`` to ``path`` as ``mdbc.toml`` (mode 0600: it may hold passwords).

    ``save`` keeps what the session's configuration holds: a secure sandbox's
    password files and TLS settings, or a plain one's inline password.
    """
    return save(cfg, path)


def sqlalchemy_url(
    driver: str, site: SiteConfig, database: str, query: Mapping[str, str] | None = None
) -> str:
    """A ``mysql+<driver>://`` URL for ``database`` at ``site`` (password included)."""
    auth = f"{quote(site.user, safe='')}:{quote(site.password, safe='')}"
    params = {"charset": "utf8mb4", **_ssl_query(site), **(query or {})}
    return f"mysql+{driver}://{auth}@{site.host}:{site.port}/{database}?{urlencode(params)}"


def _ssl_query(site: SiteConfig) -> dict[str, str]:
    """The site's TLS settings as SQLAlchemy's PyMySQL dialect reads them from a URL."""
    tls = site.tls
    if tls is None:
        return {}
    query = {f"ssl_{k}": v for k, v in (("ca", tls.ca), ("cert", tls.cert), ("key", tls.key)) if v}
    # PyMySQL verifies the chain whenever a CA is given; the name check is the one switch.
    query["ssl_check_hostname"] = "true" if tls.check_hostname else "false"
    return query


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
