"""The admin CLI against real services: right answers, clear refusals, nothing changed on error."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from tests.chaos.conftest import Cluster


def mdbc(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args, "-c", str(cluster.path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_status_lists_every_range_and_site_without_secrets(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster = make_cluster(n_ranges=2, agents=True)
    deadline = time.monotonic() + 60
    done = mdbc(cluster, "status", "-o", "json")
    while done.returncode != 0 and time.monotonic() < deadline:  # agents starting up
        time.sleep(0.5)
        done = mdbc(cluster, "status", "-o", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {(r["range"], r["site"]) for r in rows} == {
        (rng, site) for rng in cluster.ranges for site in ("dc1", "dc2", "dc3")
    }
    owners = {r["range"]: r["site"] for r in rows if r["role"] == "owner"}
    assert owners == {rng: "dc1" for rng in cluster.ranges}
    table = mdbc(cluster, "status")
    assert table.returncode == 0 and "owner" in table.stdout
    for site in cluster.cfg.sites.values():
        assert site.password not in done.stdout + table.stdout + done.stderr


def test_promote_and_history(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster = make_cluster(agents=False)
    rng = cluster.ranges[0]
    done = mdbc(cluster, "promote", rng, "--site", "dc2")
    assert done.returncode == 0, done.stderr
    assert "owner dc2 at epoch 2" in done.stdout
    info = cluster.store.describe_range(rng)
    assert (info.owner, info.epoch, info.state.value) == ("dc2", 2, "open")
    hist = json.loads(mdbc(cluster, "history", rng, "-o", "json").stdout)
    assert [(h["from"], h["to"], h["epoch"]) for h in hist] == [("dc1", "dc2", 2)]


def test_bad_input_is_refused_and_changes_nothing(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster = make_cluster(agents=False)
    rng = cluster.ranges[0]
    before = cluster.store.describe_range(rng)

    unknown_range = mdbc(cluster, "promote", "no_such_range", "--site", "dc2")
    assert unknown_range.returncode == 2 and "unknown range" in unknown_range.stderr

    unknown_site = mdbc(cluster, "promote", rng, "--site", "dc9")
    assert unknown_site.returncode == 2 and "unknown site 'dc9'" in unknown_site.stderr

    missing_arg = mdbc(cluster, "switchover", rng)
    assert missing_arg.returncode == 2 and "--to" in missing_arg.stderr

    cluster.sandbox.kill("dc3")
    try:
        down = mdbc(cluster, "switchover", rng, "--to", "dc3")
        assert down.returncode == 1, down.stdout
        assert "dc3" in down.stderr and "unreachable" in down.stderr
        assert "nothing changed" in down.stderr
    finally:
        cluster.sandbox.start("dc3")

    already = mdbc(cluster, "switchover", rng, "--to", "dc1")
    assert already.returncode == 1 and "already owns" in already.stderr
    assert cluster.store.describe_range(rng) == before
    assert cluster.store.history(rng) == []
