"""Benchmark: commit latency and throughput of mdbc_py beside the systems users compare it with.

    python bench/commit.py [--seconds 10] [--rounds 3] [--warmup 30] [--clients 16]
                           [--cassandra-nodes 1|3] [--write-docs]

It starts its own sandbox (three sites on 3351-3353, Cassandra on
127.0.0.41, or three nodes from there with --cassandra-nodes 3: RF=3,
QUORUM and SERIAL, the production shape) and stops it afterwards. Each
client runs one-row INSERT transactions (about 400 bytes) in its own
connection, through:

- raw PyMySQL on an uncaptured twin table at dc1 (the floor);
- mdbc_py at dc1 (owner of the range);
- MariaDB semi-synchronous replication: dc2 as primary with
  ``rpl_semi_sync_master_enabled=ON`` and dc3 as its replica, the peer
  users would pick instead (a commit waits for the replica's ACK);
- bare store appends of an entry of the same size (the store's floor);
- the design's MariaDB statements, bare: the commit path's own statements
  on the captured table (the capture trigger fires, then the staged-row
  read, the cleanup, the applied position and COMMIT) through the core's
  PyMySQL session, with no driver and no store (the design's floor).

Each at 1 client and at --clients, the five alternating --rounds times after
--warmup seconds of appends (a fresh JVM's first minute of LWTs costs several
times the CPU). Prints latency, throughput, MariaDB round trips per
transaction, transactions per LWT, CPU per transaction per process, the
ratios of issue targets, and each target beside its floor on this machine
(see ``bench/floors.py``). ``--write-docs`` also writes
``docs/benchmarks.md`` (tables, machine facts, date) and
``docs/benchmarks.png`` (a chart; needs matplotlib, the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pymysql
from pymysql.constants import CLIENT

import mdbc_py
from bench.commit_docs import write_docs
from bench.common import (
    SANDBOX,
    Result,
    count_round_trips,
    merge,
    progress,
    replicate,
    report,
    report_cpu,
    services,
    threaded,
    timed_loop,
)
from bench.floors import Peers, design_floors, print_floors
from mdbc_py.admin.init import initialize
from mdbc_py.capture import sqlgen
from mdbc_py.capture.naming import shadow_name
from mdbc_py.config import Config, RangeConfig, SiteConfig
from mdbc_py.core import positions
from mdbc_py.core.runtime import Runtime
from mdbc_py.driver.raw_session import RawSession
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
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="per system and client count, all rounds together")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3,
                        help="the systems alternate this many times (pooled)")  # fmt: skip
    parser.add_argument("--warmup", type=float, default=30.0,
                        help="seconds of appends before anything is measured (JIT)")  # fmt: skip
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--cassandra-nodes", type=int, choices=(1, 3), default=1)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    args.site = "dc1"
    count_round_trips()

    with services(None, sites=3, cassandra_nodes=args.cassandra_nodes) as base:
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

        design_op = design_statements(site, db)
        semi_primary = semi_sync_pair(cfg, "dc2", "dc3")

        def semi_op(client: int):  # type: ignore[no-untyped-def]
            conn = pymysql.connect(**semi_primary.connect_kwargs(), database="semi",
                                   autocommit=False)  # fmt: skip
            cur = conn.cursor()

            def op(i: int) -> None:
                cur.execute("INSERT INTO t (client, v) VALUES (%s, %s)", (client, PAYLOAD))
                conn.commit()

            return op

        store = open_store(cfg.store, create=False)
        committer = GroupCommitter(store)
        driver_committer = Runtime.for_config(cfg).committer
        blob = os.urandom(520)

        def append_op(client: int):  # type: ignore[no-untyped-def]
            return lambda i: committer.append(db, 1, NewEntry(f"b{client}-{i}", blob)) and None

        # A fresh JVM answers its first minute of LWTs slowly, at several
        # times the CPU (JIT): warm the store up before anything is measured,
        # or whichever run comes first pays for it.
        progress(f"warming up the store for {args.warmup:g} s")
        timed_loop("warm-up", append_op(998), args.warmup)
        runs = (
            ("raw PyMySQL", raw_op, None),
            ("mdbc_py", mdbc_op, driver_committer),
            ("MariaDB semi-sync", semi_op, None),
            ("bare store append", append_op, committer),
            ("design's MariaDB statements", design_op, None),
        )
        # The systems alternate, round by round, so that a change of the
        # machine's load (Cassandra compacting, the JIT) falls on all of them.
        pooled: dict[tuple[str, int], Result] = {}
        slice_ = args.seconds / args.rounds
        for clients in (1, args.clients):
            for n in range(args.rounds):
                for name, make, appender in runs:
                    label = f"{name}, {clients} client{'s' if clients > 1 else ''}"
                    progress(f"{label}, round {n + 1} of {args.rounds}, {slice_:g} s")
                    timed_loop("warm-up", make(999), 0.5)
                    before = (appender.appends, appender.entries) if appender else (0, 0)
                    result = threaded(label, make, clients, slice_)
                    if appender is not None:
                        appends = appender.appends - before[0]
                        result.per_lwt = (appender.entries - before[1]) / max(1, appends)
                    key = (name, clients)
                    pooled[key] = merge(pooled[key], result) if key in pooled else result
        results = list(pooled.values())
        check_semi_sync(semi_primary)
        store.close()

    report(results)
    report_cpu(results)
    one, many = Peers(*results[:5]), Peers(*results[5:])
    print()
    ratios = [
        ("mdbc p50 / (raw p50 + append p50), 1 client",
         one.mdbc.p50_ms / (one.raw.p50_ms + one.append.p50_ms), "<= 1.25"),
        (f"mdbc / bare append throughput, {args.clients} clients",
         many.mdbc.throughput / many.append.throughput, ">= 0.8"),
        (f"mdbc / semi-sync throughput, {args.clients} clients",
         many.mdbc.throughput / many.semi.throughput, ">= 0.6"),
        ("mdbc p50 / semi-sync p50, 1 client", one.mdbc.p50_ms / one.semi.p50_ms, ""),
        (f"mdbc / raw throughput, {args.clients} clients",
         many.mdbc.throughput / many.raw.throughput, ""),
    ]  # fmt: skip
    for text, value, target in ratios:
        print(f"ratio {text:52} {value:6.2f}   {f'(target {target})' if target else ''}")
    for name, process in (("client", "client"), ("MariaDB", "dc1")):
        print(f"mdbc CPU per transaction, {args.clients} clients, {name}: "
              f"{many.mdbc.cpu_us_per_op(process):.0f} us")  # fmt: skip
    floors = design_floors(one, many, os.cpu_count() or 1)
    print()
    print_floors(floors, args.clients)
    if args.write_docs:
        write_docs(results, ratios, floors, args)


def design_statements(site: SiteConfig, db: str) -> Callable[[int], Callable[[int], None]]:
    """The commit path's MariaDB statements on the captured table, bare (the design's floor).

    Per transaction, as the commit core sends them: the INSERT (the capture
    trigger stages its row), one round trip with the dirty marker and the
    staged-row read, one with the cleanup DELETE, the applied position and
    the COMMIT; the SQL text is the core's own, and so is the session class
    (PyMySQL that parses each result shape once). Nothing else: no driver,
    no payload, no store. Positions go under a range name no store knows.
    """
    shadow = shadow_name("t")
    read = f"{sqlgen.MARKER_SQL};\n{sqlgen.select_staged_sql(db, shadow)}"
    delete = sqlgen.delete_staged_sql(db, shadow, 1)
    seqs = itertools.count(1)

    def make(client: int) -> Callable[[int], None]:
        conn = RawSession(
            **site.connect_kwargs(),
            database=db,
            autocommit=False,
            client_flag=CLIENT.MULTI_STATEMENTS,
        )
        cur = conn.cursor()

        def op(i: int) -> None:
            cur.execute("INSERT INTO t (client, v) VALUES (%s, %s)", (client, PAYLOAD))
            cur.execute(read)
            cur.nextset()
            staged = cur.fetchall()
            if len(staged) != 1:  # the peer must measure the statements of a real capture
                raise SystemExit(f"the design's statements staged {len(staged)} rows, not 1")
            record = (f"{db}_design", next(seqs), uuid.uuid4().hex)
            cur.execute(";\n".join((
                cur.mogrify(delete, (sqlgen.delete_staged_param([staged[0][1]]),)),
                cur.mogrify(positions.RECORD_SQL, record),
                "COMMIT",
            )))  # fmt: skip
            while cur.nextset():
                pass

        return op

    return make


def semi_sync_pair(cfg: Config, primary: str, replica: str) -> Any:
    """``primary`` as a semi-synchronous primary of ``replica`` (both sandbox sites).

    MariaDB has semi-sync built in since 10.3: the primary waits, at each
    commit, for the replica's acknowledgement that the event reached its
    relay log. The benchmark database ``semi`` exists on both before the
    replica starts at the primary's current GTID position.
    """
    box = SANDBOX[0]
    for site in (primary, replica):
        admin = box.admin_connection(site)
        with admin.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("DROP DATABASE IF EXISTS semi")
            cur.execute("CREATE DATABASE semi")
            cur.execute("CREATE TABLE semi.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                        "client INT, v VARCHAR(500))")  # fmt: skip
        admin.close()
    replicate(box, cfg, primary, replica, semi_sync=True)
    return cfg.site(primary)


def check_semi_sync(primary: Any) -> None:
    """Fail the benchmark if the primary fell back to asynchronous replication."""
    conn = SANDBOX[0].admin_connection(primary.name)
    with conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN "
                    "('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_no_tx', "
                    "'Rpl_semi_sync_master_yes_tx')")  # fmt: skip
        status = dict(cur.fetchall())
    conn.close()
    progress(f"semi-sync: {status}")
    if (
        status.get("Rpl_semi_sync_master_status") != "ON"
        or status.get("Rpl_semi_sync_master_no_tx", "0") != "0"
    ):
        raise SystemExit(f"semi-sync fell back to asynchronous replication: {status}")


if __name__ == "__main__":
    main()
