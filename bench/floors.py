"""The floors of the commit targets: what no code could beat on the machine of a run.

The targets of ``bench/commit.py`` are ratios to peers and absolute budgets.
Where the peers themselves already cost more than a target allows, the
target says more about the machine, or about the design, than about the
code of mdbc_py; these floors, computed from the runs of the same
benchmark, tell the three apart. Each target gets two floors:

- **machine**: from raw PyMySQL and the bare store append. Any commit path
  that writes to MariaDB and appends to the store, with these two client
  libraries, does at least what they do.
- **design**: from the commit path's own MariaDB statements sent bare
  (capture trigger, staged-row read, cleanup, applied position and COMMIT,
  DESIGN.md section 4, through the core's PyMySQL session with no driver
  around them and no store) and the bare append. No implementation of this design does less.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.common import Result


@dataclass(frozen=True)
class Peers:
    """The runs of one client count: mdbc_py and what it is measured against."""

    raw: Result
    mdbc: Result
    semi: Result
    append: Result
    design: Result


@dataclass(frozen=True)
class Floor:
    """One target beside the best a path could do on this machine: any path, and this design's."""

    figure: str
    mdbc: float
    machine: float
    design: float
    target: float
    unit: str
    higher_is_better: bool

    @property
    def decimals(self) -> int:
        """Digits after the point that its figures are shown with."""
        return 2 if self.unit == "ms" else 0

    def _meets(self, value: float) -> bool:
        return value >= self.target if self.higher_is_better else value <= self.target

    @property
    def verdict(self) -> str:
        """Whether the target can be met here, and if not, what stands in the way."""
        if not self._meets(self.machine):
            return "no: beyond the machine"
        if not self._meets(self.design):
            return "no: beyond the design"
        return "yes"

    @property
    def reachable(self) -> bool:
        """Can code meet the target on this machine, with this design?"""
        return self.verdict == "yes"


def _total_us(r: Result) -> float:
    """CPU µs per transaction, summed over every process measured (client, MariaDB, Cassandra)."""
    return sum(r.cpu_us_per_op(name) for name in r.cpu)


def _ceiling(cores: int, *runs: Result) -> float:
    """Transactions per second ``cores`` allow if each costs what ``runs`` cost together."""
    total = sum(_total_us(r) for r in runs)
    return cores * 1e6 / total if total else 0.0


def design_floors(one: Peers, many: Peers, cores: int) -> list[Floor]:
    """The targets beside their floors, from the runs at 1 client (``one``) and more (``many``).

    Where clients, MariaDB and Cassandra share the cores, no path commits
    faster than the cores divided by the CPU its parts spend per
    transaction in every process. The latency floor is the sum of the
    medians of the parts a commit runs one after the other.
    """
    append = many.append
    client = "client"
    return [
        Floor("client CPU µs/txn", many.mdbc.cpu_us_per_op(client),
              many.raw.cpu_us_per_op(client) + append.cpu_us_per_op(client),
              many.design.cpu_us_per_op(client) + append.cpu_us_per_op(client), 250, "µs", False),
        Floor("MariaDB CPU µs/txn", many.mdbc.cpu_us_per_op("dc1"), many.raw.cpu_us_per_op("dc1"),
              many.design.cpu_us_per_op("dc1"), 200, "µs", False),
        Floor("txn/s vs 0.8 x bare append", many.mdbc.throughput,
              _ceiling(cores, many.raw, append), _ceiling(cores, many.design, append),
              0.8 * append.throughput, "txn/s", True),
        Floor("txn/s vs 0.6 x semi-sync", many.mdbc.throughput,
              _ceiling(cores, many.raw, append), _ceiling(cores, many.design, append),
              0.6 * many.semi.throughput, "txn/s", True),
        Floor("p50 ms at 1 client", one.mdbc.p50_ms, one.raw.p50_ms + one.append.p50_ms,
              one.design.p50_ms + one.append.p50_ms,
              1.25 * (one.raw.p50_ms + one.append.p50_ms), "ms", False),
    ]  # fmt: skip


def print_floors(floors: list[Floor], clients: int) -> None:
    """The targets beside their floors (see :func:`design_floors`)."""
    head = f"target ({clients} clients unless said)"
    print(f"{head:34} {'mdbc':>8} {'machine':>8} {'design':>8} {'target':>8}  reachable here")
    for f in floors:
        values = (f.mdbc, f.machine, f.design, f.target)
        print(f"{f.figure:34} " + " ".join(f"{v:8.{f.decimals}f}" for v in values)
              + f"  {f.verdict}")  # fmt: skip
