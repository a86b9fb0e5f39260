"""The SQLite schema of the embedded MUSIC store, and how each connection is set up.

Kept apart from ``embedded.py`` so the store's logic reads without the DDL
in the way. The schema mirrors the Cassandra one table for table, minus the
log segments: one SQLite table has no partition that could grow too large.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2
"""Stored in ``PRAGMA user_version``; a file of version 1 is upgraded, any other refused."""

TABLES: tuple[str, ...] = (
    # One row per range: the fencing token (epoch), owner, state and the
    # counters that appends and trims move. Every append and owner change is
    # a read-modify-write of this row inside one BEGIN IMMEDIATE transaction.
    """
    CREATE TABLE IF NOT EXISTS ranges (
        name        TEXT PRIMARY KEY,
        owner       TEXT,
        epoch       INTEGER NOT NULL,
        state       TEXT NOT NULL,
        tail        INTEGER NOT NULL,
        trim_point  INTEGER NOT NULL,
        created_at  REAL NOT NULL
    )
    """,
    # The log. A rowid table (not WITHOUT ROWID): payloads of up to 64 MiB
    # live in overflow pages, which WITHOUT ROWID tables handle poorly.
    """
    CREATE TABLE IF NOT EXISTS log (
        range_name  TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        epoch       INTEGER NOT NULL,
        txid        TEXT NOT NULL,
        payload     BLOB NOT NULL,
        appended_at REAL NOT NULL,
        UNIQUE (range_name, seq)
    )
    """,
    # Not unique: a txid is the driver's, and the store must not turn a
    # retried append into a different error than the contract promises.
    "CREATE INDEX IF NOT EXISTS log_txid ON log (range_name, txid)",
    """
    CREATE TABLE IF NOT EXISTS history (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        range_name  TEXT NOT NULL,
        from_site   TEXT,
        to_site     TEXT NOT NULL,
        from_epoch  INTEGER NOT NULL,
        to_epoch    INTEGER NOT NULL,
        tail        INTEGER NOT NULL,
        at          REAL NOT NULL,
        reason      TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS history_range ON history (range_name, id)",
    """
    CREATE TABLE IF NOT EXISTS sites (
        name          TEXT PRIMARY KEY,
        registered_at REAL NOT NULL,
        heartbeat_at  REAL NOT NULL,
        info          TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS leases (
        range_name  TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        expires_at  REAL NOT NULL,
        epoch       INTEGER NOT NULL DEFAULT 0,
        version     TEXT NOT NULL DEFAULT '',
        ttl         REAL NOT NULL DEFAULT 0
    )
    """,
    # One agent process per site: the instance that may act for it.
    """
    CREATE TABLE IF NOT EXISTS agents (
        site        TEXT PRIMARY KEY,
        instance    TEXT NOT NULL,
        expires_at  REAL NOT NULL
    )
    """,
    # Running proxies (not sites: they never count for trimming); a row is
    # live until expires_at, renewed by every heartbeat.
    """
    CREATE TABLE IF NOT EXISTS proxies (
        site         TEXT NOT NULL,
        instance     TEXT NOT NULL,
        heartbeat_at REAL NOT NULL,
        expires_at   REAL NOT NULL,
        info         TEXT NOT NULL,
        PRIMARY KEY (site, instance)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS settings (
        name   TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS applied (
        site        TEXT NOT NULL,
        range_name  TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        updated_at  REAL NOT NULL,
        PRIMARY KEY (site, range_name)
    )
    """,
)


def configure(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Set the per-connection pragmas the store's guarantees rest on.

    WAL lets readers run beside the one writer; ``synchronous=FULL`` makes a
    commit survive power loss (WAL with NORMAL may lose the last commits,
    which would break "no acknowledged commit is ever lost").
    """
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(
            f"cannot switch the store file to WAL mode (it stays in {mode!r} mode); "
            "put it on a local file system"
        )
    conn.execute("PRAGMA synchronous = FULL")


UPGRADE_FROM_1: tuple[str, ...] = (
    "ALTER TABLE leases ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE leases ADD COLUMN version TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE leases ADD COLUMN ttl REAL NOT NULL DEFAULT 0",
)


def _upgrade_from_1(conn: sqlite3.Connection) -> None:
    """Version 2 gave leases an epoch, a version and a ttl (the agents table is new)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(leases)")}
    for statement in UPGRADE_FROM_1:
        if statement.split()[5] not in columns:
            conn.execute(statement)


def create(conn: sqlite3.Connection) -> None:
    """Create every table and index if missing, in one write transaction.

    Several processes may open a new file at once: BEGIN IMMEDIATE makes them
    take turns, and ``IF NOT EXISTS`` makes the later ones no-ops.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, 1, SCHEMA_VERSION):
            raise sqlite3.DatabaseError(
                f"the store file has schema version {version}, this mdbc_py knows "
                f"version {SCHEMA_VERSION}; use a matching mdbc_py or a new file"
            )
        for statement in TABLES:
            conn.execute(statement)
        if version == 1:
            _upgrade_from_1(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
