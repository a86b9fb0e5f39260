"""What makes ``mdbc status`` exit 1: a site this process cannot reach, or an unhealthy row.

The status table is built from what the agents reported to the store, so it
looks fine while, for instance, the configuration holds a wrong password for
a site. ``mdbc status`` therefore also logs in to every site's MariaDB with
the configured credentials (all sites at once, each with a short timeout) and
exits 1 if any login fails or any row shows a site or range in trouble.
Monitoring can rely on the exit code; the table is printed either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pymysql

from mdbc_py.config import Config, SiteConfig

PROBE_TIMEOUT = 3.0
"""Seconds one login may take: a black-holed host must not hang ``status``."""

HEALTHY_REPLICA_STATES = frozenset({"streaming"})
HEALTHY_OWNER_STATES = frozenset({"open", "draining"})
"""``draining`` is a switchover in progress: the owner still commits."""


@dataclass(frozen=True)
class Problem:
    """One reason ``status`` is not all fine: which site, and what is wrong."""

    site: str
    what: str

    def __str__(self) -> str:
        return f"{self.site}: {self.what}"


def probe_site(site: SiteConfig, timeout: float = PROBE_TIMEOUT) -> str | None:
    """``None`` if the site's MariaDB accepts the configured login, else why not.

    The reason is MariaDB's or PyMySQL's own text, which does not contain
    the password; ``_mask`` withholds it anyway should a server echo it.
    """
    try:
        conn = pymysql.connect(
            **site.connect_kwargs(),
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
        )
    except (pymysql.err.Error, OSError) as exc:
        where = f"MariaDB at {site.host}:{site.port} as {site.user!r}"
        return _mask(f"cannot connect to {where} with the configured password: {exc}", site)
    try:
        conn.ping(reconnect=False)
    except pymysql.err.Error as exc:
        return _mask(f"MariaDB at {site.host}:{site.port} does not answer: {exc}", site)
    finally:
        conn.close()
    return None


def _mask(text: str, site: SiteConfig) -> str:
    """``text``, unless the password occurs in it: then a line that says only that.

    Replacing the password inside the text would show where it occurred,
    which gives a short password away, so the whole detail is dropped.
    """
    if site.password and site.password in text:
        return (
            f"cannot connect to MariaDB at {site.host}:{site.port} as {site.user!r} "
            "(details withheld: they contain the password)"
        )
    return text


def probe_sites(cfg: Config, timeout: float = PROBE_TIMEOUT) -> list[Problem]:
    """Log in to every configured site at once; one Problem per site that refused or was silent."""
    sites = list(cfg.sites.values())
    if not sites:
        return []
    with ThreadPoolExecutor(max_workers=len(sites)) as pool:
        answers = list(pool.map(lambda s: probe_site(s, timeout), sites))
    return [Problem(s.name, why) for s, why in zip(sites, answers, strict=True) if why]


def unhealthy_rows(rows: Iterable[Mapping[str, object]]) -> list[Problem]:
    """One Problem per status row whose site is not streaming or whose range has no open owner."""
    problems = []
    for row in rows:
        role, state = row.get("role"), str(row.get("state"))
        healthy = HEALTHY_OWNER_STATES if role == "owner" else HEALTHY_REPLICA_STATES
        if state not in healthy:
            error = row.get("error")
            why = f": {error}" if error else ""
            problems.append(
                Problem(str(row.get("site")), f"range {row.get('range')} is {state}{why}")
            )
    return problems
