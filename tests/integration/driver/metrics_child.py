"""A driver process that opted in with ``MDBC_METRICS_PORT``: commits, then waits to be scraped.

Usage: python metrics_child.py --config FILE --database DB --commits N --ready FILE
[--forever]. Writes the port it serves on to ``--ready`` once its commits are
done; with ``--forever`` it keeps committing one row a second until SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))  # fmt: skip

import mdbc_py
from mdbc_py.core import commit_metrics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--commits", type=int, default=5)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--forever", action="store_true")
    args = parser.parse_args()
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    conn = mdbc_py.connect(site="dc1", config=args.config, database=args.database)
    cur = conn.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS child_commits (id BIGINT PRIMARY KEY, v TEXT)")
    base = time.time_ns()
    for i in range(args.commits):
        cur.execute("INSERT INTO child_commits VALUES (%s, %s)", (base + i, "x" * 300))
        conn.commit()
    port = commit_metrics.serve(0)  # the port MDBC_METRICS_PORT serves on (0 there: any free one)
    with open(args.ready + ".tmp", "w") as f:
        f.write(str(port))
    os.replace(args.ready + ".tmp", args.ready)
    i = args.commits
    while not stop:
        time.sleep(1.0 if args.forever else 0.2)
        if args.forever and not stop:
            cur.execute("INSERT INTO child_commits VALUES (%s, %s)", (base + i, "x" * 300))
            conn.commit()
            i += 1
    conn.close()


if __name__ == "__main__":
    main()
