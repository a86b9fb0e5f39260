"""Shared helpers of the benchmarks: services, timing, and side-by-side reports."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mdbc_py.config import Config, load
from mdbc_py.sandbox import Sandbox

BENCH_BASE_PORT = int(os.environ.get("MDBC_BENCH_BASE_PORT", "3350"))
BENCH_CASSANDRA_IP = os.environ.get("MDBC_BENCH_CASSANDRA_IP", "127.0.0.41")
"""Where a benchmark's own sandbox listens; the environment moves it beside other sandboxes."""


_service_pids: dict[str, int] = {}
"""Pids of the services the running benchmark started (for CPU accounting)."""


@contextlib.contextmanager
def services(
    config_path: str | None,
    sites: int = 1,
    cassandra_nodes: int = 1,
    base_port: int = BENCH_BASE_PORT,
    first_ip: str = BENCH_CASSANDRA_IP,
) -> Iterator[Config]:
    """The configuration to benchmark against: the one given, or a fresh sandbox.

    ``cassandra_nodes=3`` gives the production shape: RF=3, QUORUM and SERIAL.
    ``base_port`` and ``first_ip`` place the sandbox (sites on ``base_port + 1``
    on, Cassandra from ``first_ip``), so a benchmark can run beside another
    sandbox.
    """
    if config_path:
        yield load(config_path)
        return
    with tempfile.TemporaryDirectory(prefix="mdbc-bench-") as tmp:
        box = Sandbox(tmp, say=lambda m: print(f"  [sandbox] {m}", file=sys.stderr))
        SANDBOX[:] = [box]
        try:
            box.up(sites=sites, cassandra_nodes=cassandra_nodes, base_port=base_port,
                   first_ip=first_ip)  # fmt: skip
            _service_pids.update({s.name: s.pid for s in box.status() if s.pid})
            yield load(box.config_path)
        finally:
            _service_pids.clear()
            SANDBOX.clear()
            box.down()


SANDBOX: list[Sandbox] = []
"""The sandbox :func:`services` started, while it runs (its admin access is needed below)."""


def replicate(box: Sandbox, cfg: Config, primary: str, replica: str, semi_sync: bool) -> None:
    """Make sandbox site ``replica`` a MariaDB GTID replica of ``primary``, from now on.

    The ``mdbc`` account has least privilege, so the sandbox's own admin
    access sets it up, with a replication account of its own on the primary
    (kept out of the binary log). ``semi_sync``: the primary waits at each
    commit for the replica's acknowledgement.
    """
    import secrets

    src = cfg.site(primary)
    password = secrets.token_urlsafe(18)
    padmin, radmin = box.admin_connection(primary), box.admin_connection(replica)
    try:
        with padmin.cursor() as pcur, radmin.cursor() as rcur:
            pcur.execute("SET SESSION sql_log_bin = 0")
            pcur.execute(f"CREATE OR REPLACE USER 'bench_repl'@'{src.host}' IDENTIFIED BY %s",
                         (password,))  # fmt: skip
            pcur.execute(f"GRANT REPLICATION SLAVE ON *.* TO 'bench_repl'@'{src.host}'")
            pcur.execute("SET SESSION sql_log_bin = 1")
            if semi_sync:
                pcur.execute("SET GLOBAL rpl_semi_sync_master_enabled = ON")
                pcur.execute("SET GLOBAL rpl_semi_sync_master_timeout = 10000")
            pcur.execute("SELECT @@gtid_binlog_pos")
            gtid = pcur.fetchone()[0]
            rcur.execute("STOP SLAVE")
            rcur.execute("RESET SLAVE ALL")
            rcur.execute(f"SET GLOBAL rpl_semi_sync_slave_enabled = {'ON' if semi_sync else 'OFF'}")
            rcur.execute("SET GLOBAL gtid_slave_pos = %s", (gtid,))
            rcur.execute(
                "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER='bench_repl', "
                "MASTER_PASSWORD=%s, MASTER_USE_GTID=slave_pos",
                (src.host, src.port, password),
            )
            rcur.execute("START SLAVE")
    finally:
        padmin.close()
        radmin.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watch_process(name: str, pid: int) -> None:
    """Account the CPU of another process the benchmark started (e.g. ``mdbc proxy``)."""
    _service_pids[name] = pid


@contextlib.contextmanager
def cpu_meter() -> Iterator[dict[str, float]]:
    """CPU seconds used during the block, per process: this one ("client") and the
    services the benchmark started (empty for services given by --config)."""
    pids = {"client": os.getpid(), **_service_pids}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    used: dict[str, float] = {}
    yield used
    for name, pid in pids.items():
        used[name] = cpu_seconds(pid) - before[name]


@dataclass
class Result:
    """Latencies (seconds) of one measured run, its wall time and CPU per process.

    ``round_trips`` counts the commands this process sent to MariaDB during
    the run (each one a round trip); ``per_lwt`` is the transactions per
    store append, for runs that append.
    """

    name: str
    latencies: list[float]
    wall: float
    cpu: dict[str, float] = field(default_factory=dict)
    round_trips: int = 0
    per_lwt: float | None = None

    @property
    def round_trips_per_op(self) -> float:
        return self.round_trips / max(1, len(self.latencies))

    def cpu_us_per_op(self, process: str) -> float:
        """CPU microseconds ``process`` spent per operation of this run."""
        return self.cpu.get(process, 0.0) / max(1, len(self.latencies)) * 1e6

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def merge(a: Result, b: Result) -> Result:
    """Two runs of the same thing as one: latencies pooled; wall time, CPU and round trips added.

    Transactions per LWT are weighted by each run's transactions.
    """
    cpu = {k: a.cpu.get(k, 0.0) + b.cpu.get(k, 0.0) for k in {*a.cpu, *b.cpu}}
    per_lwt = None
    if a.per_lwt is not None and b.per_lwt is not None:
        na, nb = len(a.latencies), len(b.latencies)
        appends = na / a.per_lwt + nb / b.per_lwt if a.per_lwt and b.per_lwt else 0.0
        per_lwt = (na + nb) / appends if appends else 0.0
    return Result(a.name, a.latencies + b.latencies, a.wall + b.wall, cpu,
                  a.round_trips + b.round_trips, per_lwt)  # fmt: skip


def timed_loop(name: str, op: Callable[[int], None], seconds: float) -> Result:
    """Run ``op`` repeatedly for ``seconds`` in this thread, timing each call."""
    latencies: list[float] = []
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        op(i)
        latencies.append(time.perf_counter() - t0)
        i += 1
    return Result(name, latencies, time.perf_counter() - start)


def threaded(name: str, make_op: Callable[[int], Callable[[int], None]], threads: int,
             seconds: float) -> Result:  # fmt: skip
    """Run one op per thread concurrently for ``seconds``; pool the latencies."""
    import threading

    results: list[Result] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        res = timed_loop(name, make_op(t), seconds)
        with lock:
            results.append(res)

    trips = ROUND_TRIPS.value
    with cpu_meter() as cpu:
        start = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        wall = time.perf_counter() - start
    latencies = [x for r in results for x in r.latencies]
    return Result(name, latencies, wall, cpu, round_trips=ROUND_TRIPS.value - trips)


class _Counter:
    """A thread-safe count of MariaDB commands sent by this process."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.value += 1


ROUND_TRIPS = _Counter()


def count_round_trips() -> None:
    """Count every command PyMySQL sends (COM_QUERY, COM_PING ...): one round trip each."""
    import pymysql.connections

    original = pymysql.connections.Connection._execute_command

    def counted(self: Any, command: int, sql: Any) -> Any:
        ROUND_TRIPS.add()
        return original(self, command, sql)

    pymysql.connections.Connection._execute_command = counted  # type: ignore[method-assign]


def progress(msg: str) -> None:
    """One progress line on stderr (results go to stdout)."""
    print(f"... {msg}", file=sys.stderr, flush=True)


def report(rows: list[Result]) -> None:
    """Print results as one aligned table."""
    print(f"{'run':44} {'ops':>7} {'p50 ms':>8} {'p99 ms':>8} {'ops/s':>9} {'trips/op':>9} "
          f"{'txn/LWT':>8}")  # fmt: skip
    for r in rows:
        lwt = f"{r.per_lwt:8.1f}" if r.per_lwt is not None else f"{'-':>8}"
        print(f"{r.name:44} {len(r.latencies):7d} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
              f"{r.throughput:9.1f} {r.round_trips_per_op:9.1f} {lwt}")  # fmt: skip


def report_cpu(rows: list[Result]) -> None:
    """Print CPU microseconds per operation, per process, of runs that measured it."""
    names = sorted({n for r in rows for n in r.cpu}, key=lambda n: (n != "client", n))
    if not names:
        return
    print()
    print(f"{'CPU per operation, us':44} " + " ".join(f"{n:>9}" for n in names) + f" {'total':>9}")
    for r in rows:
        cells = [r.cpu_us_per_op(n) for n in names]
        print(f"{r.name:44} " + " ".join(f"{c:9.0f}" for c in cells) + f" {sum(cells):9.0f}")
