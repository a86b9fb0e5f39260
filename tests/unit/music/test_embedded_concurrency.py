"""Embedded store under concurrency: several processes and threads on one file.

The workers are module-level functions so that the "spawn" start method can
import them in fresh interpreters, the way separate SO services and agents
would open the same store file.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from mdbc_py.errors import FencedError
from mdbc_py.music.embedded import EmbeddedStore
from mdbc_py.music.model import LogRecord, NewEntry, RangeState

PROCESSES = 4
THREADS = 4
SECONDS = 2.0
JOIN_TIMEOUT = 120.0

Ack = tuple[str, int]


def _append_loop(
    store: EmbeddedStore,
    name: str,
    epoch: int,
    until: float,
    acks: list[Ack],
    outcome: list[str],
) -> None:
    """Append 1-3 entries per call until ``until``; record every acknowledged (txid, seq)."""
    i = 0
    while time.monotonic() < until:
        txids = [f"{name}-{i}-{k}" for k in range(1 + i % 3)]
        try:
            seqs = store.append("r1", epoch, [NewEntry(t, t.encode()) for t in txids])
        except FencedError:
            outcome.append("fenced")
            return
        except Exception as exc:  # reported to the parent, which fails the test
            outcome.append(f"error: {exc!r}")
            return
        if len(seqs) != len(txids):
            outcome.append(f"error: {len(txids)} entries got {seqs}")
            return
        acks.extend(zip(txids, seqs, strict=True))
        i += 1
    outcome.append("done")


def _worker(
    path: str,
    proc: int,
    threads: int,
    epoch: int,
    seconds: float,
    barrier: Barrier,
    results: Any,
) -> None:
    """One process: ``threads`` threads sharing one store, appending for ``seconds``."""
    acks: list[Ack] = []
    outcome: list[str] = []
    try:
        store = EmbeddedStore(path)
    except Exception as exc:
        barrier.wait()
        results.put((acks, [f"error: cannot open: {exc!r}"]))
        return
    barrier.wait()
    until = time.monotonic() + seconds
    pool = [
        threading.Thread(
            target=_append_loop,
            args=(store, f"p{proc}t{t}", epoch, until, acks, outcome),
        )
        for t in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    store.close()
    results.put((acks, outcome))


def _run_workers(
    path: Path, processes: int, threads: int, seconds: float, epoch: int = 1
) -> tuple[list[multiprocessing.process.BaseProcess], Barrier, Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(str(path), p, threads, epoch, seconds, barrier, results),
            daemon=True,
        )
        for p in range(processes)
    ]
    for proc in procs:
        proc.start()
    return procs, barrier, results


def _collect(
    procs: list[multiprocessing.process.BaseProcess], results: Any
) -> tuple[list[Ack], list[str]]:
    acks: list[Ack] = []
    outcomes: list[str] = []
    for _ in procs:
        got_acks, got_outcome = results.get(timeout=JOIN_TIMEOUT)
        acks.extend(got_acks)
        outcomes.extend(got_outcome)
    for proc in procs:
        proc.join(timeout=JOIN_TIMEOUT)
        assert proc.exitcode == 0
    return acks, outcomes


def _whole_log(store: EmbeddedStore) -> list[LogRecord]:
    return list(store.iter_entries("r1", 1, page=1000))


def test_processes_and_threads_append_without_gap_or_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "music.db"
    with EmbeddedStore(path) as store:
        store.create_range("r1", "dc1")
        procs, barrier, results = _run_workers(path, PROCESSES, THREADS, SECONDS)
        barrier.wait(timeout=JOIN_TIMEOUT)
        # Meanwhile a reader must only ever see a gap-free prefix of the log.
        deadline = time.monotonic() + SECONDS
        reads = 0
        while time.monotonic() < deadline:
            seen = [r.seq for r in store.read("r1", 1, limit=100_000)]
            assert seen == list(range(1, len(seen) + 1))
            reads += 1
            time.sleep(0.05)
        acks, outcomes = _collect(procs, results)

        assert outcomes == ["done"] * (PROCESSES * THREADS)
        assert reads > 0
        log = _whole_log(store)
        tail = store.describe_range("r1").tail
        assert tail == len(acks) > PROCESSES * THREADS
        assert [r.seq for r in log] == list(range(1, tail + 1))
        txids = [r.txid for r in log]
        assert len(set(txids)) == len(txids)
        by_seq = {r.seq: r for r in log}
        for txid, seq in acks:
            assert by_seq[seq].txid == txid
            assert by_seq[seq].payload == txid.encode()
        # the entries of one call got consecutive numbers: the k-th entry of a
        # call directly follows the (k-1)-th
        position = {txid: seq for txid, seq in acks}
        for txid, seq in acks:
            call, k = txid.rsplit("-", 1)
            if k != "0":
                assert position[f"{call}-{int(k) - 1}"] == seq - 1


def test_no_append_of_the_old_epoch_lands_after_a_change_of_owner(tmp_path: Path) -> None:
    path = tmp_path / "music.db"
    with EmbeddedStore(path) as store:
        store.create_range("r1", "dc1")
        procs, barrier, results = _run_workers(path, 3, 2, seconds=20.0)
        barrier.wait(timeout=JOIN_TIMEOUT)
        time.sleep(1.0)
        change = store.change_owner("r1", 1, "dc2", "test failover", RangeState.OPEN)
        new_seqs = store.append("r1", 2, [NewEntry(f"new{i}", b"n") for i in range(3)])
        acks, outcomes = _collect(procs, results)

    assert outcomes == ["fenced"] * 6
    assert change.tail > 0
    assert new_seqs == [change.tail + 1, change.tail + 2, change.tail + 3]
    assert all(seq <= change.tail for _, seq in acks)
    with EmbeddedStore(path) as store:
        log = _whole_log(store)
    assert [r.seq for r in log] == list(range(1, change.tail + 4))
    assert {(r.txid, r.seq) for r in log if r.epoch == 1} == set(acks)
    assert all(r.epoch == 1 for r in log if r.seq <= change.tail)
    assert all(r.epoch == 2 for r in log if r.seq > change.tail)


def test_threads_of_one_process_share_one_store(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "music.db") as store:
        store.create_range("r1", "dc1")
        acks: list[Ack] = []
        outcome: list[str] = []
        until = time.monotonic() + 0.5
        threads = [
            threading.Thread(target=_append_loop, args=(store, f"t{i}", 1, until, acks, outcome))
            for i in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcome == ["done"] * 8
        log = _whole_log(store)
        assert [r.seq for r in log] == list(range(1, len(acks) + 1))
        assert {(r.txid, r.seq) for r in log} == set(acks)
        # connections are pooled, not one per thread that ever ran
        assert len(store._idle) <= 8
