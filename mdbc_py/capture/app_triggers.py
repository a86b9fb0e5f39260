"""The application's own triggers: silent during replay, so each row image is applied once.

An application trigger (``AFTER INSERT ON src ... INSERT INTO dst``) fires at
the owner, and the capture triggers stage both rows: the log entry carries
``src`` *and* ``dst``. If the same trigger fired again when a replica
replays the ``src`` row, the replica would write ``dst`` twice (a duplicate
key, a replica stalled for good) or write it with the replica's own
``NOW()``. MariaDB has no session switch that disables triggers (row-based
replication skips them only for binlog row events), so mdbc does what
trigger-based replicators do: every application trigger of a captured
table gets a guard,

    IF @mdbc_replay IS NULL THEN <the trigger's body>; END IF

which is true for every session except a replay session (see
``mdbc_py.core.apply.begin_replay``). The application sees the same
behaviour; only ``SHOW CREATE TRIGGER`` shows the guard.

Guards are added when capture is installed or regenerated (``mdbc init``,
and after every DDL that runs through the driver or is replayed), so a
trigger created through the driver is guarded at the owner and at every
replica by the same deterministic rewrite. Re-creating a trigger moves it
to the end of its (table, timing, event) group, so all application
triggers of a group are re-created in their order: their relative order
stays, and the capture trigger of an ``AFTER`` group stays first, which
keeps the staged rows in the order the writes really happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import pymysql
from pymysql.cursors import Cursor

from mdbc_py.capture.errors import CaptureError
from mdbc_py.capture.naming import REPLAY_VAR, RESERVED_PREFIX, qualified
from mdbc_py.errors import OperationalError

__all__ = [
    "GUARD_PREFIX",
    "AppTrigger",
    "TriggerGuardError",
    "guard_triggers",
    "guarded",
    "is_guarded",
]

GUARD_PREFIX = f"IF {REPLAY_VAR} IS NULL THEN"
"""How a guarded body starts (the body is one statement; this wraps it)."""


@dataclass(frozen=True, slots=True)
class AppTrigger:
    """An application trigger as ``information_schema.TRIGGERS`` describes it."""

    name: str
    table: str
    timing: str
    event: str
    order: int
    body: str
    sql_mode: str
    definer: str
    charset: str
    collation: str


class TriggerGuardError(CaptureError, OperationalError):
    """An application trigger could not be guarded (usually a missing privilege).

    Until it is, replaying a row of its table would fire it a second time at
    a replica. ``trigger`` names it as ``db.name``.
    """

    def __init__(self, trigger: str, cause: str) -> None:
        super().__init__(
            f"cannot add the replay guard to trigger {trigger} ({cause}); replicas would fire "
            "it again when they replay its table's rows. Run 'mdbc init' with an account "
            "that has TRIGGER on the database and SET USER (or SUPER) for the trigger's "
            "DEFINER, or drop the trigger"
        )
        self.trigger = trigger


def is_guarded(body: str) -> bool:
    """True if ``body`` already starts with the replay guard."""
    return body.lstrip().upper().startswith(GUARD_PREFIX.upper())


def guarded(body: str) -> str:
    """``body`` wrapped in the replay guard (unchanged if it has one)."""
    if is_guarded(body):
        return body
    inner = body.strip()
    while inner.endswith(";"):
        inner = inner[:-1].rstrip()
    return f"{GUARD_PREFIX}\n{inner};\nEND IF"


def read_app_triggers(cur: Cursor, db: str, table: str | None = None) -> list[AppTrigger]:
    """Application triggers (not ``mdbc_*``) on the tables of ``db``, in firing order."""
    sql = (
        "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, "
        "EVENT_MANIPULATION, ACTION_ORDER, ACTION_STATEMENT, SQL_MODE, DEFINER, "
        "CHARACTER_SET_CLIENT, COLLATION_CONNECTION FROM information_schema.TRIGGERS "
        "WHERE EVENT_OBJECT_SCHEMA = %s"
    )
    cur.execute(sql, (db,))
    found = [
        AppTrigger(name, tbl, timing, event, int(order), body, mode, definer, cs, coll)
        for schema, name, tbl, timing, event, order, body, mode, definer, cs, coll in cur.fetchall()
        if schema == db and not name.startswith(RESERVED_PREFIX) and table in (None, tbl)
    ]
    return sorted(found, key=lambda t: (t.table, t.timing, t.event, t.order))


def _definer_sql(definer: str) -> str:
    user, _, host = definer.rpartition("@")
    if not user:  # a role, or an unusual definer: keep the current user's rights
        return "CURRENT_USER"
    return f"{_string(user)}@{_string(host)}"


def _string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def create_sql(db: str, trg: AppTrigger) -> str:
    """``CREATE OR REPLACE`` of ``trg`` with its definer, timing and a guarded body."""
    return (
        f"CREATE OR REPLACE DEFINER = {_definer_sql(trg.definer)} TRIGGER "
        f"{qualified(db, trg.name)} {trg.timing} {trg.event} ON {qualified(db, trg.table)} "
        f"FOR EACH ROW {guarded(trg.body)}"
    )


def guard_triggers(cur: Cursor, db: str, table: str | None = None) -> list[str]:
    """Guard every unguarded application trigger of ``db`` (or of one table of it).

    Returns the names of the triggers re-created. Each is re-created with
    its own ``sql_mode`` and client character set, as MariaDB recorded them
    at creation, so its body means what it meant. A group (table, timing,
    event) whose triggers are all guarded is left alone.
    """
    triggers = read_app_triggers(cur, db, table)
    groups: dict[tuple[str, str, str], list[AppTrigger]] = {}
    for trg in triggers:
        groups.setdefault((trg.table, trg.timing, trg.event), []).append(trg)
    redone: list[str] = []
    for group in groups.values():
        if all(is_guarded(t.body) for t in group):
            continue
        for trg in group:
            _recreate(cur, db, trg)
            redone.append(trg.name)
    return redone


def _recreate(cur: Cursor, db: str, trg: AppTrigger) -> None:
    """Re-create one trigger guarded, under the ``sql_mode`` it was created with.

    The body is sent in the session's own character set (PyMySQL encodes
    the text it read), so its string literals keep their characters.
    """
    cur.execute("SELECT @@SESSION.sql_mode")
    row = cur.fetchone()
    assert row is not None
    try:
        cur.execute("SET SESSION sql_mode = %s", (trg.sql_mode,))
        cur.execute(create_sql(db, trg))
    except pymysql.err.Error as exc:
        raise TriggerGuardError(f"{db}.{trg.name}", str(exc)) from exc
    finally:
        cur.execute("SET SESSION sql_mode = %s", (row[0],))
