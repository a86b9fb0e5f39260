"""The shared owner cache: one store read per expiry, however many threads ask."""

from __future__ import annotations

import threading
import time

from mdbc_py.config import Config, RangeConfig, StoreConfig
from mdbc_py.core import runtime as runtime_module
from mdbc_py.core.runtime import Runtime
from mdbc_py.music import RangeInfo, RangeState


class _SlowStore:
    """Answers describe_range slowly and counts the calls (a stand-in for a SERIAL read)."""

    def __init__(self) -> None:
        self.calls = 0
        self.epoch = 1
        self._lock = threading.Lock()

    def describe_range(self, name: str) -> RangeInfo:
        with self._lock:
            self.calls += 1
            epoch = self.epoch
        time.sleep(0.2)
        return RangeInfo(
            name=name, owner="dc1", epoch=epoch, state=RangeState.OPEN, tail=0, segment=0
        )

    def close(self) -> None:
        pass


def _runtime(store: _SlowStore) -> Runtime:
    cfg = Config(
        sites={},
        store=StoreConfig(),
        ranges={"r": RangeConfig(name="r", database="r")},
        source=None,
    )
    rt = Runtime(cfg)
    rt._store = store  # type: ignore[assignment]
    return rt


def _ask_from_threads(rt: Runtime, n: int) -> list[RangeInfo]:
    got: list[RangeInfo] = []
    lock = threading.Lock()

    def ask() -> None:
        info = rt.owner("r")
        with lock:
            got.append(info)

    threads = [threading.Thread(target=ask) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def test_an_expired_entry_is_refreshed_by_one_thread_while_the_others_use_it() -> None:
    store = _SlowStore()
    rt = _runtime(store)
    assert rt.owner("r").epoch == 1 and store.calls == 1
    runtime_module.OWNER_CACHE_SECONDS = 0.0  # every answer is expired at once
    try:
        store.epoch = 2
        got = _ask_from_threads(rt, 16)
    finally:
        runtime_module.OWNER_CACHE_SECONDS = 1.0
    assert store.calls == 2, f"{store.calls - 1} store reads for one expiry"
    assert sorted(i.epoch for i in got) == [1] * 15 + [2]
    assert rt.owner("r", fresh=True).epoch == 2 and store.calls == 3


def test_fresh_reads_always_ask_the_store() -> None:
    store = _SlowStore()
    rt = _runtime(store)
    rt.owner("r")
    rt.owner("r", fresh=True)
    rt.owner("r", fresh=True)
    assert store.calls == 3
