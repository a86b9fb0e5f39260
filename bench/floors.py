"""The floors of the commit targets: what no code could beat on the machine of a run.

The targets of ``bench/commit.py`` are ratios to peers and absolute CPU
budgets. Where the peers themselves already cost more than a budget allows,
the target says more about the machine than about mdbc_py; these floors,
computed from the peers of the same run, tell the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.common import Result


@dataclass(frozen=True)
class Floor:
    """One target beside the best any design built of these parts could do on this machine."""

    figure: str
    mdbc: float
    floor: float
    target: float
    unit: str
    higher_is_better: bool

    @property
    def reachable(self) -> bool:
        """Can the target be met at all, given the floor measured in the same run?"""
        return self.floor >= self.target if self.higher_is_better else self.floor <= self.target


def design_floors(raw: Result, mdbc: Result, semi: Result, append: Result,
                  cores: int) -> list[Floor]:  # fmt: skip
    """The floors the targets meet on this machine, from the peers of the same run.

    Any commit path of this design does at least what raw PyMySQL does at
    MariaDB and what the bare append does at the store, with the same two
    client libraries: its client CPU is at least the sum of theirs, its
    MariaDB CPU at least raw's. Where the clients, MariaDB and Cassandra share
    the cores, no such path commits faster than the cores divided by the CPU
    both peers spend per transaction, in every process. A target beyond its
    floor cannot be met on this machine, by any code.
    """

    def total(r: Result) -> float:
        return sum(r.cpu_us_per_op(name) for name in r.cpu)

    client_floor = raw.cpu_us_per_op("client") + append.cpu_us_per_op("client")
    ceiling = cores * 1e6 / (total(raw) + total(append)) if total(raw) + total(append) else 0.0
    return [
        Floor("client CPU µs/txn", mdbc.cpu_us_per_op("client"), client_floor, 250, "µs", False),
        Floor("MariaDB CPU µs/txn", mdbc.cpu_us_per_op("dc1"), raw.cpu_us_per_op("dc1"), 200,
              "µs", False),
        Floor("txn/s vs 0.8 x bare append", mdbc.throughput, ceiling, 0.8 * append.throughput,
              "txn/s", True),
        Floor("txn/s vs 0.6 x semi-sync", mdbc.throughput, ceiling, 0.6 * semi.throughput,
              "txn/s", True),
    ]  # fmt: skip


def print_floors(floors: list[Floor], clients: int) -> None:
    """The targets beside their floors (see :func:`design_floors`)."""
    head = f"target, {clients} clients"
    print(f"{head:30} {'mdbc':>9} {'floor':>9} {'target':>9}  reachable here")
    for f in floors:
        print(f"{f.figure:30} {f.mdbc:9.0f} {f.floor:9.0f} {f.target:9.0f}  "
              f"{'yes' if f.reachable else 'no: beyond the floor'}")  # fmt: skip
