"""What the connections of one process share: the store, group commit, ranges, owners.

A process may open hundreds of connections (an SO service's pool), but it
needs one store session, one group committer (so their commits share
appends) and one view of who owns each range. ``Runtime.for_config`` hands
out that shared state, created lazily: a connection that only reads never
touches the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from mdbc_py.config import Config
from mdbc_py.core import commit_metrics as driver_metrics
from mdbc_py.music import GroupCommitter, MusicStore, RangeInfo, open_store
from mdbc_py.sql import RangeMap, RangeSpec

OWNER_CACHE_SECONDS = 1.0
"""How long a range's owner and epoch are trusted without asking the store.

A stale answer is never unsafe (the store refuses a stale epoch at append);
it only decides how soon a connection notices a change of owner.
"""


@dataclass
class _Cached:
    info: RangeInfo
    at: float


class Runtime:
    """Shared, lazily created state of all connections using one configuration."""

    _registry: ClassVar[dict[int | str, Runtime]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.ranges = RangeMap(
            {
                name: RangeSpec(r.database, frozenset(r.tables) if r.tables else None)
                for name, r in cfg.ranges.items()
            }
        )
        self._lock = threading.Lock()
        self._store: MusicStore | None = None
        self._committer: GroupCommitter | None = None
        self._owners: dict[str, _Cached] = {}
        self._refreshing: set[str] = set()
        self._captured: dict[tuple[str, str], set[str]] = {}
        driver_metrics.from_environment()
        driver_metrics.configure(
            getattr(cfg, "metrics_port", None), getattr(cfg, "metrics_addr", None)
        )

    @classmethod
    def for_config(cls, cfg: Config) -> Runtime:
        """The runtime of ``cfg`` (one per configuration file per process)."""
        key: int | str = cfg.source or id(cfg)
        with cls._registry_lock:
            runtime = cls._registry.get(key)
            if runtime is None:
                runtime = cls._registry[key] = cls(cfg)
            return runtime

    @classmethod
    def reset_all(cls) -> None:
        """Close every runtime of this process (tests; after fork)."""
        with cls._registry_lock:
            for runtime in cls._registry.values():
                runtime.close()
            cls._registry.clear()

    @property
    def store(self) -> MusicStore:
        """The store session, opened on first use."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.cfg.store, create=False)
            return self._store

    @property
    def committer(self) -> GroupCommitter:
        """The process-wide group committer."""
        store = self.store
        with self._lock:
            if self._committer is None:
                self._committer = GroupCommitter(store, observer=driver_metrics.observe_append)
            return self._committer

    def owner(self, range_name: str, fresh: bool = False) -> RangeInfo:
        """Owner, epoch and state of a range; cached for ``OWNER_CACHE_SECONDS``.

        When the cached answer expires, one thread asks the store (a SERIAL
        read) while the others keep using the old answer until it returns:
        a pool of busy threads costs one read per expiry, not one each. A
        stale answer is safe (the store fences a stale epoch at append).
        ``fresh=True`` always asks the store.
        """
        now = time.monotonic()
        with self._lock:
            cached = self._owners.get(range_name)
            current = cached is not None and (
                now - cached.at < OWNER_CACHE_SECONDS or range_name in self._refreshing
            )
            if current and not fresh and cached is not None:
                return cached.info
            self._refreshing.add(range_name)
        try:
            info = self.store.describe_range(range_name)
        finally:
            with self._lock:
                self._refreshing.discard(range_name)
        with self._lock:
            latest = self._owners.get(range_name)
            if latest is None or latest.at <= now:
                self._owners[range_name] = _Cached(info, now)
        return info

    def captured(
        self, site: str, db: str, load: Callable[[str], set[str]], fresh: bool = False
    ) -> set[str]:
        """Tables of ``db`` with capture installed at ``site`` (cached until a DDL).

        ``load`` runs outside the lock (it queries MariaDB); two threads may
        both load, and either answer is current.
        """
        key = (site, db)
        with self._lock:
            known = None if fresh else self._captured.get(key)
        if known is not None:
            return known
        loaded = load(db)
        with self._lock:
            self._captured[key] = loaded
        return loaded

    def forget_captured(self, site: str) -> None:
        """Drop what is known about captured tables at ``site`` (after a DDL)."""
        with self._lock:
            for key in [k for k in self._captured if k[0] == site]:
                del self._captured[key]

    def forget_owner(self, range_name: str) -> None:
        """Drop the cached owner (after a FencedError)."""
        with self._lock:
            self._owners.pop(range_name, None)

    def close(self) -> None:
        """Close the store session."""
        with self._lock:
            if self._store is not None:
                self._store.close()
            self._store = None
            self._committer = None
