"""Shared helpers of the benchmarks: services, timing, and side-by-side reports."""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mdbc_py.config import Config, load
from mdbc_py.sandbox import Sandbox

BENCH_BASE_PORT = 3350
BENCH_CASSANDRA_IP = "127.0.0.41"


@contextlib.contextmanager
def services(config_path: str | None, sites: int = 1) -> Iterator[Config]:
    """The configuration to benchmark against: the one given, or a fresh sandbox."""
    if config_path:
        yield load(config_path)
        return
    with tempfile.TemporaryDirectory(prefix="mdbc-bench-") as tmp:
        box = Sandbox(tmp, say=lambda m: print(f"  [sandbox] {m}", file=sys.stderr))
        try:
            box.up(sites=sites, cassandra_nodes=1, base_port=BENCH_BASE_PORT,
                   first_ip=BENCH_CASSANDRA_IP)  # fmt: skip
            yield load(box.config_path)
        finally:
            box.down()


@dataclass
class Result:
    """Latencies (seconds) of one measured run and its wall time."""

    name: str
    latencies: list[float]
    wall: float

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

    start = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    wall = time.perf_counter() - start
    return Result(name, [x for r in results for x in r.latencies], wall)


def progress(msg: str) -> None:
    """One progress line on stderr (results go to stdout)."""
    print(f"... {msg}", file=sys.stderr, flush=True)


def report(rows: list[Result]) -> None:
    """Print results as one aligned table."""
    print(f"{'run':44} {'ops':>7} {'p50 ms':>8} {'p99 ms':>8} {'ops/s':>9}")
    for r in rows:
        print(f"{r.name:44} {len(r.latencies):7d} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
              f"{r.throughput:9.1f}")  # fmt: skip
