"""Code that runs in child processes of the contract tests (must be importable)."""

from __future__ import annotations

import threading
import time
import uuid

from mdbc_py.config import StoreConfig
from mdbc_py.errors import RetryableError
from mdbc_py.music import GroupCommitter, MusicStore, NewEntry


def make_store(cfg: StoreConfig, segment_entries: int = 40) -> MusicStore:
    """The store under test; small Cassandra segments so tests cross segment boundaries."""
    if cfg.backend == "cassandra":
        from mdbc_py.music.cassandra import CassandraStore

        return CassandraStore(cfg, segment_entries=segment_entries, create=False)
    from mdbc_py.music.embedded import EmbeddedStore

    assert cfg.path
    return EmbeddedStore(cfg.path)


def append_for(
    cfg: StoreConfig, range_name: str, epoch: int, threads: int, seconds: float, tag: str
) -> dict[str, object]:
    """Append from ``threads`` threads (sharing a group committer) for ``seconds``.

    Returns the acknowledged (txid, seq) pairs and the count of refused appends.
    """
    store = make_store(cfg)
    committer = GroupCommitter(store)
    acked: list[tuple[str, int]] = []
    refused: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def work(worker: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            txid = f"{tag}-{worker}-{n}-{uuid.uuid4().hex[:6]}"
            n += 1
            try:
                seq = committer.append(range_name, epoch, NewEntry(txid, txid.encode() * 3))
            except RetryableError as exc:
                with lock:
                    refused.append(type(exc).__name__)
                continue
            with lock:
                acked.append((txid, seq))

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    store.close()
    return {"acked": acked, "refused": refused, "appends": committer.appends}


def promote(cfg: StoreConfig, range_name: str, from_epoch: int, site: str) -> str:
    """Try to become owner; report 'won' or the error class and message."""
    store = make_store(cfg)
    try:
        store.change_owner(range_name, from_epoch, site, reason="contract race")
        return "won"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        store.close()
