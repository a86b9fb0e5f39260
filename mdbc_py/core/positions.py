"""The applied position of a site, kept in the site's own MariaDB (database ``mdbc``).

Every applied log entry leaves one row ``(range, seq, txid)`` in
``mdbc.applied``, written in the same local transaction as the entry's data.
That makes apply exactly once (a row present means the data is there) and
lets commits of one group finish in any order: the position is "everything
up to N is applied", and the rows above N say which later entries are
already in, so replay fills exactly the holes. ``compact`` folds the
contiguous prefix into ``mdbc.watermark`` to keep the table small: replay
does it after applying, and the owner's agent once per heartbeat, since
the owner's own commits add a row each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pymysql.cursors import Cursor

from mdbc_py.capture.sqlgen import KEY_LIST_SQL, key_list_param

META_DB = "mdbc"

SCHEMA = (
    f"CREATE DATABASE IF NOT EXISTS `{META_DB}` CHARACTER SET utf8mb4",
    f"CREATE TABLE IF NOT EXISTS `{META_DB}`.`applied` ("
    " `range_name` VARCHAR(48) NOT NULL,"
    " `seq` BIGINT UNSIGNED NOT NULL,"
    " `txid` VARCHAR(64) NOT NULL,"
    " `applied_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    " PRIMARY KEY (`range_name`, `seq`)"
    ") ENGINE=InnoDB",
    f"CREATE TABLE IF NOT EXISTS `{META_DB}`.`watermark` ("
    " `range_name` VARCHAR(48) NOT NULL PRIMARY KEY,"
    " `seq` BIGINT UNSIGNED NOT NULL"
    ") ENGINE=InnoDB",
    f"CREATE TABLE IF NOT EXISTS `{META_DB}`.`site_state` ("
    " `name` VARCHAR(64) NOT NULL PRIMARY KEY,"
    " `value` VARCHAR(1024) NOT NULL,"
    " `updated_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    "   ON UPDATE CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB",
)


@dataclass(frozen=True)
class Position:
    """How far a site has applied one range: all of ``1..contiguous`` plus ``above``."""

    contiguous: int
    above: frozenset[int]

    @property
    def highest(self) -> int:
        """The highest applied sequence number (holes may lie below it)."""
        return max(self.above, default=self.contiguous)

    def missing(self, upto: int) -> list[int]:
        """Sequence numbers ``<= upto`` not yet applied."""
        return [s for s in range(self.contiguous + 1, upto + 1) if s not in self.above]


def create_schema(cur: Cursor) -> None:
    """Create the ``mdbc`` database and its tables (idempotent)."""
    for statement in SCHEMA:
        cur.execute(statement)


RECORD_SQL = f"INSERT INTO `{META_DB}`.`applied` (range_name, seq, txid) VALUES (%s, %s, %s)"


def record(cur: Cursor, range_name: str, seq: int, txid: str) -> None:
    """Mark entry ``seq`` applied, inside the caller's transaction."""
    cur.execute(RECORD_SQL, (range_name, seq, txid))


def record_sql(cur: Cursor, range_name: str, seq: int, txid: str) -> str:
    """The statement of :func:`record`, ready to send in a batch."""
    return str(cur.mogrify(RECORD_SQL, (range_name, seq, txid)))


def applied_among(cur: Cursor, range_name: str, low: int, high: int) -> set[int]:
    """Which of ``low..high`` are applied; locks that key range (call inside the txn)."""
    cur.execute(f"SELECT seq FROM `{META_DB}`.`watermark` WHERE range_name = %s", (range_name,))
    row = cur.fetchone()
    mark = int(row[0]) if row else 0
    done = set(range(low, min(high, mark) + 1))
    cur.execute(
        f"SELECT seq FROM `{META_DB}`.`applied` WHERE range_name = %s AND seq BETWEEN %s AND %s "
        "FOR UPDATE",
        (range_name, low, high),
    )
    done.update(int(r[0]) for r in cur.fetchall())
    return done


def record_many(cur: Cursor, range_name: str, entries: Iterable[tuple[int, str]]) -> None:
    """Mark several entries applied, inside the caller's transaction."""
    rows = [(range_name, seq, txid) for seq, txid in entries]
    if rows:
        cur.executemany(RECORD_SQL, rows)


def is_applied(cur: Cursor, range_name: str, seq: int) -> bool:
    """True if entry ``seq`` is already applied (locks the row's gap: call inside the txn)."""
    cur.execute(
        f"SELECT 1 FROM `{META_DB}`.`watermark` WHERE range_name = %s AND seq >= %s",
        (range_name, seq),
    )
    if cur.fetchone():
        return True
    cur.execute(
        f"SELECT 1 FROM `{META_DB}`.`applied` WHERE range_name = %s AND seq = %s FOR UPDATE",
        (range_name, seq),
    )
    return cur.fetchone() is not None


def read(cur: Cursor, range_name: str) -> Position:
    """The site's position for ``range_name``."""
    return _read(cur, range_name)[1]


def _read(cur: Cursor, range_name: str) -> tuple[int, Position]:
    """The watermark of ``range_name`` and the position."""
    cur.execute(f"SELECT seq FROM `{META_DB}`.`watermark` WHERE range_name = %s", (range_name,))
    row = cur.fetchone()
    mark = int(row[0]) if row else 0
    cur.execute(
        f"SELECT seq FROM `{META_DB}`.`applied` WHERE range_name = %s AND seq > %s ORDER BY seq",
        (range_name, mark),
    )
    above = [int(r[0]) for r in cur.fetchall()]
    contiguous = mark
    rest = []
    for seq in above:
        if seq == contiguous + 1 and not rest:
            contiguous = seq
        else:
            rest.append(seq)
    return mark, Position(contiguous, frozenset(rest))


COMPACT_ROWS = 100_000
"""Rows one :func:`compact` folds at most, so that its transaction stays small."""

_DELETE_KEYS = 1_000
"""Rows one ``DELETE`` of :func:`compact` names."""

_APPLIED = f"`{META_DB}`.`applied`"
_DELETE_APPLIED_SQL = (  # no alias for the table: MariaDB then wants a current database
    f"DELETE {_APPLIED} FROM {KEY_LIST_SQL} STRAIGHT_JOIN {_APPLIED} "
    f"ON {_APPLIED}.range_name = %s AND {_APPLIED}.seq = keys_.seq"
)


def compact(cur: Cursor, range_name: str, limit: int = COMPACT_ROWS) -> int:
    """Fold the contiguous prefix into the watermark (``limit`` rows at most); return the position.

    Runs inside the caller's transaction. The folded rows are deleted by
    exact key, in a join driven by their list (locking those rows only): a
    range ``DELETE`` would also lock the gap above the prefix, where the
    owner's commits in flight insert their rows, and make them wait for
    this transaction. The returned position (everything up to it is
    applied) may be above the new watermark while more than ``limit`` rows
    wait; the next call goes on.
    """
    mark, pos = _read(cur, range_name)
    upto = min(pos.contiguous, mark + limit)
    if upto > mark:
        cur.execute(
            f"INSERT INTO `{META_DB}`.`watermark` (range_name, seq) VALUES (%s, %s) "
            "ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq))",
            (range_name, upto),
        )
        for start in range(mark + 1, upto + 1, _DELETE_KEYS):
            keys = key_list_param(range(start, min(start + _DELETE_KEYS, upto + 1)))
            cur.execute(_DELETE_APPLIED_SQL, (keys, range_name))
    return pos.contiguous


def reset(cur: Cursor, range_name: str, seq: int) -> None:
    """Set the position to exactly ``seq`` (after loading a snapshot taken at ``seq``)."""
    cur.execute(f"DELETE FROM `{META_DB}`.`applied` WHERE range_name = %s", (range_name,))
    cur.execute(
        f"REPLACE INTO `{META_DB}`.`watermark` (range_name, seq) VALUES (%s, %s)",
        (range_name, seq),
    )


def set_state(cur: Cursor, name: str, value: str) -> None:
    """Record a piece of site state (e.g. ``needs-resync``) that survives restarts."""
    cur.execute(
        f"REPLACE INTO `{META_DB}`.`site_state` (name, value) VALUES (%s, %s)", (name, value)
    )


def get_states(cur: Cursor, names: Iterable[str] | None = None) -> dict[str, str]:
    """Recorded site state, all or the named entries."""
    cur.execute(f"SELECT name, value FROM `{META_DB}`.`site_state`")
    wanted = set(names) if names is not None else None
    return {n: v for n, v in cur.fetchall() if wanted is None or n in wanted}
