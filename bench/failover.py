"""Benchmark: failover time (RTO) after losing the owner's database or whole site; apply speed.

    python bench/failover.py [--runs 10] [--rows 20000] [--base-port 3390]
                             [--cassandra-ip 127.0.0.81]

Starts its own sandbox (4 sites on base-port+1.., Cassandra on the given
address) and one ``mdbc agent`` process per site with the default settings,
and stops them afterwards. Then:

1. RTO, ``--runs`` times for each of two failures: a probe commits a one-row
   transaction every 20 ms through a mode-route connection, and either the
   owner's mariadbd is killed with SIGKILL (*database only*: its agent sees
   it and releases the lease at once), or the owner's agent and mariadbd are
   killed together (*whole site*: nobody says anything, the lease must
   lapse). RTO is the time from the kill to the first successful commit at
   the new owner. The old owner (and its agent) is started again and caught
   up before the next run. Prints median and max of each.
2. Apply throughput: ``--rows`` rows (10 per transaction) written at the owner
   while one replica's agent is stopped; the time that replica's replay takes
   to apply them, in rows/s, beside MariaDB's own replication (a native
   GTID replica of the owner, its SQL thread stopped during the same load,
   timed from START SLAVE SQL_THREAD to caught up).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pymysql

import mdbc_py
from bench.common import progress, replicate
from mdbc_py.admin.init import initialize
from mdbc_py.capture.naming import stage_database
from mdbc_py.config import Config, RangeConfig, load, save
from mdbc_py.core import positions
from mdbc_py.music import open_store
from mdbc_py.replication import replay
from mdbc_py.replication.sites import connect_site
from mdbc_py.sandbox import Sandbox

BASE_PORT = 3390
CASSANDRA_IP = "127.0.0.81"


def start_agents(
    cfg_path: Path, sites: list[str], logs: Path
) -> dict[str, subprocess.Popen[bytes]]:
    procs = {}
    for site in sites:
        log = open(logs / f"agent-{site}.log", "ab")  # noqa: SIM115 - owned by the process
        procs[site] = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "agent", "--site", site, "-c", str(cfg_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return procs


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def position(cfg: Config, site: str, rng: str) -> int:
    conn = pymysql.connect(**cfg.site(site).connect_kwargs(), connect_timeout=2)
    try:
        with conn.cursor() as cur:
            return positions.read(cur, rng).contiguous
    finally:
        conn.close()


def wait_caught_up(cfg: Config, store, rng: str, sites: list[str], limit: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        tail = store.describe_range(rng).tail
        try:
            if all(position(cfg, s, rng) >= tail for s in sites):
                return
        except pymysql.err.Error:
            pass
        time.sleep(0.2)
    raise RuntimeError("sites did not catch up")


def measure_rto(  # type: ignore[no-untyped-def]
    cfg: Config,
    box: Sandbox,
    store,
    rng: str,
    runs: int,
    agents: dict[str, subprocess.Popen[bytes]] | None = None,
    cfg_path: Path | None = None,
    logs: Path | None = None,
) -> list[float]:
    """RTO per run; with ``agents`` the owner's agent is killed with its database (whole site)."""
    probe = mdbc_py.connect(site="dc1", config=cfg, database=rng)
    results = []
    n = 0
    for run in range(runs):
        owner = store.describe_range(rng).owner
        wait_caught_up(cfg, store, rng, list(cfg.sites))
        time.sleep(2.5)  # let every agent see the owner's fresh lease
        killed = time.monotonic()
        if agents is not None:
            agents[owner].kill()
        box.kill(owner)
        while True:
            n += 1
            try:
                probe.cursor().execute("INSERT INTO probe (id) VALUES (%s)", (10**9 + n,))
                probe.commit()
                break
            except (mdbc_py.Error, pymysql.err.Error):
                with_rollback(probe)
                if time.monotonic() - killed > 60:
                    raise RuntimeError("no failover within 60 s") from None
                time.sleep(0.02)
        rto = time.monotonic() - killed
        results.append(rto)
        what = "site (agent + database)" if agents is not None else "database"
        progress(
            f"run {run + 1}/{runs}: {what} of owner {owner} killed, first commit at "
            f"{store.describe_range(rng).owner} after {rto:.2f} s"
        )
        box.start(owner)
        if agents is not None and cfg_path is not None and logs is not None:
            agents[owner].wait()
            agents.update(start_agents(cfg_path, [owner], logs))
    probe.close()
    return results


def with_rollback(conn) -> None:  # type: ignore[no-untyped-def]
    """Roll back; the session may be gone, and the next try reconnects."""
    with contextlib.suppress(Exception):
        conn.rollback()


def measure_apply(
    base: Config,
    cfg: Config,
    box: Sandbox,
    store,
    rng: str,
    rows: int,
    agents: dict[str, subprocess.Popen[bytes]],
) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    owner = store.describe_range(rng).owner
    replica = next(s for s in cfg.sites if s != owner)
    stop(agents.pop(replica))
    native = native_replica(box, base, owner, rng)
    with native.cursor() as cur:
        cur.execute("STOP SLAVE SQL_THREAD")
    writer = mdbc_py.connect(site=owner, config=cfg, database=rng)
    cur = writer.cursor()
    progress(f"writing {rows} rows at {owner} ({replica} and the native replica paused)")
    for i in range(0, rows, 10):
        cur.executemany(
            "INSERT INTO load_t (id, v) VALUES (%s, %s)", [(i + j, "v" * 100) for j in range(10)]
        )
        writer.commit()
    writer.close()
    conn = connect_site(cfg, replica, replay=True, autocommit=False)
    began = time.perf_counter()
    replay.catch_up(store, conn, replica, rng)
    ours = rows / (time.perf_counter() - began)
    conn.close()
    began = time.perf_counter()
    with native.cursor() as cur:
        cur.execute("START SLAVE SQL_THREAD")
        while True:
            cur.execute("SHOW SLAVE STATUS")
            status = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
            if status["Last_SQL_Errno"]:
                raise RuntimeError(f"native replica stopped: {status['Last_SQL_Error']}")
            cur.execute(f"SELECT COUNT(*) FROM `{rng}`.load_t")
            if int(cur.fetchone()[0]) >= rows:
                break
            time.sleep(0.01)
    theirs = rows / (time.perf_counter() - began)
    return ours, theirs


def native_replica(box: Sandbox, cfg: Config, owner: str, rng: str) -> pymysql.Connection:
    """dc4 of the sandbox as a MariaDB GTID replica of ``owner``, from now on.

    dc4 gets the owner's tables (the range's, their shadows in the stage
    database, and ``mdbc``'s: row events of all of them are in the binary
    log) and starts replicating at the owner's current GTID position. The
    sandbox's admin access sets it up (the ``mdbc`` account has least
    privilege); the returned session is an admin one too.
    """
    source = box.admin_connection(owner)
    conn = box.admin_connection("dc4")
    with source.cursor() as scur, conn.cursor() as cur:
        cur.execute("STOP SLAVE")
        cur.execute("RESET SLAVE ALL")
        for db in (rng, stage_database(rng), "mdbc"):
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
            cur.execute(f"CREATE DATABASE `{db}`")
            scur.execute(f"SHOW FULL TABLES FROM `{db}` WHERE Table_type = 'BASE TABLE'")
            for table, _ in scur.fetchall():
                scur.execute(f"SHOW CREATE TABLE `{db}`.`{table}`")
                cur.execute(f"USE `{db}`")
                cur.execute(scur.fetchone()[1])
    source.close()
    replicate(box, cfg, owner, "dc4", semi_sync=False)
    return conn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--base-port", type=int, default=BASE_PORT)
    parser.add_argument("--cassandra-ip", default=CASSANDRA_IP)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mdbc-failover-") as tmp:
        box = Sandbox(tmp, say=lambda m: progress(f"[sandbox] {m}"))
        box.up(sites=4, cassandra_nodes=1, base_port=args.base_port, first_ip=args.cassandra_ip)
        try:
            base = load(box.config_path)
            rng = f"fo_{uuid.uuid4().hex[:6]}"
            sites = {n: s for n, s in base.sites.items() if n != "dc4"}  # dc4: native replica
            cfg = replace(
                base,
                sites=sites,
                mode="route",
                source=None,
                ranges={rng: RangeConfig(rng, rng, initial_owner="dc1")},
            )
            path = save(cfg, Path(tmp) / "bench.toml")
            store = open_store(cfg.store, create=True)
            initialize(cfg, store=store)
            admin = mdbc_py.connect(site="dc1", config=cfg, database=rng)
            admin.cursor().execute("CREATE TABLE probe (id BIGINT PRIMARY KEY)")
            admin.cursor().execute("CREATE TABLE load_t (id BIGINT PRIMARY KEY, v VARCHAR(200))")
            admin.close()
            agents = start_agents(path, list(sites), Path(tmp))
            try:
                rtos = measure_rto(cfg, box, store, rng, args.runs)
                site_rtos = measure_rto(cfg, box, store, rng, args.runs, agents, path, Path(tmp))
                wait_caught_up(cfg, store, rng, list(sites))
                ours, theirs = measure_apply(base, cfg, box, store, rng, args.rows, agents)
            finally:
                for proc in agents.values():
                    stop(proc)
                store.close()
        finally:
            box.down()
    print(f"{'measure':40} {'value':>10}")
    runs = str(len(rtos))
    print(
        f"{'RTO database only, median (s), ' + runs + ' runs':40} {statistics.median(rtos):10.2f}"
    )
    print(f"{'RTO database only, max (s)':40} {max(rtos):10.2f}")
    print(
        f"{'RTO whole site, median (s), ' + runs + ' runs':40} {statistics.median(site_rtos):10.2f}"
    )
    print(f"{'RTO whole site, max (s)':40} {max(site_rtos):10.2f}")
    print(f"{'replica apply, mdbc replay (rows/s)':40} {ours:10.0f}")
    print(f"{'replica apply, MariaDB SQL thread (rows/s)':40} {theirs:10.0f}")
    print()
    print(f"ratio RTO median / 3 s target:   {statistics.median(rtos) / 3:.2f}   (target <= 1)")
    print(
        f"  whole site:                    {statistics.median(site_rtos) / 3:.2f}   (target <= 1)"
    )
    print(f"ratio apply mdbc / MariaDB:      {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
