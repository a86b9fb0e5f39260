"""The benchmark's arithmetic: pooled rounds and the floors of the commit targets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.common import Result, merge
from bench.floors import Peers, design_floors


def run(name: str, n: int, wall: float, cpu: dict[str, float], per_lwt: float | None = None,
        trips: int = 0) -> Result:  # fmt: skip
    return Result(name, [0.001] * n, wall, cpu, trips, per_lwt)


def test_merge_pools_rounds_and_weights_transactions_per_lwt() -> None:
    a = run("mdbc", 600, 1.0, {"client": 0.3, "dc1": 0.2}, per_lwt=6.0, trips=1800)
    b = run("mdbc", 300, 1.0, {"client": 0.1, "node1": 0.5}, per_lwt=3.0, trips=900)
    both = merge(a, b)
    assert len(both.latencies) == 900
    assert both.wall == 2.0
    assert both.throughput == 450
    assert both.cpu == pytest.approx({"client": 0.4, "dc1": 0.2, "node1": 0.5})
    assert both.round_trips == 2700
    # 100 appends carried 600 transactions, then 100 appends carried 300: 4.5 per append.
    assert both.per_lwt == pytest.approx(4.5)


def test_merge_of_runs_without_appends_has_no_transactions_per_lwt() -> None:
    assert merge(run("raw", 10, 1.0, {}), run("raw", 10, 1.0, {})).per_lwt is None


def test_floors_from_the_peers_of_one_run() -> None:
    # CPU seconds per process over 1 s (0.5 s for the append) of 1,000 transactions.
    many = Peers(
        raw=run("raw", 1000, 1.0, {"client": 0.1, "dc1": 0.12, "node1": 0.0}),
        mdbc=run("mdbc", 800, 1.0, {"client": 0.6, "dc1": 0.48, "node1": 0.56}),
        semi=run("semi", 4000, 1.0, {"client": 0.4}),
        append=run("append", 1000, 0.5, {"client": 0.16, "node1": 0.64}),
        design=run("design", 1000, 1.0, {"client": 0.07, "dc1": 0.33}),
    )
    # At 1 client every transaction takes 1 ms, but mdbc's take 3 and the append's 2.
    one = Peers(
        raw=run("raw", 10, 1.0, {}),
        mdbc=replace(run("mdbc", 10, 1.0, {}), latencies=[0.003] * 10),
        semi=run("semi", 10, 1.0, {}),
        append=replace(run("append", 10, 1.0, {}), latencies=[0.002] * 10),
        design=run("design", 10, 1.0, {}),
    )
    floors = {f.figure: f for f in design_floors(one, many, cores=2)}

    client = floors["client CPU µs/txn"]
    assert client.mdbc == pytest.approx(750)
    assert client.machine == pytest.approx(260)  # raw's 100 + the append's 160
    assert client.design == pytest.approx(230)  # the design's 70 + the append's 160
    assert client.verdict == "no: beyond the machine"  # a budget of 250, a floor of 260

    mariadb = floors["MariaDB CPU µs/txn"]
    assert (mariadb.machine, mariadb.design) == pytest.approx((120, 330))
    assert mariadb.verdict == "no: beyond the design"
    assert not mariadb.reachable

    # Raw and the append together: 220 + 800 = 1,020 µs per transaction; the
    # design's statements and the append: 400 + 800 = 1,200. 2 cores.
    vs_append = floors["txn/s vs 0.8 x bare append"]
    assert vs_append.mdbc == pytest.approx(800)
    assert (vs_append.machine, vs_append.design) == pytest.approx((2e6 / 1020, 2e6 / 1200))
    assert vs_append.target == pytest.approx(0.8 * 2000)
    assert vs_append.reachable
    vs_semi = floors["txn/s vs 0.6 x semi-sync"]
    assert vs_semi.target == pytest.approx(0.6 * 4000)
    assert vs_semi.verdict == "no: beyond the machine"

    latency = floors["p50 ms at 1 client"]
    assert latency.mdbc == pytest.approx(3.0)
    assert (latency.machine, latency.design) == pytest.approx((3.0, 3.0))
    assert latency.target == pytest.approx(3.75)  # 1.25 x (1 + 2)
    assert latency.reachable
