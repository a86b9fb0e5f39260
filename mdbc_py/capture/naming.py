"""Names of the capture objects and of the session variables the triggers use.

Everything the capture creates starts with ``mdbc_``: the triggers
``mdbc_ai_<table>``, ``mdbc_au_<table>``, ``mdbc_ad_<table>`` in the table's
own database (MariaDB keeps a trigger beside its table), and the shadow table
``mdbc_s_<table>`` in the *stage database* ``mdbc_stage_<db>`` of that
database. The shadows live apart so that the application's database holds
only the application's tables: ``SHOW TABLES``, ORM reflection and migration
tools (SQLAlchemy, Alembic autogenerate) never see them.

MariaDB limits identifiers (database names too) to 64 characters, so a name
that would be longer is shortened to a prefix of the table (or database)
name plus a hash of the whole name. Shortened names use a different prefix
(``mdbc_sx_``, ``mdbc_aix_``, ``mdbc_stagex_``...) so that they can never
equal the unshortened name of some other table or database.

The dirty marker is a session variable listing the tables whose triggers
fired on this connection since the last collect (see ``sqlgen`` for how it
is reset without a statement of its own); each entry is the token
``\\0<db>\\0<table>\\0`` in UTF-8. Identifiers cannot contain U+0000, so a token
can only match where it was appended, and the binary comparison keeps
``Service`` and ``service`` apart.
"""

from __future__ import annotations

import enum
import hashlib
import re

__all__ = [
    "BASE_VAR",
    "DIRTY_GEN_VAR",
    "DIRTY_VAR",
    "DONE_VAR",
    "GEN_VAR",
    "MAX_IDENT",
    "REPLAY_VAR",
    "RESERVED_PREFIX",
    "SEQ_VAR",
    "SHADOW_PREFIX",
    "STAGE_PREFIX",
    "Event",
    "dirty_tables",
    "dirty_token",
    "escape_percent",
    "is_internal_table",
    "qualified",
    "quote_ident",
    "shadow_name",
    "stage_database",
    "trigger_name",
]

MAX_IDENT = 64
"""Longest table, column or trigger name MariaDB accepts (characters)."""

RESERVED_PREFIX = "mdbc_"
"""Prefix of every capture object and meta column; user tables and columns must avoid it."""

DIRTY_VAR = "@mdbc_dirty"
"""Session variable: tokens of the tables staged into during generation ``DIRTY_GEN_VAR``."""
DIRTY_GEN_VAR = "@mdbc_dirty_gen"
"""Session variable: the collect generation the dirty marker belongs to."""
GEN_VAR = "@mdbc_gen"
"""Session variable: how many collects the session has run (NULL: none)."""
SEQ_VAR = "@mdbc_seq"
"""Session variable: the last staged row's sequence number."""
BASE_VAR = "@mdbc_base"
"""Session variable: the session's first sequence number minus one (see ``sqlgen``)."""
DONE_VAR = "@mdbc_done"
"""Session variable: rows staged up to this number were collected by an earlier collect."""
REPLAY_VAR = "@mdbc_replay"
"""Session variable: set (to anything) by replay sessions, which must stage nothing."""

SHADOW_PREFIX = "mdbc_s_"
"""Prefix of a shadow table's name (in the stage database)."""
STAGE_PREFIX = "mdbc_stage_"
"""Prefix of the stage database that holds the shadows of one application database."""


class Event(enum.Enum):
    """A trigger event; the value is the letter stored in ``mdbc_op``."""

    INSERT = "I"
    UPDATE = "U"
    DELETE = "D"

    @property
    def prefix(self) -> str:
        """Name prefix of the capture trigger for this event."""
        return _TRIGGER_PREFIX[self]


_TRIGGER_PREFIX = {Event.INSERT: "mdbc_ai_", Event.UPDATE: "mdbc_au_", Event.DELETE: "mdbc_ad_"}

_HASH_CHARS = 12


def quote_ident(name: str) -> str:
    """``name`` as a backquoted identifier, embedded backquotes doubled."""
    if not name:
        raise ValueError("an identifier cannot be empty")
    return "`" + name.replace("`", "``") + "`"


def qualified(db: str, name: str) -> str:
    """```db`.`name``` with both parts quoted."""
    return f"{quote_ident(db)}.{quote_ident(name)}"


def escape_percent(sql: str) -> str:
    """Double ``%`` so PyMySQL's parameter substitution leaves identifiers intact.

    Needed whenever SQL that embeds identifiers (which may contain ``%``) is
    executed *with* parameters.
    """
    return sql.replace("%", "%%")


def _derived(prefix: str, name: str) -> str:
    """``prefix + name``, or a shortened, hashed form that fits in 64 characters."""
    full = prefix + name
    if len(full) <= MAX_IDENT:
        return full
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    # "mdbc_s_" -> "mdbc_sx_": differs from every unshortened name at one position.
    head = prefix[:-1] + "x_"
    keep = MAX_IDENT - len(head) - 1 - _HASH_CHARS
    return f"{head}{name[:keep]}_{digest}"


def shadow_name(table: str) -> str:
    """Name of the shadow table of ``table`` (in :func:`stage_database` of its database)."""
    return _derived(SHADOW_PREFIX, table)


def stage_database(db: str) -> str:
    """Name of the stage database that holds the shadow tables of database ``db``.

    One stage database per application database (``mdbc_stage_<db>``), so that
    shadows of equally named tables of two databases never meet, dropping an
    application database can take its stage database along, and privileges
    can be granted on ``mdbc_stage_%`` alone. Names longer than 64 characters
    are shortened with a hash (prefix ``mdbc_stagex_``), like table names.
    """
    return _derived(STAGE_PREFIX, db)


def trigger_name(event: Event, table: str) -> str:
    """Name of the capture trigger of ``table`` for ``event``."""
    return _derived(event.prefix, table)


def is_internal_table(table: str) -> bool:
    """True for tables of mdbc itself (``mdbc_*``), which are never captured."""
    return table.startswith(RESERVED_PREFIX)


def dirty_token(db: str, table: str) -> bytes:
    """The marker token the triggers of ``db.table`` append to the dirty variable."""
    return b"\0" + db.encode("utf-8") + b"\0" + table.encode("utf-8") + b"\0"


_TOKEN = re.compile(rb"\0([^\0]+)\0([^\0]+)\0")


def dirty_tables(marker: bytes | str | None) -> list[tuple[str, str]]:
    """The ``(db, table)`` pairs of a dirty marker, in the order they were first staged."""
    if not marker:
        return []
    if isinstance(marker, str):
        marker = marker.encode("utf-8")
    out: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(marker):
        pair = (match.group(1).decode("utf-8"), match.group(2).decode("utf-8"))
        if pair not in out:
            out.append(pair)
    return out
