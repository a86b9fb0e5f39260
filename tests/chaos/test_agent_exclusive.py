"""One agent per site (issue 12, defect 3).

A second ``mdbc agent --site dc1`` started with a wrong password while the
real dc1 agent runs used to release dc1's leases on its first tick and mark
dc1 ``db-down`` for good: another site took every range from a healthy dc1,
and later failovers found "no site is the best candidate". Now it exits 3
having done nothing, and the registry keeps telling the truth.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

from mdbc_py.config import save
from tests.chaos.agent_support import wait_for
from tests.chaos.conftest import Cluster
from tests.conftest import with_password


def _lease_of(cluster: Cluster, range_name: str, site: str) -> bool:
    lease = cluster.store.get_lease(range_name)
    return lease is not None and lease.holder == site


def _site_info(cluster: Cluster, site: str) -> dict[str, str]:
    return next(s.info for s in cluster.store.list_sites() if s.name == site)


def test_second_agent_with_a_wrong_password_exits_and_changes_nothing(
    make_cluster, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(n_ranges=2)
    for name in cluster.ranges:
        wait_for(f"dc1 holds the lease of {name}", lambda n=name: _lease_of(cluster, n, "dc1"))
    wait_for("dc1 reports its database up", lambda: _site_info(cluster, "dc1").get("db") == "up")
    wrong = replace(
        cluster.cfg,
        sites={**cluster.cfg.sites, "dc1": with_password(cluster.cfg.sites["dc1"], "wrong")},
    )
    path = save(wrong, tmp_path / "wrong-password.toml")
    second = subprocess.run(
        [sys.executable, "-m", "cli.main", "agent", "--site", "dc1", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 3, (second.returncode, second.stderr[-2000:])
    assert "another agent" in second.stderr and "dc1" in second.stderr, second.stderr[-2000:]
    assert "wrong" not in second.stderr, "a password reached the output"
    time.sleep(3)  # longer than a lease: anything the second agent broke would show now
    for name in cluster.ranges:
        info = cluster.store.describe_range(name)
        assert (info.owner, info.epoch, info.state.value) == ("dc1", 1, "open"), info
        assert cluster.store.history(name) == []
        assert _lease_of(cluster, name, "dc1")
    assert _site_info(cluster, "dc1").get("db") == "up"
    assert cluster.agents["dc1"].poll() is None, "the real agent died"


def test_agent_that_cannot_log_in_releases_nothing_and_says_why(make_cluster, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster()
    name = cluster.ranges[0]
    wait_for("dc1 holds the lease", lambda: _lease_of(cluster, name, "dc1"))
    cluster.store.put_setting("failover.paused", "1")  # this test is about dc1's own agent
    try:
        cluster.stop_agent("dc1")
        wrong = replace(
            cluster.cfg,
            sites={**cluster.cfg.sites, "dc1": with_password(cluster.cfg.sites["dc1"], "x")},
        )
        path = save(wrong, tmp_path / "wrong-password.toml")
        cluster.path, real_path = path, cluster.path
        cluster.start_agent("dc1")
        cluster.path = real_path
        wait_for(
            "dc1's heartbeat says its login is refused",
            lambda: _site_info(cluster, "dc1").get("db") == "login-refused",
        )
        info = cluster.store.describe_range(name)
        assert (info.owner, info.epoch) == ("dc1", 1)
        cluster.stop_agent("dc1")
        cluster.start_agent("dc1")  # the right password again: the state follows at once
        wait_for("dc1 says up again", lambda: _site_info(cluster, "dc1").get("db") == "up")
        wait_for("dc1 holds the lease again", lambda: _lease_of(cluster, name, "dc1"))
    finally:
        cluster.store.put_setting("failover.paused", None)
