"""``mdbc init``: prepare the store, the sites and the capture for every range.

Idempotent: it creates what is missing and leaves what exists. Order:
checks first, so that a refusal changes nothing anywhere: every range's
database and table names are valid MariaDB identifiers mdbc may use
(``check_names``), and the account has every privilege it needs at every
reachable site (``mdbc_py.admin.grants``; all missing ones are named in
one :class:`~mdbc_py.admin.grants.GrantsMissingError`). Then the store
schema; sites registered; ranges created (owner: the range's
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
from mdbc_py.admin import grants
from mdbc_py.capture.naming import MAX_IDENT, is_internal_table
from mdbc_py.config import Config
from mdbc_py.core import apply, positions
from mdbc_py.errors import ConfigError
from mdbc_py.music import MusicStore, RangeInfo, open_store


@dataclass
class InitReport:
    """What ``initialize`` found and did."""

    ranges: list[RangeInfo] = field(default_factory=list)
    captured: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)


def _say(_: str) -> None:
    pass


SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})


def _identifier_problem(name: str) -> str | None:
    """Why MariaDB (or mdbc) cannot use ``name`` as a database or table name, or None."""
    if not name:
        return "it is empty"
    if len(name) > MAX_IDENT:
        return f"it has {len(name)} characters; MariaDB allows {MAX_IDENT}"
    if name.endswith(" "):
        return "it ends with a space, which MariaDB does not allow"
    if "\0" in name:
        return "it contains a NUL character"
    if any(ord(ch) > 0xFFFF for ch in name):
        return "it contains a character outside the BMP (MariaDB identifiers are utf8mb3)"
    return None


def check_names(cfg: Config) -> None:
    """Refuse a range whose database or tables MariaDB or mdbc cannot use (ConfigError).

    Names are always backquoted in SQL, so quotes, backquotes, semicolons
    and non-ASCII letters are fine; what is refused here is what MariaDB
    itself would refuse half-way through an init (too long, a trailing
    space, NUL, characters outside utf8mb3) and what belongs to mdbc or to
    the server (``mdbc``, ``mdbc_*``, the system schemas).
    """
    for rng in cfg.ranges.values():
        where = f"[ranges.{rng.name}]"
        db = rng.database
        problem = _identifier_problem(db)
        if problem is None and (db == positions.META_DB or db.startswith("mdbc_")):
            problem = "the name 'mdbc' and names starting with 'mdbc_' belong to mdbc itself"
        if problem is None and db.lower() in SYSTEM_DATABASES:
            problem = "it is a system database of MariaDB"
        if problem:
            raise ConfigError(f"{where}: database {db!r} cannot be used: {problem}",
                              key="database", table=where)  # fmt: skip
        for table in rng.tables or ():
            problem = _identifier_problem(table)
            if problem is None and is_internal_table(table):
                problem = "names starting with 'mdbc_' belong to mdbc itself"
            if problem:
                raise ConfigError(f"{where}: table {table!r} cannot be used: {problem}",
                                  key="tables", table=where)  # fmt: skip


def check_grants(cfg: Config, say: Callable[[str], None] = _say) -> dict[str, str]:
    """Check the account's privileges at every site; return the unreachable ones.

    Raises :class:`~mdbc_py.admin.grants.GrantsMissingError` naming every
    missing privilege at every reachable site, before anything is changed.
    A site that cannot be reached is returned (name: error) and skipped.
    """
    databases = [r.database for r in cfg.ranges.values()]
    missing: list[grants.MissingGrant] = []
    unreachable: dict[str, str] = {}
    for name, site in cfg.sites.items():
        try:
            conn = pymysql.connect(**site.connect_kwargs())
        except pymysql.err.OperationalError as exc:
            unreachable[name] = str(exc)
            say(f"site {name}: unreachable ({exc}); run init again once it is up")
            continue
        try:
            missing += grants.check(conn, name, databases)
        finally:
            conn.close()
    if missing:
        raise grants.GrantsMissingError(missing)
    return unreachable


def initialize(cfg: Config, store: MusicStore | None = None,
               say: Callable[[str], None] = _say) -> InitReport:  # fmt: skip
    """Initialise store, sites and capture as configured (see module docstring)."""
    check_names(cfg)
    report = InitReport()
    report.unreachable.update(check_grants(cfg, say))
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
            if name in report.unreachable:
                continue
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
