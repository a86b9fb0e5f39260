"""A child process that writes through mdbc_py and dies at a chosen point of the commit.

    python -m tests.integration.driver.crash_child CONFIG RANGE TABLE before-append|after-append

``os._exit`` is the closest a test can get to ``kill -9`` at an exact line:
no cleanup, no rollback message, the server sees the connection drop.
"""

from __future__ import annotations

import json
import os
import sys

import mdbc_py
from mdbc_py.config import from_mapping
from mdbc_py.core import commit
from mdbc_py.music import GroupCommitter


def main() -> None:
    raw_cfg, range_name, table, point = sys.argv[1:5]
    cfg = from_mapping(json.loads(raw_cfg))
    if point == "before-append":
        GroupCommitter.append = lambda *a, **k: os._exit(9)  # type: ignore[method-assign]
    else:
        commit.local_commit = lambda *a, **k: os._exit(9)  # type: ignore[assignment]
    conn = mdbc_py.connect(site="dc1", config=cfg, database=range_name)
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (42, 'crash')")
    conn.commit()
    sys.exit("the commit returned: the crash point was never reached")


if __name__ == "__main__":
    main()
