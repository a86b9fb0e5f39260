"""Clocks: an agent whose wall clock runs 5 s ahead (Debian's ``faketime``).

Safety must not depend on clocks: fencing is an epoch compared inside one
Paxos round, leases expire on Cassandra's clock (TTL), and the agents measure
their own waits on the monotonic clock. Only the wall clock is faked
(``FAKETIME_DONT_FAKE_MONOTONIC=1``): a host whose NTP is wrong has a wrong
wall clock, not a wrong monotonic one (and libfaketime's monotonic faking
hangs Python's timed waits).

What these tests found about liveness (dc2 runs 5 s ahead, dc1's agent is
killed, writers in mode route):

- safety held in every run: the history checker found nothing lost,
  duplicated or split, whichever site took over;
- an agent that judges a heartbeat's age as its own ``time.time()`` minus
  the heartbeat time Cassandra wrote (``toTimestamp(now())``), as the agent
  of issue 12's first fix did, sees every heartbeat at least 5 s old, older
  than ``stale_site_after`` (5 s): no live candidate, itself included ("no
  site is the best candidate"). The healthy replica dc3 ranks candidates by
  applied position, then priority, then name, and dc2 wins a tie by name.
  Under load dc3 happened to be ahead and took over 2.5 s after the kill;
  with the writers stopped first (both replicas at the tail, the second
  test) dc3 waited for dc2, dc2 for nobody, and no failover came in 20 s;
- an agent that judges heartbeats by when it saw them change, on its own
  clock, is immune: the skewed dc2 won the tie and opened 5.2 s after the
  kill, dc3 under load 2.5 s (as without skew).
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time

from tests.chaos.conftest import Cluster
from tests.conftest import unavailable

SKEW_SECONDS = 5
LIBFAKETIME = ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1")


def _skewed_env() -> dict[str, str]:
    """Environment that runs a process with its wall clock 5 s ahead (libfaketime).

    The library is preloaded directly rather than through the ``faketime``
    command: that command forks the program and does not pass signals on,
    so terminating or killing it left the agent running, orphaned.
    """
    found = [p for pattern in LIBFAKETIME for p in sorted(glob.glob(pattern))]
    if not found:
        unavailable("libfaketime is not installed (scripts/install-deps installs faketime)")
    env = {
        "LD_PRELOAD": found[0],
        "FAKETIME": f"+{SKEW_SECONDS}s",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    shown = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **env},
        check=True,
    )
    skew = float(shown.stdout) - time.time()
    assert SKEW_SECONDS - 1 < skew < SKEW_SECONDS + 1, (
        f"libfaketime moved the clock by {skew:.1f} s"
    )
    return env


def test_agent_with_its_clock_5s_ahead_does_nothing_unsafe(make_cluster) -> None:  # type: ignore[no-untyped-def]
    skewed = _skewed_env()
    cluster: Cluster = make_cluster(mode="route", agents=False)
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    cluster.start_agent("dc1")
    cluster.wait_owner_leases()
    cluster.start_agent("dc2", env=skewed)
    cluster.start_agent("dc3")
    for site in ("dc2", "dc3"):
        cluster.start_writer(f"w{site}", site).wait_acks()
    cluster.wait_caught_up(db, ["dc2"])  # the skewed agent replays like the others
    time.sleep(1)
    killed_at = time.monotonic()
    cluster.kill_agent("dc1")  # the owner's lease lapses; its MariaDB stays up
    try:
        new_owner = cluster.wait_owner(db, not_site="dc1", seconds=30)
        print(f"[clocks] {new_owner} took over {time.monotonic() - killed_at:.1f} s after "
              "the owner's agent died", flush=True)  # fmt: skip
    finally:
        time.sleep(1)
        cluster.start_agent("dc1")  # whatever happened, the history must be sound
        report = cluster.check_history()
        assert report.ok, str(report)
        assert report.n_lost == 0 and report.n_duplicated == 0


def test_failover_happens_when_the_skewed_agent_ties_with_a_healthy_one(make_cluster) -> None:  # type: ignore[no-untyped-def]
    """Both replicas at the log's tail when the owner dies: a failover must still happen."""
    skewed = _skewed_env()
    cluster: Cluster = make_cluster(mode="route", agents=False)
    db = cluster.ranges[0]
    cluster.create_history_table(db)
    cluster.start_agent("dc1")
    cluster.wait_owner_leases()
    cluster.start_agent("dc2", env=skewed)
    cluster.start_agent("dc3")
    cluster.start_writer("wdc3", "dc3").wait_acks()
    cluster.stop_writers()
    cluster.wait_caught_up(db, ["dc1", "dc2", "dc3"])
    time.sleep(1.5)  # both replicas have reported their (equal) positions to the store
    killed_at = time.monotonic()
    cluster.kill_agent("dc1")
    try:
        new_owner = cluster.wait_owner(db, not_site="dc1", seconds=20)
        print(f"[clocks] {new_owner} took over {time.monotonic() - killed_at:.1f} s after "
              "the owner's agent died", flush=True)  # fmt: skip
    finally:
        cluster.start_agent("dc1")
        report = cluster.check_history()
        assert report.ok, str(report)
        assert report.n_lost == 0 and report.n_duplicated == 0
