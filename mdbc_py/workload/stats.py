"""Thread-safe counters of a workload run, and the timeline of its commits.

The timeline (when and at which site every transaction committed) is what
turns "the owner was killed" into a recovery time: the first commit at
another site after the kill.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

COUNTERS = (
    "acked",
    "api_failed",
    "retries",
    "jobs_acquired",
    "jobs_resumed",
    "acquire_conflicts",
    "save_points",
    "completed",
    "job_failures",
    "incidents",
    "locks_lost",
    "crashed",
    "errors",
)
"""Every counter a run keeps (see ``Workload`` for what each one counts)."""


@dataclass
class Stats:
    """Counters and the commit timeline, shared by every thread of a run."""

    counts: Counter[str] = field(default_factory=Counter)
    _times: list[float] = field(default_factory=list)
    _sites: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        with self._lock:
            self.counts[name] += n

    def get(self, name: str) -> int:
        """The current value of counter ``name``."""
        with self._lock:
            return self.counts[name]

    def snapshot(self) -> dict[str, int]:
        """Every counter, at one instant."""
        with self._lock:
            return {name: self.counts[name] for name in COUNTERS}

    def committed(self, site: str) -> None:
        """Record a commit at ``site`` now (``time.monotonic``)."""
        with self._lock:
            self._times.append(time.monotonic())
            self._sites.append(site)

    def first_commit_after(self, t: float, not_at: str | None = None) -> tuple[float, str] | None:
        """The first commit after monotonic time ``t`` (at a site other than ``not_at``)."""
        with self._lock:
            start = bisect.bisect_right(self._times, t)
            for i in range(start, len(self._times)):
                if self._sites[i] != not_at:
                    return self._times[i], self._sites[i]
        return None

    def commits_between(self, t0: float, t1: float) -> int:
        """How many transactions committed in ``[t0, t1)``."""
        with self._lock:
            return bisect.bisect_left(self._times, t1) - bisect.bisect_left(self._times, t0)
