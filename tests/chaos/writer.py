"""A writer process for the failure tests: one-row transactions, every outcome on record.

Run as ``python -m tests.chaos.writer --config PATH --site dc1 --database DB
--out FILE`` until SIGTERM (or ``--seconds``). A process of its own, so that a
test can pause it (SIGSTOP) or cut its links exactly like an application
server's.

Each attempt is one transaction that inserts one row carrying a unique id
(``tx``). Before it starts, a ``start`` line is written to ``--out``; when it
ends, an ``end`` line with its outcome:

- ``ack``: ``commit()`` returned;
- ``refused``: a DB-API error that proves nothing was committed: any error
  before ``commit()`` (the transaction was never committed, and MariaDB rolls
  back an open transaction whose session dies), or an mdbc error that says
  nothing was kept (``RetryableError``: fenced, store unavailable, failover;
  ``NotOwnerError``);
- ``unknown``: any other error of ``commit()`` (``CommitOutcomeUnknownError``,
  a connection lost at COMMIT ...). An attempt with a ``start`` line and no
  ``end`` line (the process was killed) is unknown too.

An attempt is never retried under the same id: the history checker then
knows exactly which rows may exist. Lines are flushed one by one, so a test
can read the file while the process runs.

``--store-timeout`` shortens cassandra-driver's request timeout in this
process only (mdbc.toml has no such setting): the slow-store test uses it to
reach the timeout in a second instead of ten.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
import time
from typing import IO, Any

import mdbc_py

REFUSED_AT_COMMIT = (mdbc_py.RetryableError, mdbc_py.NotOwnerError)
ERROR_PAUSE = 0.05
"""Pause after a failed attempt, so that an outage does not become a busy loop."""


class Record:
    """The ``--out`` file: one JSON object per line, written under a lock."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.lock = threading.Lock()

    def write(self, **fields: Any) -> None:
        line = json.dumps(fields, separators=(",", ":"))
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _close(conn: Any) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


def work(args: argparse.Namespace, thread: int, record: Record, stop: threading.Event) -> None:
    """Attempt transactions until ``stop``; record each one's outcome."""
    conn: Any = None
    n = 0
    while not stop.is_set():
        n += 1
        tx = f"{args.name}.{thread}.{n}"
        record.write(ev="start", tx=tx, t=time.time())
        committing = False
        at: float | None = None
        try:
            if conn is None:
                conn = mdbc_py.connect(
                    site=args.site,
                    config=args.config,
                    database=args.database,
                    connect_timeout=5,
                    read_timeout=30,
                    write_timeout=30,
                )
            cur = conn.cursor()
            cur.execute(
                f"INSERT INTO `{args.table}` (tx, writer, v) VALUES (%s, %s, %s)",
                (tx, args.name, "x" * 100),
            )
            committing = True
            at = time.time()
            conn.commit()
        except Exception as exc:
            refused = not committing or isinstance(exc, REFUSED_AT_COMMIT)
            where = conn.site.name if conn is not None else args.site
            record.write(
                ev="end",
                tx=tx,
                outcome="refused" if refused else "unknown",
                t=time.time(),
                commit_at=at,
                site=where,
                error=_error(exc),
            )
            _close(conn)  # whatever broke, the next attempt starts on a fresh session
            conn = None
            time.sleep(ERROR_PAUSE)
            continue
        record.write(
            ev="end", tx=tx, outcome="ack", t=time.time(), commit_at=at, site=conn.site.name
        )
    _close(conn)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--table", default="hist")
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--store-timeout", type=float, default=None)
    args = parser.parse_args(argv)
    if args.store_timeout is not None:
        from mdbc_py.music.cassandra import session

        session.REQUEST_TIMEOUT = args.store_timeout
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open(args.out, "a", encoding="utf-8") as out:
        record = Record(out)
        record.write(ev="ready", t=time.time())
        threads = [
            threading.Thread(target=work, args=(args, i, record, stop), name=f"writer-{i}")
            for i in range(args.threads)
        ]
        for t in threads:
            t.start()
        stop.wait(args.seconds)
        stop.set()
        for t in threads:
            t.join()


if __name__ == "__main__":
    main()
