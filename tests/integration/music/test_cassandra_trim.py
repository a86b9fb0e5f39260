"""Trimming on Cassandra reads no log rows: no tombstone warnings, no scans (issue 12, defect 7).

Cassandra sends its warnings (tombstone thresholds, filtering) back to the
client, and cassandra-driver logs them on ``cassandra.protocol``; these
tests fail on any such warning while the store appends, trims and reads.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from mdbc_py.config import Config
from mdbc_py.music import NewEntry
from mdbc_py.music.cassandra import CassandraStore
from mdbc_py.music.cassandra.store import INLINE_BYTES


@pytest.fixture()
def store(sandbox_config: Config) -> Iterator[CassandraStore]:
    cfg = replace(sandbox_config.store, keyspace="mdbc_trim")
    s = CassandraStore(cfg, segment_entries=700)
    yield s
    s.close()


class ServerWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@pytest.fixture()
def server_warnings() -> Iterator[list[str]]:
    handler = ServerWarnings()
    logger = logging.getLogger("cassandra.protocol")
    logger.addHandler(handler)
    yield handler.seen
    logger.removeHandler(handler)


def _chunk_rows(store: CassandraStore, chunk_id: uuid.UUID) -> int:
    rows = store.session.execute(
        f"SELECT chunk FROM {store.keyspace}.chunks WHERE chunk_id = %s", (chunk_id,)
    )
    return len(list(rows))


def test_trim_of_thousands_of_entries_warns_of_nothing_and_drops_chunks(
    store: CassandraStore, server_warnings: list[str]
) -> None:
    name = f"trim_{uuid.uuid4().hex[:8]}"
    store.create_range(name, "dc1")
    big = NewEntry("big", b"B" * (INLINE_BYTES + 10))
    store.append(name, 1, [big])
    for i in range(15):  # 1500 small entries over three segments (700 each)
        store.append(name, 1, [NewEntry(f"t{i}-{j}", b"p" * 40) for j in range(100)])
    head = store.session.execute(
        f"SELECT chunk_map FROM {store.keyspace}.log WHERE range = %s AND segment = 1 LIMIT 1",
        (name,),
    ).one()
    (chunk_id,) = head.chunk_map.values()
    assert _chunk_rows(store, chunk_id) > 0
    store.register_site("dc1")
    store.set_applied("dc1", name, 1501)
    assert store.trim(name) == 1501
    assert store.describe_range(name).trim_point == 1501
    assert _chunk_rows(store, chunk_id) == 0, "the trimmed entry's chunks are still there"
    store.append(name, 1, [NewEntry("after", b"a")])
    assert [r.txid for r in store.read(name, 1502)] == ["after"]
    assert store.find_txid(name, "after") is not None
    store.set_applied("dc1", name, 1502)
    assert store.trim(name) == 1502
    assert store.read(name, 1503) == []
    assert not server_warnings, server_warnings[:3]


def test_a_writer_whose_cached_segment_was_trimmed_whole_still_appends(
    sandbox_config: Config,
) -> None:
    cfg = replace(sandbox_config.store, keyspace="mdbc_trim")
    trimmer = CassandraStore(cfg, segment_entries=50)
    writer = CassandraStore(cfg, segment_entries=50, create=False)
    try:
        name = f"trim_{uuid.uuid4().hex[:8]}"
        trimmer.create_range(name, "dc1")
        writer.append(name, 1, [NewEntry("first", b"x")])  # caches segment 1
        for i in range(3):
            trimmer.append(name, 1, [NewEntry(f"e{i}-{j}", b"x") for j in range(50)])
        trimmer.register_site("dc1")
        trimmer.set_applied("dc1", name, 151)
        assert trimmer.trim(name) == 151
        assert writer.append(name, 1, [NewEntry("late", b"y")]) == [152]
    finally:
        trimmer.close()
        writer.close()
