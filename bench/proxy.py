"""Benchmark: what ``mdbc proxy`` adds, measured against the same server in one run.

    python bench/proxy.py [--seconds 6] [--rounds 3] [--clients 16] [--proxies 2]
                          [--base-port N] [--cassandra-ip IP] [--write-docs]

It starts its own sandbox (one site, one Cassandra node; ``--base-port`` and
``--cassandra-ip`` place it beside other sandboxes) and ``mdbc proxy`` for
that site as a process of its own, as it runs in production. PyMySQL clients,
each in its own connection and thread, then measure:

- one round trip, ``SELECT 1``, straight to MariaDB and through the proxy:
  p50 and p99 at 1 and ``--clients`` clients, and throughput; then the same
  ``--clients`` spread over ``--proxies`` proxy processes, as the Helm chart
  runs them (``proxy.replicas``, 2): one process relays under one Python
  interpreter lock, so a site scales its proxy by processes;
- a commit, a one-row INSERT (about 400 bytes) in autocommit mode, through
  the mdbc_py driver and through the proxy (each makes it durable in the
  MUSIC log before the local COMMIT): p50 and throughput at 1 and
  ``--clients`` clients.

Direct and proxied runs alternate, ``--rounds`` times each (pooled), each
after a short warm-up, so that other work on the machine weighs on both
alike. It prints the
pairs side by side with their ratios and the issue's targets (the proxy adds
at most 0.1 ms p50 to a round trip at 1 client; SELECT 1 throughput at
``--clients`` at least 0.5 of direct; a commit through the proxy at most
1.2 x one through the driver), then every run with CPU per operation of each
process (client, proxy, MariaDB, Cassandra). ``--write-docs`` writes the
proxy section of ``docs/benchmarks.md`` (the commit benchmark's section is
left as it is).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pymysql

import mdbc_py
from bench.common import (
    BENCH_BASE_PORT,
    BENCH_CASSANDRA_IP,
    Result,
    merge,
    progress,
    report,
    report_cpu,
    services,
    threaded,
    timed_loop,
    watch_process,
)
from bench.proxy_docs import Pair, write_docs
from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig, save
from mdbc_py.music import GroupCommitter, NewEntry, open_store

REPO = Path(__file__).resolve().parents[1]
PAYLOAD = "x" * 400
SITE = "dc1"

Op = Callable[[int], None]


def bench_config(cfg: Config, db: str) -> Config:
    return replace(
        cfg,
        ranges={db: RangeConfig(name=db, database=db, initial_owner=SITE)},
        store=replace(cfg.store, keyspace="mdbc_bench_proxy"),
        source=None,
    )


@contextmanager
def proxy_process(cfg: Config, workdir: Path, name: str = "proxy") -> Iterator[int]:
    """``mdbc proxy`` for SITE in a process of its own; yields its port."""
    config = save(cfg, workdir / "mdbc.toml")
    log = workdir / f"{name}.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "proxy", "--site", SITE,
             "--listen", "127.0.0.1:0", "--max-sessions", "1000", "-c", str(config)],
            stderr=err, cwd=REPO, env=env,
        )  # fmt: skip
    try:
        prefix = f"mdbc proxy for site {SITE} on 127.0.0.1:"
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"mdbc proxy did not start:\n{log.read_text()}")
            port = next(
                (int(ln[len(prefix) :]) for ln in log.read_text().splitlines()
                 if ln.startswith(prefix)),
                None,
            )  # fmt: skip
            time.sleep(0.05)
        watch_process(name, proc.pid)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="Per run, all rounds together.")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="Direct and proxied runs alternate this many times (load from other work on "
        "the machine then weighs on both alike).",
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--proxies",
        type=int,
        default=2,
        help="Also run SELECT 1 at --clients over this many proxy processes (the chart's "
        "proxy.replicas default), clients spread over them.",
    )
    parser.add_argument("--base-port", type=int, default=BENCH_BASE_PORT)
    parser.add_argument("--cassandra-ip", default=BENCH_CASSANDRA_IP)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    many = args.clients

    with (
        services(None, sites=1, base_port=args.base_port, first_ip=args.cassandra_ip) as base,
        tempfile.TemporaryDirectory(prefix="mdbc-bench-proxy-") as tmp,
    ):
        db = f"bench_{uuid.uuid4().hex[:6]}"
        cfg = bench_config(base, db)
        site = cfg.site(SITE)
        admin = pymysql.connect(**site.connect_kwargs(), autocommit=True)
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {db}")
            cur.execute(f"CREATE TABLE {db}.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                        "client INT, v VARCHAR(500))")  # fmt: skip
        admin.close()
        progress("mdbc init")
        initialize(cfg)
        store = open_store(cfg.store, create=False)
        committer = GroupCommitter(store)
        blob = os.urandom(520)
        # A fresh JVM answers its first thousands of LWTs slowly (JIT): warm it
        # up before anything is measured, or whichever run comes first pays.
        progress("warming up the store for 5 s")
        timed_loop("warm-up", lambda i: committer.append(db, 1, NewEntry(f"w{i}", blob)) and None,
                   5.0)  # fmt: skip
        store.close()

        with contextlib.ExitStack() as stack:
            port = stack.enter_context(proxy_process(cfg, Path(tmp)))
            progress(f"mdbc proxy on 127.0.0.1:{port}")
            spread = [port] + [
                stack.enter_context(proxy_process(cfg, Path(tmp), f"proxy{n + 2}"))
                for n in range(args.proxies - 1)
            ]
            direct = site.connect_kwargs()
            proxied = {**direct, "host": "127.0.0.1", "port": port}

            def select_op(
                kwargs: dict[str, object], ports: list[int] | None = None
            ) -> Callable[[int], Op]:
                def make(client: int) -> Op:
                    where = {"port": ports[client % len(ports)]} if ports else {}
                    conn = pymysql.connect(**{**kwargs, **where}, autocommit=True)
                    cur = conn.cursor()

                    def op(i: int) -> None:
                        cur.execute("SELECT 1")
                        cur.fetchall()

                    return op

                return make

            def insert_op(connect: Callable[[], object]) -> Callable[[int], Op]:
                def make(client: int) -> Op:
                    conn = connect()
                    cur = conn.cursor()  # type: ignore[attr-defined]

                    def op(i: int) -> None:
                        cur.execute("INSERT INTO t (client, v) VALUES (%s, %s)", (client, PAYLOAD))

                    return op

                return make

            driver = insert_op(
                lambda: mdbc_py.connect(site=SITE, config=cfg, database=db, autocommit=True)
            )
            through = insert_op(lambda: pymysql.connect(**proxied, database=db, autocommit=True))
            pairs: list[tuple[str, Callable[[int], Op], Callable[[int], Op]]] = [
                ("SELECT 1", select_op(direct), select_op(proxied)),
                ("commit", driver, through),
            ]
            results: dict[tuple[str, int, str], Result] = {}
            slice_ = args.seconds / args.rounds
            for what, base_make, proxy_make in pairs:
                for clients in (1, many):
                    for n in range(args.rounds):
                        for side, make in (("base", base_make), ("proxy", proxy_make)):
                            name = label(what, clients, side)
                            progress(f"{name}, round {n + 1} of {args.rounds}, {slice_:g} s")
                            timed_loop("warm-up", make(999), 0.5)
                            run = threaded(name, make, clients, slice_)
                            key = (what, clients, side)
                            results[key] = merge(results[key], run) if key in results else run
            if args.proxies > 1:
                spread_make = select_op(proxied, spread)
                for n in range(args.rounds):
                    name = f"SELECT 1, {many} clients, {args.proxies} proxies"
                    progress(f"{name}, round {n + 1} of {args.rounds}, {slice_:g} s")
                    timed_loop("warm-up", spread_make(999), 0.5)
                    run = threaded(name, spread_make, many, slice_)
                    key = ("SELECT 1", many, "proxies")
                    results[key] = merge(results[key], run) if key in results else run

    pairs_out = figures(results, many, args.proxies)
    print()
    print_pairs(pairs_out)
    print()
    report(list(results.values()))
    report_cpu(list(results.values()))
    if args.write_docs:
        write_docs(pairs_out, list(results.values()), args)


def label(what: str, clients: int, side: str) -> str:
    base = "direct" if what == "SELECT 1" else "driver"
    plural = "s" if clients > 1 else ""
    return f"{what}, {clients} client{plural}, {'proxy' if side == 'proxy' else base}"


def figures(results: dict[tuple[str, int, str], Result], many: int, proxies: int = 1) -> list[Pair]:
    """The side-by-side figures, with how each compares and its target."""

    def r(what: str, clients: int, side: str) -> Result:
        return results[(what, clients, side)]

    out: list[Pair] = []
    for clients in (1, many):
        d, p = r("SELECT 1", clients, "base"), r("SELECT 1", clients, "proxy")
        who = f"SELECT 1, {clients} client{'s' if clients > 1 else ''}"
        out.append(Pair(f"{who}, p50 ms", "direct", d.p50_ms, p.p50_ms, "added",
                        "<= +0.1 ms" if clients == 1 else ""))  # fmt: skip
        out.append(Pair(f"{who}, p99 ms", "direct", d.p99_ms, p.p99_ms, "added", ""))
        out.append(Pair(f"{who}, ops/s", "direct", d.throughput, p.throughput, "ratio",
                        ">= 0.5" if clients == many else ""))  # fmt: skip
        if clients == many and ("SELECT 1", many, "proxies") in results:
            spread = r("SELECT 1", many, "proxies")
            out.append(Pair(f"{who} over {proxies} proxies, ops/s", "direct", d.throughput,
                            spread.throughput, "ratio", ">= 0.5"))  # fmt: skip
    for clients in (1, many):
        d, p = r("commit", clients, "base"), r("commit", clients, "proxy")
        who = f"commit, {clients} client{'s' if clients > 1 else ''}"
        out.append(Pair(f"{who}, p50 ms", "driver", d.p50_ms, p.p50_ms, "ratio", "<= 1.2"))
        out.append(Pair(f"{who}, txn/s", "driver", d.throughput, p.throughput, "ratio", ""))
    return out


def print_pairs(pairs: list[Pair]) -> None:
    print(f"{'':42} {'direct/driver':>13} {'proxy':>10} {'proxy vs it':>14}  target")
    for pair in pairs:
        print(f"{pair.name:42} {pair.show(pair.base):>13} {pair.show(pair.proxy):>10} "
              f"{pair.compare:>14}  {pair.verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
