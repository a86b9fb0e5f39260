"""Sessions to a site's MariaDB for replication work, and its read-only switch."""

from __future__ import annotations

from typing import Any

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py.config import Config
from mdbc_py.core import apply
from mdbc_py.errors import MdbcError, OperationalError

CONNECT_TIMEOUT = 3


class SiteUnreachableError(MdbcError, OperationalError):
    """A site's MariaDB server cannot be reached (or refuses the configured account)."""


def connect_site(cfg: Config, site: str, *, replay: bool = False, **options: Any) -> Connection:
    """A PyMySQL session at ``site``: utf8mb4, autocommit unless told otherwise.

    ``replay=True`` prepares it for applying log entries (triggers silent,
    foreign keys on). A server that cannot be reached raises
    ``SiteUnreachableError`` naming the site and address, so callers can
    refuse before changing anything.
    """
    conf = cfg.site(site)
    settings: dict[str, Any] = {
        "charset": "utf8mb4",
        "autocommit": True,
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": 120,
        "write_timeout": 120,
    }
    settings.update(options)
    try:
        conn = pymysql.connect(**conf.connect_kwargs(), **settings)
    except pymysql.err.OperationalError as exc:
        raise SiteUnreachableError(
            f"the database of site {site!r} ({conf.host}:{conf.port}) is unreachable: "
            f"{exc.args[-1]}"
        ) from None
    if replay:
        apply.begin_replay(conn)
    return conn


def set_read_only(conn: Connection, read_only: bool) -> bool:
    """Switch ``read_only`` if needed; True if it changed.

    A site that owns no range runs read-only, so an application connected to
    it by mistake cannot write around the log (the replication account keeps
    writing: it holds READ ONLY ADMIN).
    """
    with conn.cursor(Cursor) as cur:
        cur.execute("SELECT @@global.read_only")
        current = bool(cur.fetchone()[0])
        if current != read_only:
            cur.execute(f"SET GLOBAL read_only = {1 if read_only else 0}")
            return True
    return False
