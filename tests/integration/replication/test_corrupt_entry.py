"""A damaged log entry stops replay at that entry, named, with everything before it applied."""

from __future__ import annotations

import pytest

from mdbc_py.music import NewEntry
from mdbc_py.replication.replay import ApplyFailedError, CorruptEntryError
from tests.integration.replication.conftest import Repl


def test_replay_stops_at_a_damaged_entry_and_says_which(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 3)
    good_tail = repl.tail()
    info = repl.store.describe_range(repl.name)
    good = repl.store.read(repl.name, good_tail, 1)[0].payload
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte: the checksum no longer holds
    (bad_seq,) = repl.store.append(repl.name, info.epoch, [NewEntry("damaged-1", bytes(damaged))])
    repl.write(100, 1)  # an entry after the damaged one

    with pytest.raises(CorruptEntryError) as caught:
        repl.catch_up("dc2")
    err = caught.value
    assert isinstance(err, ApplyFailedError)
    assert (err.range_name, err.site, err.seq, err.kind) == (repl.name, "dc2", bad_seq, "checksum")
    assert f"entry {bad_seq}" in str(err)
    with repl.raw("dc2", database=repl.name).cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM parent")
        assert cur.fetchone() == (3,), "entries before the damaged one not applied"
        cur.execute("SELECT COUNT(*) FROM parent WHERE id = 100")
        assert cur.fetchone() == (0,), "an entry after the damaged one was applied"
