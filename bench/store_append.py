"""Benchmark: MUSIC store append vs. one bare Cassandra LWT on the same node.

    python bench/store_append.py [--config mdbc.toml] [--seconds 10]

Without --config it starts its own one-node sandbox (127.0.0.41) and stops
it afterwards. Prints p50/p99 latency and throughput of:

- a bare LWT (``UPDATE ... IF v = ?`` on one partition): the floor;
- ``append`` of one small entry, one appender;
- 16 appender threads of one process through the group committer;

and the two ratios the targets are set on (p50 append / p50 bare LWT <= 1.3;
16-appender throughput / 1-appender throughput >= 5).
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Result, progress, report, services, threaded, timed_loop
from mdbc_py.music import GroupCommitter, NewEntry
from mdbc_py.music.cassandra import CassandraStore
from mdbc_py.music.cassandra.rows import was_applied

PAYLOAD = os.urandom(400)  # about one small SO transaction


def bare_lwt(store: CassandraStore, seconds: float) -> Result:
    session = store.session
    session.execute(
        f"CREATE TABLE IF NOT EXISTS {store.keyspace}.bench_lwt (k text PRIMARY KEY, v bigint)"
    )
    key = uuid.uuid4().hex
    session.execute(f"INSERT INTO {store.keyspace}.bench_lwt (k, v) VALUES (%s, 0)", (key,))
    stmt = session.prepare(f"UPDATE {store.keyspace}.bench_lwt SET v = ? WHERE k = ? IF v = ?")

    def op(i: int) -> None:
        assert was_applied(session.execute(stmt, (i + 1, key, i)))

    return timed_loop("bare LWT (floor)", op, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="mdbc.toml naming a Cassandra store")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured run")
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    with services(args.config, sites=0) as cfg:
        store_cfg = replace(cfg.store, keyspace="mdbc_bench")
        store = CassandraStore(store_cfg)
        rng = f"bench_{uuid.uuid4().hex[:8]}"
        store.create_range(rng, "dc1")
        progress("warming up")
        timed_loop("warm-up", lambda i: store.append(rng, 1, [NewEntry(f"w{i}", PAYLOAD)]), 2)
        bare_lwt(store, 1)

        progress(f"bare LWT for {args.seconds:.0f} s")
        floor = bare_lwt(store, args.seconds)
        progress(f"append, 1 appender, for {args.seconds:.0f} s")
        single = timed_loop(
            "append, 1 appender",
            lambda i: store.append(rng, 1, [NewEntry(f"s{i}", PAYLOAD)]) and None,
            args.seconds,
        )
        progress(f"append, {args.threads} appenders (group commit), for {args.seconds:.0f} s")
        committer = GroupCommitter(store)

        def make_op(t: int):  # type: ignore[no-untyped-def]
            return lambda i: committer.append(rng, 1, NewEntry(f"g{t}-{i}", PAYLOAD)) and None

        group = threaded(
            f"append, {args.threads} appenders, group commit", make_op, args.threads, args.seconds
        )
        tail = store.describe_range(rng).tail
        store.close()

    report([floor, single, group])
    print()
    print(f"entries per store call with {args.threads} appenders: "
          f"{committer.entries / max(1, committer.appends):.1f}")  # fmt: skip
    print(f"ratio p50 append / p50 bare LWT:            {single.p50_ms / floor.p50_ms:.2f}"
          "   (target <= 1.3)")  # fmt: skip
    print(f"ratio throughput {args.threads} appenders / 1 appender: "
          f"{group.throughput / single.throughput:.2f}   (target >= 5)")  # fmt: skip
    print(f"log tail after the run: {tail}")


if __name__ == "__main__":
    main()
