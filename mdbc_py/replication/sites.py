"""Sessions to a site's MariaDB for replication work, and its read-only switch."""

from __future__ import annotations

import pymysql
from pymysql.connections import Connection
from pymysql.cursors import Cursor

from mdbc_py.config import Config
from mdbc_py.errors import OperationalError
from mdbc_py.replication import apply

CONNECT_TIMEOUT = 3


class SiteUnreachableError(OperationalError):
    """A site's MariaDB did not answer; the message names the site and address."""


def connect_site(cfg: Config, site: str, replay: bool = True) -> Connection:
    """A session at ``site`` (prepared for replay unless ``replay=False``)."""
    conf = cfg.site(site)
    try:
        conn = pymysql.connect(
            **conf.connect_kwargs(),
            autocommit=False,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=60,
            write_timeout=60,
        )
    except pymysql.err.OperationalError as exc:
        raise SiteUnreachableError(
            f"site {site!r}: MariaDB at {conf.host}:{conf.port} is unreachable ({exc.args[-1]})"
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
