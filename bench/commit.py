"""Benchmark: commit latency and throughput of mdbc_py beside raw PyMySQL and the bare append.

    python bench/commit.py [--config mdbc.toml --site dc1] [--seconds 10] [--clients 16]

Without --config it starts its own sandbox (one site on 3351, Cassandra on
127.0.0.41) and stops it afterwards. Each client runs one-row INSERT
transactions (about 400 bytes) in its own connection; the same workload runs
through raw PyMySQL on an uncaptured twin table, through mdbc_py, and as
bare store appends of an entry of the same size. Prints the ratios the
targets are set on: mdbc p50 / (raw p50 + append p50) <= 1.2 at one client,
mdbc throughput / raw throughput >= 0.5 at 16 clients.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pymysql

import mdbc_py
from bench.common import (
    Result,
    progress,
    report,
    report_cpu,
    services,
    threaded,
    timed_loop,
)
from mdbc_py.admin.init import initialize
from mdbc_py.config import Config, RangeConfig
from mdbc_py.music import GroupCommitter, NewEntry, open_store

PAYLOAD = "x" * 400


def bench_config(cfg: Config, db: str) -> Config:
    return replace(
        cfg,
        ranges={db: RangeConfig(name=db, database=db, initial_owner=next(iter(cfg.sites)))},
        store=replace(cfg.store, keyspace="mdbc_bench"),
        source=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config")
    parser.add_argument("--site", default="dc1")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    with services(args.config, sites=1) as base:
        db = f"bench_{uuid.uuid4().hex[:6]}"
        cfg = bench_config(base, db)
        site = cfg.site(args.site)
        admin = pymysql.connect(**site.connect_kwargs(), autocommit=True)
        with admin.cursor() as cur:
            # The raw twin lives in a database of no range: no capture triggers.
            for database in (db, f"{db}_raw"):
                cur.execute(f"CREATE DATABASE {database}")
                cur.execute(f"CREATE TABLE {database}.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                            "client INT, v VARCHAR(500))")  # fmt: skip
        admin.close()
        progress("mdbc init")
        initialize(cfg)

        def raw_op(client: int):  # type: ignore[no-untyped-def]
            conn = pymysql.connect(**site.connect_kwargs(), database=f"{db}_raw", autocommit=False)
            cur = conn.cursor()

            def op(i: int) -> None:
                cur.execute("INSERT INTO t (client, v) VALUES (%s, %s)", (client, PAYLOAD))
                conn.commit()

            return op

        def mdbc_op(client: int):  # type: ignore[no-untyped-def]
            conn = mdbc_py.connect(site=args.site, config=cfg, database=db)
            cur = conn.cursor()

            def op(i: int) -> None:
                cur.execute("INSERT INTO t (client, v) VALUES (%s, %s)", (client, PAYLOAD))
                conn.commit()

            return op

        store = open_store(cfg.store, create=False)
        committer = GroupCommitter(store)
        blob = os.urandom(520)

        def append_op(client: int):  # type: ignore[no-untyped-def]
            return lambda i: committer.append(db, 1, NewEntry(f"b{client}-{i}", blob)) and None

        # A fresh JVM answers its first thousands of LWTs slowly (JIT): warm
        # the store up before anything is measured, or whichever run comes
        # first pays for it.
        progress("warming up the store for 5 s")
        timed_loop("warm-up", append_op(998), 5.0)
        results: list[Result] = []
        for clients in (1, args.clients):
            for name, make in (("raw PyMySQL", raw_op), ("mdbc_py", mdbc_op),
                               ("bare store append", append_op)):  # fmt: skip
                label = f"{name}, {clients} client{'s' if clients > 1 else ''}"
                progress(f"{label} for {args.seconds:.0f} s")
                timed_loop("warm-up", make(999), 1.0)
                results.append(threaded(label, make, clients, args.seconds))
        store.close()

    report(results)
    report_cpu(results)
    raw1, mdbc1, app1, raw16, mdbc16, _ = results
    print()
    print(f"ratio mdbc p50 / (raw p50 + append p50), 1 client: "
          f"{mdbc1.p50_ms / (raw1.p50_ms + app1.p50_ms):.2f}   (target <= 1.2)")  # fmt: skip
    print(f"ratio mdbc / raw throughput, {args.clients} clients:       "
          f"{mdbc16.throughput / raw16.throughput:.2f}   (target >= 0.5)")  # fmt: skip
    cores = os.cpu_count() or 1
    per_txn = {r.name: sum(r.cpu.values()) / max(1, len(r.latencies)) for r in (raw16, mdbc16)}
    if len(mdbc16.cpu) > 1 and all(per_txn.values()):
        # Client, MariaDB and Cassandra share this machine's cores: no run can
        # go faster than cores / (CPU per transaction of all three).
        bound = {name: cores / cpu for name, cpu in per_txn.items()}
        print(f"CPU ceiling on {cores} cores (all processes, {args.clients} clients): raw "
              f"{bound[raw16.name]:.0f}/s, mdbc {bound[mdbc16.name]:.0f}/s, ratio "
              f"{bound[mdbc16.name] / bound[raw16.name]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
