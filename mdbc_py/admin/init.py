"""``mdbc init``: prepare the store, the sites and the capture for every range.

Idempotent: it creates what is missing and leaves what exists. Order:
store schema; sites registered; ranges created (owner: the range's
``initial_owner``, else the first site); at every reachable site the ``mdbc``
bookkeeping database, each range's database, and the capture triggers of
every table already there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pymysql
from pymysql.cursors import Cursor

from mdbc_py import capture
from mdbc_py.config import Config
from mdbc_py.core import apply, positions
from mdbc_py.music import MusicStore, RangeInfo, open_store


@dataclass
class InitReport:
    """What ``initialize`` found and did."""

    ranges: list[RangeInfo] = field(default_factory=list)
    captured: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)


def _say(_: str) -> None:
    pass


def initialize(cfg: Config, store: MusicStore | None = None,
               say: Callable[[str], None] = _say) -> InitReport:  # fmt: skip
    """Initialise store, sites and capture as configured (see module docstring)."""
    report = InitReport()
    own = store is None
    store = store or open_store(cfg.store, create=True)
    try:
        first = next(iter(cfg.sites), None)
        for name, site in cfg.sites.items():
            store.register_site(name, {"host": site.host, "port": str(site.port)})
        for rng in cfg.ranges.values():
            owner = rng.initial_owner or first
            if owner is None:
                raise ValueError("no sites configured: nothing can own a range")
            report.ranges.append(store.create_range(rng.name, owner))
            say(f"range {rng.name}: owner {report.ranges[-1].owner}, epoch "
                f"{report.ranges[-1].epoch}")  # fmt: skip
        for name, site in cfg.sites.items():
            try:
                report.captured[name] = prepare_site(cfg, name)
            except pymysql.err.OperationalError as exc:
                report.unreachable[name] = str(exc)
                say(f"site {name}: unreachable ({exc}); run init again once it is up")
                continue
            say(f"site {name}: ready ({sum(map(len, report.captured[name].values()))} tables "
                "captured)")  # fmt: skip
            _ = site
    finally:
        if own:
            store.close()
    return report


def prepare_site(cfg: Config, site_name: str) -> dict[str, list[str]]:
    """Bookkeeping database, range databases and capture at one site."""
    conn = pymysql.connect(**cfg.site(site_name).connect_kwargs(), autocommit=True)
    try:
        with conn.cursor(Cursor) as cur:
            positions.create_schema(cur)
            databases = sorted({r.database for r in cfg.ranges.values()})
            for db in databases:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS {apply.quote_ident(db)} "
                            "CHARACTER SET utf8mb4")  # fmt: skip
        return {db: capture.install_database(conn, db) for db in databases}
    finally:
        conn.close()
