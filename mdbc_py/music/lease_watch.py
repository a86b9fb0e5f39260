"""Judging another site's lease with this process's own clock.

A lease row says who holds it, for which epoch, a ``version`` that changes
at every renewal, and the ``ttl`` its holder promised. A watcher decides
that the lease has lapsed when it has not seen ``version`` change for
``ttl`` seconds of its own monotonic clock. So:

- no reader compares its wall clock with another host's (a clock running
  5 s off changes nothing);
- expiry is as fine as the watcher's polling, not Cassandra's whole-second
  TTLs (which made a dead owner's lease last up to ``ceil(ttl) + 1`` s and
  whole-site failover take 4-6 s);
- every change of owner or epoch starts the clock again: a new owner gets a
  full ``ttl`` to show its lease, and a lapse seen for the previous owner
  never counts against the new one (owner flapping, issue 12 defect 4). A
  lease of another holder or an older epoch says nothing about the current
  owner and is ignored.

The watcher is only ever a hint for failover: safety comes from the epoch
fencing in the store, never from a lease.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from mdbc_py.music.model import Lease, RangeInfo


@dataclass
class _Seen:
    owner: str | None
    epoch: int
    version: str | None
    since: float
    ttl: float | None = None  # the ttl the owner's last seen lease promised


class LeaseWatch:
    """Per range: when did this process last see the current owner's lease renewed?"""

    def __init__(self, default_ttl: float) -> None:
        self.default_ttl = default_ttl
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def observe(self, info: RangeInfo, lease: Lease | None, now: float | None = None) -> float:
        """Record what was read; return how long (s) the current owner's lease has been silent."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.get(info.name)
            if seen is None or (seen.owner, seen.epoch) != (info.owner, info.epoch):
                seen = _Seen(info.owner, info.epoch, None, now)
                self._seen[info.name] = seen
            if (
                lease is not None
                and self.speaks_for_owner(info, lease)
                and lease.version != seen.version
            ):
                seen.version = lease.version
                seen.since = now
                seen.ttl = lease.ttl if lease.ttl > 0 else None
            return now - seen.since

    def lapsed(self, info: RangeInfo, lease: Lease | None, now: float | None = None) -> bool:
        """True once the current owner's lease went unrenewed for its ttl (see module doc).

        The ttl is the one the owner's last seen lease promised; before any
        lease of the current owner was seen, ``default_ttl``.
        """
        silent = self.observe(info, lease, now)
        with self._lock:
            seen = self._seen.get(info.name)
            ttl = seen.ttl if seen is not None and seen.ttl is not None else self.default_ttl
        return silent >= ttl

    def forget(self, range_name: str) -> None:
        """Start afresh for ``range_name`` (e.g. after this site tried to promote)."""
        with self._lock:
            self._seen.pop(range_name, None)

    @staticmethod
    def speaks_for_owner(info: RangeInfo, lease: Lease | None) -> bool:
        """Whether ``lease`` is the current owner's, for the current epoch (0: written without)."""
        return lease is not None and lease.holder == info.owner and lease.epoch in (0, info.epoch)
