"""A full resync records its progress in the site's state for the agent, then clears it."""

from __future__ import annotations

from mdbc_py.core import positions
from mdbc_py.replication.resync import PROGRESS_PREFIX, resync_site

from .conftest import Repl


def test_full_resync_records_progress_for_the_agent_and_clears_it(repl: Repl) -> None:
    repl.create_schema()
    repl.write(1, 300)
    name = PROGRESS_PREFIX + repl.name
    seen: list[str | None] = []

    def look(done: int, total: int) -> None:
        with repl.raw("dc3").cursor() as cur:  # what the site's agent reads, mid-copy
            seen.append(positions.get_states(cur, [name]).get(name))

    (result,) = resync_site(repl.cfg, repl.store, "dc3", [repl.name], full=True, progress=look)

    assert result.rows_copied > 0
    recorded = [s for s in seen if s is not None]
    assert recorded, f"no progress recorded during the copy: {seen}"
    copied, rows = (int(v) for v in recorded[-1].split())
    assert rows == result.rows_copied and 0 <= copied <= rows
    with repl.raw("dc3").cursor() as cur:
        assert positions.get_states(cur, [name]) == {}
