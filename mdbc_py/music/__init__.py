"""The MUSIC store: a fenced, sequenced log per range on Cassandra (or SQLite).

``open_store(config)`` gives the backend the configuration names; the
contract every backend keeps is ``MusicStore`` in ``mdbc_py.music.store``.
"""

from __future__ import annotations

from mdbc_py.config import StoreConfig
from mdbc_py.errors import ConfigError
from mdbc_py.music.group_commit import GroupCommitter
from mdbc_py.music.model import (
    AgentClaim,
    AppliedPosition,
    Lease,
    LogRecord,
    NewEntry,
    OwnerChange,
    ProxyInfo,
    RangeInfo,
    RangeState,
    SiteInfo,
)
from mdbc_py.music.store import MusicStore

__all__ = [
    "AgentClaim",
    "AppliedPosition",
    "GroupCommitter",
    "Lease",
    "LogRecord",
    "MusicStore",
    "NewEntry",
    "OwnerChange",
    "ProxyInfo",
    "RangeInfo",
    "RangeState",
    "SiteInfo",
    "open_store",
]


def open_store(cfg: StoreConfig, create: bool = True) -> MusicStore:
    """Connect to the store ``cfg`` names; ``create`` its schema if missing.

    Clients that only use an initialised store (drivers, agents) pass
    ``create=False``: checking the schema costs a schema-agreement round.
    """
    if cfg.backend == "cassandra":
        from mdbc_py.music.cassandra import CassandraStore

        return CassandraStore(cfg, create=create)
    if cfg.backend == "embedded":
        from mdbc_py.music.embedded import EmbeddedStore

        if not cfg.path:
            raise ConfigError("[store]: the embedded backend needs 'path'")
        return EmbeddedStore(cfg.path)
    raise ConfigError(f"[store]: unknown backend {cfg.backend!r}")
